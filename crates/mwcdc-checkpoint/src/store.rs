//! The redb-backed store.

use std::path::{Path, PathBuf};

use redb::{
    Database, DatabaseError, ReadableDatabase, ReadableTable, TableDefinition, TableError,
    WriteTransaction,
};

use crate::format::{self, CURRENT, UNVERSIONED};
use crate::{Checkpoint, CheckpointError};

/// The name of the database file inside the state directory.
pub const FILE_NAME: &str = "checkpoint.redb";

/// Connector name -> its [`Checkpoint`], encoded by the store's format version.
const CHECKPOINTS: TableDefinition<&str, &[u8]> = TableDefinition::new("checkpoints");

/// The store's properties: [`FORMAT_KEY`] -> its format version ([`crate::format`]).
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// The key of the format version in [`META`].
const FORMAT_KEY: &str = "format_version";

/// The checkpoints of all connectors sharing one state directory, in `<dir>/checkpoint.redb`.
///
/// Holds an exclusive lock on the file while open.
pub struct CheckpointStore {
    db: Database,
    path: PathBuf,
}

impl std::fmt::Debug for CheckpointStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl CheckpointStore {
    /// Opens (creating it and `dir` if missing) the store of the state directory `dir`.
    ///
    /// Fails with [`CheckpointError::InUse`] while another handle, normally the running
    /// connector, has it open.
    pub fn open(dir: &Path) -> Result<Self, CheckpointError> {
        std::fs::create_dir_all(dir).map_err(|source| CheckpointError::CreateDir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(FILE_NAME);
        let db = Database::create(&path).map_err(|source| match source {
            DatabaseError::DatabaseAlreadyOpen | DatabaseError::LockProtocolMismatch => {
                CheckpointError::InUse { path: path.clone() }
            }
            source => CheckpointError::Open {
                path: path.clone(),
                source: Box::new(source),
            },
        })?;
        let store = CheckpointStore { db, path };
        store.upgrade()?;
        Ok(store)
    }

    /// Brings the store to the [`CURRENT`] format: a new store is marked with it, one of an
    /// earlier format has every checkpoint rewritten (one transaction: all or none), one of a
    /// later format is refused.
    fn upgrade(&self) -> Result<(), CheckpointError> {
        let txn = self
            .db
            .begin_write()
            .map_err(|e| self.storage("begin a write transaction")(e.into()))?;
        let version = self.version(&txn)?;
        if version == Some(CURRENT) {
            return txn
                .abort()
                .map_err(|e| self.storage("end a read of the format version")(e.into()));
        }
        if let Some(found) = version.filter(|v| *v > CURRENT) {
            // Nothing was written; the refusal is the error to report.
            let _ = txn.abort();
            return Err(CheckpointError::NewerFormat {
                path: self.path.clone(),
                found,
                supported: CURRENT,
            });
        }
        let from = version.unwrap_or(UNVERSIONED);
        {
            let mut table = txn
                .open_table(CHECKPOINTS)
                .map_err(|e| self.storage("open the checkpoints table")(e.into()))?;
            let mut stored = Vec::new();
            for entry in table
                .iter()
                .map_err(|e| self.storage("read the checkpoints")(e.into()))?
            {
                let (name, value) =
                    entry.map_err(|e| self.storage("read the checkpoints")(e.into()))?;
                stored.push((name.value().to_string(), value.value().to_vec()));
            }
            for (name, bytes) in stored {
                let checkpoint = self.decode(&name, from, &bytes)?;
                let bytes = self.encode(&checkpoint)?;
                table
                    .insert(name.as_str(), bytes.as_slice())
                    .map_err(|e| self.storage("write a checkpoint")(e.into()))?;
            }
            let mut meta = txn
                .open_table(META)
                .map_err(|e| self.storage("open the meta table")(e.into()))?;
            meta.insert(FORMAT_KEY, CURRENT)
                .map_err(|e| self.storage("write the format version")(e.into()))?;
        }
        txn.commit()
            .map_err(|e| self.storage("commit the format upgrade")(e.into()))
    }

    /// The format version the store records, `None` when it records none.
    fn version(&self, txn: &WriteTransaction) -> Result<Option<u64>, CheckpointError> {
        let meta = txn
            .open_table(META)
            .map_err(|e| self.storage("open the meta table")(e.into()))?;
        let version = meta
            .get(FORMAT_KEY)
            .map_err(|e| self.storage("read the format version")(e.into()))?
            .map(|v| v.value());
        Ok(version)
    }

    fn decode(
        &self,
        name: &str,
        version: u64,
        bytes: &[u8],
    ) -> Result<Checkpoint, CheckpointError> {
        let checkpoint =
            format::decode(version, bytes).map_err(|source| CheckpointError::Corrupt {
                name: name.to_owned(),
                path: self.path.clone(),
                source,
            })?;
        if checkpoint.name != name {
            return Err(CheckpointError::NameMismatch {
                name: name.to_owned(),
                stored: checkpoint.name,
                path: self.path.clone(),
            });
        }
        Ok(checkpoint)
    }

    fn encode(&self, checkpoint: &Checkpoint) -> Result<Vec<u8>, CheckpointError> {
        format::encode(checkpoint).map_err(|source| CheckpointError::Encode {
            name: checkpoint.name.clone(),
            source,
        })
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn storage(&self, action: &'static str) -> impl FnOnce(redb::Error) -> CheckpointError + '_ {
        move |source| CheckpointError::Storage {
            path: self.path.clone(),
            action,
            source: Box::new(source),
        }
    }

    /// The checkpoint of connector `name`, if one was saved.
    pub fn load(&self, name: &str) -> Result<Option<Checkpoint>, CheckpointError> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| self.storage("begin a read transaction")(e.into()))?;
        let table = match txn.open_table(CHECKPOINTS) {
            Ok(table) => table,
            Err(TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(self.storage("open the checkpoints table")(e.into())),
        };
        let Some(value) = table
            .get(name)
            .map_err(|e| self.storage("read a checkpoint")(e.into()))?
        else {
            return Ok(None);
        };
        self.decode(name, CURRENT, value.value()).map(Some)
    }

    /// Stores `checkpoint` under its connector name, replacing any previous one.
    ///
    /// One write transaction, committed durably (fsync) before this returns.
    pub fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        let bytes = self.encode(checkpoint)?;
        // The default durability is Durability::Immediate: commit fsyncs.
        let txn = self
            .db
            .begin_write()
            .map_err(|e| self.storage("begin a write transaction")(e.into()))?;
        {
            let mut table = txn
                .open_table(CHECKPOINTS)
                .map_err(|e| self.storage("open the checkpoints table")(e.into()))?;
            table
                .insert(checkpoint.name.as_str(), bytes.as_slice())
                .map_err(|e| self.storage("write a checkpoint")(e.into()))?;
        }
        txn.commit()
            .map_err(|e| self.storage("commit a checkpoint")(e.into()))
    }

    /// Deletes the checkpoint of connector `name`; whether there was one.
    pub fn remove(&self, name: &str) -> Result<bool, CheckpointError> {
        let txn = self
            .db
            .begin_write()
            .map_err(|e| self.storage("begin a write transaction")(e.into()))?;
        let removed = {
            let mut table = txn
                .open_table(CHECKPOINTS)
                .map_err(|e| self.storage("open the checkpoints table")(e.into()))?;
            let removed = table
                .remove(name)
                .map_err(|e| self.storage("remove a checkpoint")(e.into()))?
                .is_some();
            removed
        };
        txn.commit()
            .map_err(|e| self.storage("commit a removal")(e.into()))?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CheckpointJson;
    use chrono::{TimeZone, Utc};
    use mwcdc_position::Position;

    fn checkpoint(name: &str, gtid: &str) -> Checkpoint {
        Checkpoint {
            name: name.into(),
            position: Position::parse_any(gtid).unwrap(),
            file: "mysql-bin.000042".into(),
            pos: 1234,
            commit_ts: Some(Utc.with_ymd_and_hms(2024, 5, 1, 12, 30, 0).unwrap()),
            updated_at: Utc.with_ymd_and_hms(2024, 5, 1, 12, 30, 1).unwrap(),
            settings: Some(serde_json::json!({"rows": true})),
            snapshot: None,
        }
    }

    /// Writes `bytes` as the raw stored value of `name` in a store of format `version`
    /// (`None`: none recorded, as mwcdc 0.1 wrote them), bypassing validation.
    fn write_raw(dir: &Path, version: Option<u64>, name: &str, bytes: &[u8]) {
        let db = Database::create(dir.join(FILE_NAME)).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut table = txn.open_table(CHECKPOINTS).unwrap();
            table.insert(name, bytes).unwrap();
            if let Some(version) = version {
                txn.open_table(META)
                    .unwrap()
                    .insert(FORMAT_KEY, version)
                    .unwrap();
            }
        }
        txn.commit().unwrap();
    }

    #[test]
    fn json_has_exactly_the_documented_fields() {
        let cp = checkpoint("orders", "0-1-42");
        let json = serde_json::to_value(CheckpointJson::from(&cp)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "name": "orders",
                "flavor": "mariadb",
                "gtid": "0-1-42",
                "file": "mysql-bin.000042",
                "pos": 1234,
                "commit_ts": "2024-05-01T12:30:00Z",
                "updated_at": "2024-05-01T12:30:01Z",
                "settings": {"rows": true},
            })
        );
        let back: CheckpointJson = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(Checkpoint::try_from(back).unwrap(), cp);
        // A checkpoint written before settings were kept still reads.
        let mut old = json;
        old.as_object_mut().unwrap().remove("settings");
        let back: CheckpointJson = serde_json::from_value(old).unwrap();
        assert_eq!(Checkpoint::try_from(back).unwrap().settings, None);
        let none = Checkpoint {
            commit_ts: None,
            ..cp
        };
        assert_eq!(
            serde_json::to_value(CheckpointJson::from(&none)).unwrap()["commit_ts"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn the_json_position_parses_with_its_flavor() {
        let json = |flavor: &str, gtid: &str| -> CheckpointJson {
            serde_json::from_value(serde_json::json!({"name": "orders", "flavor": flavor,
                "gtid": gtid, "file": "", "pos": 0, "commit_ts": null,
                "updated_at": "2024-05-01T12:30:01Z"}))
            .unwrap()
        };
        let cp = Checkpoint::try_from(json("mariadb", "0-1-42,1-2-7")).unwrap();
        assert_eq!(cp.position, Position::parse_any("0-1-42,1-2-7").unwrap());
        assert!(Checkpoint::try_from(json("mysql", "0-1-42")).is_err());
    }

    #[test]
    fn load_from_a_new_store_is_none_and_creates_the_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state").join("nested");
        let store = CheckpointStore::open(&dir).unwrap();
        assert_eq!(store.path(), dir.join("checkpoint.redb"));
        assert!(store.path().exists());
        assert_eq!(store.load("orders").unwrap(), None);
    }

    #[test]
    fn save_load_round_trip_across_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let cp = checkpoint("orders", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5");
        {
            let store = CheckpointStore::open(tmp.path()).unwrap();
            store.save(&cp).unwrap();
            assert_eq!(store.load("orders").unwrap(), Some(cp.clone()));
        }
        let store = CheckpointStore::open(tmp.path()).unwrap();
        assert_eq!(store.load("orders").unwrap(), Some(cp.clone()));

        let later = Checkpoint {
            position: Position::parse_any("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9").unwrap(),
            pos: 9999,
            ..cp
        };
        store.save(&later).unwrap();
        drop(store);
        let store = CheckpointStore::open(tmp.path()).unwrap();
        assert_eq!(store.load("orders").unwrap(), Some(later));
    }

    #[test]
    fn two_connectors_share_one_file() {
        let tmp = tempfile::tempdir().unwrap();
        let a = checkpoint("a", "0-1-5");
        let b = checkpoint("b", "0-1-9,1-1-1");
        {
            let store = CheckpointStore::open(tmp.path()).unwrap();
            store.save(&a).unwrap();
            store.save(&b).unwrap();
        }
        let store = CheckpointStore::open(tmp.path()).unwrap();
        assert_eq!(store.load("a").unwrap(), Some(a));
        assert_eq!(store.load("b").unwrap(), Some(b));
        assert_eq!(store.load("c").unwrap(), None);
    }

    #[test]
    fn remove_deletes_one_connector() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(tmp.path()).unwrap();
        assert!(!store.remove("a").unwrap(), "nothing to remove yet");
        store.save(&checkpoint("a", "0-1-5")).unwrap();
        store.save(&checkpoint("b", "0-1-6")).unwrap();
        assert!(store.remove("a").unwrap());
        assert!(!store.remove("a").unwrap());
        drop(store);
        let store = CheckpointStore::open(tmp.path()).unwrap();
        assert_eq!(store.load("a").unwrap(), None);
        assert!(store.load("b").unwrap().is_some());
    }

