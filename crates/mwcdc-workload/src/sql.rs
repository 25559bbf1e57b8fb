//! SQL text: literals (every binary value as a hex literal) and the statements the generator
//! sends.

use std::fmt::Write as _;

/// A value written into SQL text.
pub trait Lit {
    /// The SQL literal for this value.
    fn lit(&self) -> String;
}

macro_rules! number_lit {
    ($($t:ty),*) => {$(
        impl Lit for $t {
            fn lit(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
number_lit!(u8, u32, u64, i32);

impl Lit for bool {
    fn lit(&self) -> String {
        u8::from(*self).to_string()
    }
}

impl Lit for f64 {
    fn lit(&self) -> String {
        format!("{self:.12}")
    }
}

impl Lit for [u8] {
    fn lit(&self) -> String {
        hex(self)
    }
}

impl Lit for Vec<u8> {
    fn lit(&self) -> String {
        hex(self)
    }
}

impl Lit for str {
    fn lit(&self) -> String {
        hex(self.as_bytes())
    }
}

impl Lit for String {
    fn lit(&self) -> String {
        hex(self.as_bytes())
    }
}

impl<T: Lit + ?Sized> Lit for &T {
    fn lit(&self) -> String {
        (**self).lit()
    }
}

impl<T: Lit> Lit for Option<T> {
    fn lit(&self) -> String {
        self.as_ref().map_or_else(|| "NULL".to_owned(), Lit::lit)
    }
}

/// SQL `NULL`.
pub struct Null;

impl Lit for Null {
    fn lit(&self) -> String {
        "NULL".to_owned()
    }
}

/// A hex literal `X'…'` for bytes, so that no byte is ever interpreted by the SQL parser.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2 + 3);
    out.push_str("X'");
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02X}");
    }
    out.push('\'');
    out
}

/// A table name qualified by its database: `` `db`.`table` ``. The database name is
/// checked to be `[A-Za-z0-9_]+` when the run starts.
pub fn table(db: &str, name: &str) -> String {
    format!("`{db}`.`{name}`")
}

/// `(1,2,3)` for an `IN` clause.
pub fn id_list(ids: &[u64]) -> String {
    let mut out = String::with_capacity(ids.len() * 8 + 2);
    out.push('(');
    for (index, id) in ids.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&id.to_string());
    }
    out.push(')');
    out
}

/// A (multi-row) `INSERT` being built.
pub struct Insert {
    sql: String,
    rows: usize,
}

impl Insert {
    /// `INSERT INTO db.table (columns) VALUES`, rows to follow.
    pub fn new(db: &str, name: &str, columns: &[&str]) -> Self {
        Insert {
            sql: format!(
                "INSERT INTO {} ({}) VALUES ",
                table(db, name),
                columns.join(",")
            ),
            rows: 0,
        }
    }

    /// Adds one row of values, in column order.
    pub fn row(mut self, values: &[&dyn Lit]) -> Self {
        self.push(values);
        self
    }

    /// Adds one row of values, in column order (for loops).
    pub fn push(&mut self, values: &[&dyn Lit]) {
        if self.rows > 0 {
            self.sql.push(',');
        }
        self.sql.push('(');
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                self.sql.push(',');
            }
            self.sql.push_str(&value.lit());
        }
        self.sql.push(')');
        self.rows += 1;
    }

    /// The statement text.
    pub fn sql(self) -> String {
        self.sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_values_are_hex_literals() {
        assert_eq!(b"A\xff'".lit(), "X'41FF27'");
        assert_eq!("".lit(), "X''");
        assert_eq!(Some(b"ab".to_vec()).lit(), "X'6162'");
        assert_eq!(None::<Vec<u8>>.lit(), "NULL");
        assert_eq!(7u64.lit(), "7");
        assert_eq!((-3i32).lit(), "-3");
        assert_eq!(true.lit(), "1");
    }

    #[test]
    fn multi_row_insert() {
        let mut insert = Insert::new("wl_0", "t", &["a", "b"]);
        insert.push(&[&1u64, &"x"]);
        let sql = insert.row(&[&2u64, &Null]).sql();
        assert_eq!(
            sql,
            "INSERT INTO `wl_0`.`t` (a,b) VALUES (1,X'78'),(2,NULL)"
        );
        assert_eq!(id_list(&[3, 4]), "(3,4)");
    }
}
