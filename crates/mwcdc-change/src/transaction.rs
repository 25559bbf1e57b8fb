//! The unit the pipeline carries: a transaction of row changes with the position it ends at.
//! The binlog source produces these; a snapshot producer can produce them too, and the sink and
//! checkpoint path treat both alike.

use std::sync::Arc;

use mwcdc_position::Position;

use crate::buffer::ChangeBuffer;

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
    /// For a snapshot chunk (rows a snapshot read, all [`crate::Op::Read`]), where the chunk
    /// stands in its job; `None` for a binlog transaction.
    pub snapshot: Option<SnapshotChunk>,
}

/// Where a snapshot chunk stands in its job: what the records' `source.snapshot` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotChunk {
    /// Whether the chunk is the first of its job (its first row is the job's first).
    pub first_of_job: bool,
    /// Whether the chunk is the last of its table.
    pub last_of_table: bool,
    /// Whether the chunk is the last of its job.
    pub last_of_job: bool,
}
