//! The unit the pipeline carries: a transaction of row changes with the position it ends at.
//! The binlog source produces these; a snapshot producer can produce them too, and the sink and
//! checkpoint path treat both alike.

use std::sync::Arc;

use mwcdc_binlog::Value;
use mwcdc_position::Position;

use crate::buffer::ChangeBuffer;
use crate::json::write_str;

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

/// What the records of a table need to know about it. Made by [`TableSchema::new`], which
/// also renders the column names as JSON; the fields are for reading.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Each column's name as JSON (`"rev_id":`, name and colon), written once per table
    /// rather than once per record.
    json_names: Vec<Box<[u8]>>,
}

impl TableSchema {
    /// The schema of `db`.`table` with these columns, the key columns given by index.
    pub fn new(db: String, table: String, columns: Vec<String>, key: Vec<usize>) -> Self {
        let json_names = columns
            .iter()
            .map(|name| {
                let mut json = Vec::with_capacity(name.len() + 3);
                write_str(&mut json, name);
                json.push(b':');
                json.into_boxed_slice()
            })
            .collect();
        Self {
            db,
            table,
            columns,
            key,
            json_names,
        }
    }

    /// Each column's name as JSON followed by a colon, ready to precede its value, in column
    /// order.
    pub fn json_names(&self) -> &[Box<[u8]>] {
        &self.json_names
    }
}

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

/// How a transaction relates to an XA transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XaStep {
    /// `XA PREPARE`: its rows are held until the outcome is known; the checkpoint must not
    /// pass this transaction until then.
    Prepare(String),
    /// `XA COMMIT` (the prepared rows come with it) or `XA ROLLBACK` (no rows) of the XID.
    Resolve(String),
}

/// One committed transaction (or XA step) in binlog order.
#[derive(Debug, PartialEq)]
pub struct Transaction {
    /// The transaction's GTID.
    pub gtid: Arc<str>,
    /// The replication position once this transaction is applied.
    pub position: Position,
    /// Binlog file of the commit event.
    pub file: Arc<str>,
    /// Position just after the commit event.
    pub end_pos: u64,
    /// Commit time from the binlog, seconds since the epoch.
    pub commit_ts: u32,
    /// The captured row changes, in binlog order (empty when the filter kept none).
    pub changes: ChangeBuffer,
    /// The XA step this transaction is, if any.
    pub xa: Option<XaStep>,
}
