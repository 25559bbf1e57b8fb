//! One row change and the table it belongs to.

use std::sync::{Arc, OnceLock};

use mwcdc_binlog::Value;

/// What happened to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Inserted (`"c"`).
    Create,
    /// Updated (`"u"`).
    Update,
    /// Deleted (`"d"`).
    Delete,
    /// The whole table was truncated (`"t"`).
    Truncate,
    /// Read by a snapshot, as the row was at the chunk's read position (`"r"`).
    Read,
}

impl Op {
    /// Debezium's one-letter code.
    pub fn code(self) -> &'static str {
        match self {
            Op::Create => "c",
            Op::Update => "u",
            Op::Delete => "d",
            Op::Truncate => "t",
            Op::Read => "r",
        }
    }
}

/// What the records of a table need to know about it. Made by [`TableSchema::new`]; the fields
/// are for reading.
#[derive(Debug, Clone)]
pub struct TableSchema {
    /// Database name.
    pub db: String,
    /// Table name.
    pub table: String,
    /// Column names in table order.
    pub columns: Vec<String>,
    /// Indexes of the key columns (primary key, else a unique key without NULLs); empty for
    /// a table without either, whose records get a null key.
    pub key: Vec<usize>,
    /// Each column's name as the record encoder renders it, rendered once per table rather
    /// than once per record (see [`TableSchema::rendered_names`]).
    rendered_names: OnceLock<Box<[Box<[u8]>]>>,
}

impl TableSchema {
    /// The schema of `db`.`table` with these columns, the key columns given by index.
    pub fn new(db: String, table: String, columns: Vec<String>, key: Vec<usize>) -> Self {
        Self {
            db,
            table,
            columns,
            key,
            rendered_names: OnceLock::new(),
        }
    }

    /// Each column's name as `render` writes it, in column order, rendered on the first call
    /// and kept with the table. One renderer serves the whole process (the record encoders'
    /// JSON object keys, `mwcdc_record::json_names`): the first call's rendering is the one
    /// kept.
    pub fn rendered_names(&self, render: fn(&str) -> Box<[u8]>) -> &[Box<[u8]>] {
        self.rendered_names
            .get_or_init(|| self.columns.iter().map(|name| render(name)).collect())
    }
}

/// Schemas are equal when they describe the same table: the rendered names are a cache.
impl PartialEq for TableSchema {
    fn eq(&self, other: &Self) -> bool {
        (&self.db, &self.table, &self.columns, &self.key)
            == (&other.db, &other.table, &other.columns, &other.key)
    }
}

impl Eq for TableSchema {}

/// One row change, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct RowChange {
    /// The table the row belongs to.
    pub table: Arc<TableSchema>,
    /// The operation.
    pub op: Op,
    /// The row before (updates, deletes).
    pub before: Option<Vec<Value>>,
    /// The row after (inserts, updates).
    pub after: Option<Vec<Value>>,
    /// GTID of the transaction whose events hold the row; for a row a snapshot read
    /// ([`Op::Read`]), the prefix of its id, `snapshot/<job>/<db>.<table>`.
    pub gtid: Arc<str>,
    /// Index of the rows event within its transaction, counting every rows event.
    pub event_index: u32,
    /// Index of the row within its rows event.
    pub row_index: u32,
    /// Binlog file of the rows event.
    pub file: Arc<str>,
    /// Start position of the rows event in that file.
    pub pos: u64,
    /// Server id from the event header.
    pub server_id: u32,
    /// Event timestamp, seconds since the epoch.
    pub ts_sec: u32,
}

impl RowChange {
    /// For a row a snapshot read ([`Op::Read`]), its key as a JSON array in the cursor's
    /// encoding ([`crate::cursor`]): where the row stands in its table's reading order.
    pub fn snapshot_key(&self) -> Option<String> {
        if self.op != Op::Read {
            return None;
        }
        let row = self.after.as_deref().unwrap_or_default();
        let mut key = String::with_capacity(24);
        crate::cursor::write_json(
            self.table
                .key
                .iter()
                .map(|&i| row.get(i).unwrap_or(&Value::Null)),
            &mut key,
        );
        Some(key)
    }

