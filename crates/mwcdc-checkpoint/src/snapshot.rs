//! A snapshot job's progress as a checkpoint records it: what the checkpoint's position
//! covers of the job, so that a restart resumes the job after the last chunk delivered.

use serde::{Deserialize, Serialize};

/// A snapshot job's progress: which tables are done and where the table being read stands.
/// The job reads its tables in sorted order, so a few cursors describe it however many
/// tables it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotProgress {
    /// The job's id, the `<job>` part of its records' ids (`initial-<UTC time it began>`
    /// for the initial snapshot, such as `initial-20261207T150000Z`).
    pub job: String,
    /// Where each lane of the job stands (one lane today).
    pub lanes: Vec<LaneCursor>,
    /// Tables whose every row is delivered.
    pub tables_done: u64,
    /// Rows delivered.
    pub rows: u64,
    /// The stream position at which the job's last chunk went out, once the job is done:
    /// the topics hold the tables as of this position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<String>,
}

impl SnapshotProgress {
    /// Whether every table of the job is delivered.
    pub fn is_done(&self) -> bool {
        self.done_at.is_some()
    }
}

/// Where one lane of a job stands: the table it reads and the last key delivered in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneCursor {
    /// The table being read, `db.table`; the tables before it (in sorted order) are done.
    pub table: String,
    /// The key of the last row delivered in `table`, one JSON value per key column in the
    /// snapshot reader's encoding; empty when no row of the table is delivered yet.
    pub after: Vec<serde_json::Value>,
}
