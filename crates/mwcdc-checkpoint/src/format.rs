//! How the store encodes a checkpoint, by format version. The store records its version; a
//! store of an earlier version is upgraded in place when opened, one of a later version is
//! refused. A new field of a checkpoint comes with a new version and its upgrade here.
//!
//! - 1 (mwcdc 0.1; stores without a version): the JSON of [`CheckpointJson`], the flavor and
//!   the GTID as two strings.
//! - 2: the position as one typed value, `{"position":{"mariadb":"0-1-42"}, ...}`, checked
//!   when read.
//! - 3: as 2, with the snapshot job's progress, `"snapshot":{...}` ([`SnapshotProgress`]),
//!   absent when no job has started; a store of version 2 reads as version 3 without one.

use chrono::{DateTime, Utc};
use mwcdc_position::{Flavor, Position};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::checkpoint::{Checkpoint, CheckpointJson};
use crate::snapshot::SnapshotProgress;

/// The version this build writes.
pub const CURRENT: u64 = 3;

/// The version of a store written before versions were recorded.
pub const UNVERSIONED: u64 = 1;

/// A checkpoint as formats 2 and 3 store it (2 never has `snapshot`).
#[derive(Serialize, Deserialize)]
struct Stored {
    name: String,
    position: StoredPosition,
    file: String,
    pos: u64,
    commit_ts: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    settings: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    snapshot: Option<SnapshotProgress>,
}

/// A position tagged with its flavor, parsed when read.
struct StoredPosition(Position);

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum TaggedGtid {
    MariaDb(String),
    MySql(String),
}

impl Serialize for StoredPosition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.0.to_string();
        match self.0.flavor() {
            Flavor::MariaDb => TaggedGtid::MariaDb(text),
            Flavor::MySql => TaggedGtid::MySql(text),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for StoredPosition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (flavor, text) = match TaggedGtid::deserialize(d)? {
            TaggedGtid::MariaDb(text) => (Flavor::MariaDb, text),
            TaggedGtid::MySql(text) => (Flavor::MySql, text),
        };
        Position::parse(flavor, &text)
            .map(StoredPosition)
            .map_err(serde::de::Error::custom)
    }
}

/// The bytes format [`CURRENT`] stores for `checkpoint`.
pub fn encode(checkpoint: &Checkpoint) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Stored {
        name: checkpoint.name.clone(),
        position: StoredPosition(checkpoint.position.clone()),
        file: checkpoint.file.clone(),
        pos: checkpoint.pos,
        commit_ts: checkpoint.commit_ts,
        updated_at: checkpoint.updated_at,
        settings: checkpoint.settings.clone(),
        snapshot: checkpoint.snapshot.clone(),
    })
}

/// The checkpoint in `bytes` stored by format `version` (1, 2 or [`CURRENT`]).
pub fn decode(version: u64, bytes: &[u8]) -> Result<Checkpoint, serde_json::Error> {
    if version == UNVERSIONED {
        let json: CheckpointJson = serde_json::from_slice(bytes)?;
        return Checkpoint::try_from(json).map_err(serde::de::Error::custom);
    }
    let stored: Stored = serde_json::from_slice(bytes)?;
    Ok(Checkpoint {
        name: stored.name,
        position: stored.position.0,
        file: stored.file,
        pos: stored.pos,
        commit_ts: stored.commit_ts,
        updated_at: stored.updated_at,
        settings: stored.settings,
        snapshot: stored.snapshot,
    })
}
