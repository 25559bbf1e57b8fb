//! The value stored per connector.

use chrono::{DateTime, Utc};
use mwcdc_position::{Flavor, Position, PositionError};
use serde::{Deserialize, Serialize};

use crate::snapshot::SnapshotProgress;

/// Where a connector resumes: the position after the last fully delivered transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The connector's name (the key in the store).
    pub name: String,
    /// The GTID position after the last delivered transaction.
    pub position: Position,
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
    pub settings: Option<serde_json::Value>,
    /// The snapshot job's progress as of this position, if a job has started.
    pub snapshot: Option<SnapshotProgress>,
}

/// A checkpoint as `mwcdc checkpoint show` prints it, and as stores of format 1 hold it:
/// `{"name","flavor","gtid","file","pos","commit_ts","updated_at","settings","snapshot"}`,
/// times in RFC 3339, `settings` and `snapshot` absent when there are none.
#[derive(Debug, Serialize, Deserialize)]
pub struct CheckpointJson {
    name: String,
    flavor: Flavor,
    gtid: String,
    file: String,
    pos: u64,
    commit_ts: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    settings: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    snapshot: Option<SnapshotProgress>,
}

impl From<&Checkpoint> for CheckpointJson {
    fn from(c: &Checkpoint) -> Self {
        CheckpointJson {
            name: c.name.clone(),
            flavor: c.position.flavor(),
            gtid: c.position.to_string(),
            file: c.file.clone(),
            pos: c.pos,
            commit_ts: c.commit_ts,
            updated_at: c.updated_at,
            settings: c.settings.clone(),
            snapshot: c.snapshot.clone(),
        }
    }
}

impl TryFrom<CheckpointJson> for Checkpoint {
    type Error = PositionError;

    /// Fails when the GTID does not parse for the flavor.
    fn try_from(c: CheckpointJson) -> Result<Self, PositionError> {
        Ok(Checkpoint {
            position: Position::parse(c.flavor, &c.gtid)?,
            name: c.name,
            file: c.file,
            pos: c.pos,
            commit_ts: c.commit_ts,
            updated_at: c.updated_at,
            settings: c.settings,
            snapshot: c.snapshot,
        })
    }
}