    /// The deterministic id of this change: `<gtid>/<event>/<row>`; for a row a snapshot read,
    /// `snapshot/<job>/<db>.<table>/<key>` ([`key_text`] of its key), the same whenever the
    /// job reads the row again.
    pub fn id(&self) -> String {
        if self.op == Op::Read {
            let mut id = String::with_capacity(self.gtid.len() + 24);
            id.push_str(&self.gtid);
            id.push('/');
            let row = self.after.as_deref().unwrap_or_default();
            key_text(
                self.table
                    .key
                    .iter()
                    .map(|&i| row.get(i).unwrap_or(&Value::Null)),
                &mut id,
            );
            return id;
        }
        let mut digits = itoa::Buffer::new();
        let mut id = String::with_capacity(self.gtid.len() + 24);
        id.push_str(&self.gtid);
        id.push('/');
        id.push_str(digits.format(self.event_index));
        id.push('/');
        id.push_str(digits.format(self.row_index));
        id
    }
}

/// Appends a key's values as text: numbers in decimal, text as it is, bytes as text when they
/// are UTF-8 and as `0x` and hex digits otherwise, NULL as `null`, several values joined by
/// commas. `%`, `/` and `,` inside a value are written `%25`, `%2F` and `%2C`, so that two
/// different keys never give the same text.
pub fn key_text<'a>(values: impl IntoIterator<Item = &'a Value>, out: &mut String) {
    for (n, value) in values.into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let bytes = match value {
            Value::Null => {
                out.push_str("null");
                continue;
            }
            Value::Int(v) => {
                out.push_str(itoa::Buffer::new().format(*v));
                continue;
            }
            Value::UInt(v) => {
                out.push_str(itoa::Buffer::new().format(*v));
                continue;
            }
            Value::Float(v) => {
                escaped(&v.to_string(), out);
                continue;
            }
            Value::Double(v) => {
                escaped(&v.to_string(), out);
                continue;
            }
            Value::Decimal(s) | Value::Text(s) | Value::Temporal(s) => {
                escaped(s, out);
                continue;
            }
            Value::Json(v) => {
                escaped(&v.to_string(), out);
                continue;
            }
            Value::Bytes(b) | Value::UndecodedText(b) => b,
        };
        match std::str::from_utf8(bytes) {
            Ok(s) if !s.starts_with("0x") => escaped(s, out),
            _ => {
                out.push_str("0x");
                for b in bytes {
                    out.push_str(&format!("{b:02x}"));
                }
            }
        }
    }
}

/// Appends `s` with `%`, `/` and `,` percent-encoded.
fn escaped(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            ',' => out.push_str("%2C"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(values: &[Value]) -> String {
        let mut out = String::new();
        key_text(values, &mut out);
        out
    }

    #[test]
    fn key_texts_are_readable_and_never_ambiguous() {
        assert_eq!(text(&[Value::UInt(u64::MAX)]), "18446744073709551615");
        assert_eq!(text(&[Value::Int(-5)]), "-5");
        assert_eq!(
            text(&[Value::UInt(7), Value::Bytes(b"sysop".to_vec())]),
            "7,sysop"
        );
        assert_eq!(text(&[Value::Bytes(vec![0xff, 0x00])]), "0xff00");
        // A value that reads like hex is written as hex, so it cannot meet the bytes above.
        assert_eq!(text(&[Value::Bytes(b"0xff00".to_vec())]), "0x307866663030");
        assert_ne!(
            text(&[Value::Text("a,b".into())]),
            text(&[Value::Text("a".into()), Value::Text("b".into())])
        );
        assert_eq!(text(&[Value::Text("a/b%".into())]), "a%2Fb%25");
        assert_eq!(text(&[Value::Null]), "null");
    }

    #[test]
    fn a_read_row_has_the_id_of_its_key() {
        let table = Arc::new(TableSchema::new(
            "enwiki".into(),
            "user_groups".into(),
            vec!["ug_user".into(), "ug_group".into(), "ug_expiry".into()],
            vec![0, 1],
        ));
        let change = RowChange {
            table,
            op: Op::Read,
            before: None,
            after: Some(vec![
                Value::UInt(3),
                Value::Bytes(b"bot".to_vec()),
                Value::Null,
            ]),
            gtid: "snapshot/initial/enwiki.user_groups".into(),
            event_index: 9,
            row_index: 4,
            file: "bin.000001".into(),
            pos: 4,
            server_id: 1,
            ts_sec: 0,
        };
        assert_eq!(change.id(), "snapshot/initial/enwiki.user_groups/3,bot");
    }
}
