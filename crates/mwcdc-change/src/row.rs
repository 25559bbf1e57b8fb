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
}

impl Op {
    /// Debezium's one-letter code.
    pub fn code(self) -> &'static str {
        match self {
            Op::Create => "c",
            Op::Update => "u",
            Op::Delete => "d",
            Op::Truncate => "t",
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
    /// GTID of the transaction whose events hold the row.
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
    /// The deterministic id of this change: `<gtid>/<event>/<row>`.
    pub fn id(&self) -> String {
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