    #[test]
    fn corrupted_value_is_an_error_naming_connector_and_file() {
        let tmp = tempfile::tempdir().unwrap();
        write_raw(tmp.path(), Some(CURRENT), "orders", b"{not json");
        let store = CheckpointStore::open(tmp.path()).unwrap();
        let err = store.load("orders").unwrap_err();
        assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("\"orders\""), "{msg}");
        assert!(msg.contains(&store.path().display().to_string()), "{msg}");
    }

    #[test]
    fn a_stored_position_that_does_not_parse_for_its_flavor_is_corrupt() {
        let tmp = tempfile::tempdir().unwrap();
        let mut json: serde_json::Value =
            serde_json::from_slice(&format::encode(&checkpoint("orders", "0-1-5")).unwrap())
                .unwrap();
        json["position"] = serde_json::json!({"mysql": "0-1-5"});
        write_raw(
            tmp.path(),
            Some(CURRENT),
            "orders",
            json.to_string().as_bytes(),
        );
        let store = CheckpointStore::open(tmp.path()).unwrap();
        let err = store.load("orders").unwrap_err();
        assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err:?}");
    }

    #[test]
    fn a_version_2_store_is_upgraded_and_a_snapshot_progress_is_kept_with_the_position() {
        let tmp = tempfile::tempdir().unwrap();
        let cp = checkpoint("orders", "0-1-42");
        // Version 2 wrote exactly the fields of version 3 but `snapshot`.
        let v2 = format::encode(&cp).unwrap();
        assert!(!String::from_utf8_lossy(&v2).contains("snapshot"));
        write_raw(tmp.path(), Some(2), "orders", &v2);
        let store = CheckpointStore::open(tmp.path()).unwrap();
        assert_eq!(store.load("orders").unwrap(), Some(cp.clone()));
        let with_job = Checkpoint {
            snapshot: Some(crate::SnapshotProgress {
                job: "initial".into(),
                lanes: vec![crate::LaneCursor {
                    table: "enwiki.user_groups".into(),
                    after: vec![serde_json::json!(7), serde_json::json!({"hex": "626f74"})],
                }],
                tables_done: 3,
                rows: 12_345,
                done_at: None,
            }),
            ..cp
        };
        store.save(&with_job).unwrap();
        assert_eq!(store.load("orders").unwrap(), Some(with_job));
    }

    #[test]
    fn value_under_another_name_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let bytes = format::encode(&checkpoint("b", "0-1-5")).unwrap();
        write_raw(tmp.path(), Some(CURRENT), "a", &bytes);
        let store = CheckpointStore::open(tmp.path()).unwrap();
        let err = store.load("a").unwrap_err();
        assert!(
            matches!(err, CheckpointError::NameMismatch { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn an_unversioned_store_is_upgraded_in_place_and_a_corrupt_one_is_left_as_it_was() {
        let tmp = tempfile::tempdir().unwrap();
        let cp = checkpoint("orders", "0-1-42,1-2-7");
        let v1 = serde_json::to_vec(&CheckpointJson::from(&cp)).unwrap();
        write_raw(tmp.path(), None, "orders", &v1);
        {
            let store = CheckpointStore::open(tmp.path()).unwrap();
            assert_eq!(store.load("orders").unwrap(), Some(cp.clone()));
        }
        let db = Database::create(tmp.path().join(FILE_NAME)).unwrap();
        let txn = db.begin_read().unwrap();
        let version = txn.open_table(META).unwrap().get(FORMAT_KEY).unwrap();
        assert_eq!(version.map(|v| v.value()), Some(CURRENT));
        let stored = txn.open_table(CHECKPOINTS).unwrap().get("orders").unwrap();
        assert_eq!(
            stored.map(|v| v.value().to_vec()),
            Some(format::encode(&cp).unwrap())
        );
        drop(txn);
        drop(db);

        let bad = tempfile::tempdir().unwrap();
        write_raw(bad.path(), None, "orders", b"{\"name\": \"orders\"}");
        let err = CheckpointStore::open(bad.path()).unwrap_err();
        assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err:?}");
        let db = Database::create(bad.path().join(FILE_NAME)).unwrap();
        let txn = db.begin_read().unwrap();
        assert!(
            txn.open_table(META).is_err(),
            "a failed upgrade records no version"
        );
    }

    #[test]
    fn a_store_of_a_newer_format_is_refused_naming_both_versions() {
        let tmp = tempfile::tempdir().unwrap();
        write_raw(tmp.path(), Some(CURRENT + 1), "orders", b"from the future");
        let err = CheckpointStore::open(tmp.path()).unwrap_err();
        assert!(
            matches!(err, CheckpointError::NewerFormat { found, supported, .. }
                if found == CURRENT + 1 && supported == CURRENT),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("format version {}", CURRENT + 1)),
            "{msg}"
        );
        assert!(msg.contains(&format!("up to {CURRENT}")), "{msg}");
    }

    #[test]
    fn second_open_while_open_says_the_connector_holds_it() {
        let tmp = tempfile::tempdir().unwrap();
        let first = CheckpointStore::open(tmp.path()).unwrap();
        let err = CheckpointStore::open(tmp.path()).unwrap_err();
        assert!(matches!(err, CheckpointError::InUse { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("another mwcdc process"), "{msg}");
        assert!(msg.contains("checkpoint set"), "{msg}");
        assert!(msg.contains(&first.path().display().to_string()), "{msg}");
        drop(first);
        // released on drop
        CheckpointStore::open(tmp.path()).unwrap();
    }

    #[test]
    fn unwritable_state_dir_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        let err = CheckpointStore::open(&file.join("state")).unwrap_err();
        assert!(matches!(err, CheckpointError::CreateDir { .. }), "{err:?}");
    }
}
