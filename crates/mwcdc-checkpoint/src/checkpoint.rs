//! The value stored per connector.

use chrono::{DateTime, Utc};
use mwcdc_position::{Flavor, Position, PositionError};
use serde::{Deserialize, Serialize};

/// Where a connector resumes: the position after the last fully delivered transaction.
///
/// Its JSON form is `{"name","flavor","gtid","file","pos","commit_ts","updated_at","settings"}`,
/// times in RFC 3339 (`settings` absent in checkpoints written before it existed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The connector's name (the key in the store).
    pub name: String,
    /// The server family, telling how to read `gtid`.
    pub flavor: Flavor,
    /// The GTID position in its textual form (`Position`'s `Display`).
    pub gtid: String,
    /// The binlog file of the last delivered transaction (informational).
    pub file: String,
    /// The byte offset in `file` after the last delivered transaction (informational).
    pub pos: u64,
    /// The commit time of the last delivered transaction on the source, if known.
    pub commit_ts: Option<DateTime<Utc>>,
    /// When this checkpoint was written.
    pub updated_at: DateTime<Utc>,
    /// The settings that decide which records a transaction gives and their indexes (a JSON
    /// object made by the binary), as they were when the records up to here were written.
    /// `None` in stores written before mwcdc kept them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<serde_json::Value>,
}

impl Checkpoint {
    /// The GTID position, parsed according to `flavor`.
    pub fn position(&self) -> Result<Position, PositionError> {
        Position::parse(self.flavor, &self.gtid)
    }
}
