//! The redb-backed store.

use std::path::{Path, PathBuf};

use redb::{Database, DatabaseError, ReadableDatabase, TableDefinition, TableError};

use crate::{Checkpoint, CheckpointError};

/// The name of the database file inside the state directory.
pub const FILE_NAME: &str = "checkpoint.redb";

/// Connector name -> JSON of its [`Checkpoint`].
const CHECKPOINTS: TableDefinition<&str, &[u8]> = TableDefinition::new("checkpoints");

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
        Ok(CheckpointStore { db, path })
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
        let checkpoint: Checkpoint =
            serde_json::from_slice(value.value()).map_err(|source| CheckpointError::Corrupt {
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
        Ok(Some(checkpoint))
    }

    /// Stores `checkpoint` under its connector name, replacing any previous one.
    ///
    /// One write transaction, committed durably (fsync) before this returns. Refuses a
    /// checkpoint whose `gtid` does not parse for its `flavor`.
    pub fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        checkpoint
            .position()
            .map_err(|source| CheckpointError::InvalidPosition {
                name: checkpoint.name.clone(),
                source,
            })?;
        let json = serde_json::to_vec(checkpoint).map_err(|source| CheckpointError::Encode {
            name: checkpoint.name.clone(),
            source,
        })?;
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
                .insert(checkpoint.name.as_str(), json.as_slice())
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
    use chrono::{TimeZone, Utc};
    use mwcdc_position::{Flavor, Position};

    fn checkpoint(name: &str, flavor: Flavor, gtid: &str) -> Checkpoint {
        Checkpoint {
            name: name.into(),
            flavor,
            gtid: gtid.into(),
            file: "mysql-bin.000042".into(),
            pos: 1234,
            commit_ts: Some(Utc.with_ymd_and_hms(2024, 5, 1, 12, 30, 0).unwrap()),
            updated_at: Utc.with_ymd_and_hms(2024, 5, 1, 12, 30, 1).unwrap(),
            settings: Some(serde_json::json!({"rows": true})),
        }
    }

    /// Writes `bytes` as the raw stored value of `name`, bypassing validation.
    fn write_raw(dir: &Path, name: &str, bytes: &[u8]) {
        let db = Database::create(dir.join(FILE_NAME)).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut table = txn.open_table(CHECKPOINTS).unwrap();
            table.insert(name, bytes).unwrap();
        }
        txn.commit().unwrap();
    }

    #[test]
    fn json_has_exactly_the_documented_fields() {
        let cp = checkpoint("orders", Flavor::MariaDb, "0-1-42");
        let json = serde_json::to_value(&cp).unwrap();
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
        let back: Checkpoint = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, cp);
        // A checkpoint written before settings were kept still reads.
        let mut old = json;
        old.as_object_mut().unwrap().remove("settings");
        let back: Checkpoint = serde_json::from_value(old).unwrap();
        assert_eq!(back.settings, None);
        let none = Checkpoint {
            commit_ts: None,
            ..cp
        };
        assert_eq!(
            serde_json::to_value(&none).unwrap()["commit_ts"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn position_parses_with_the_flavor() {
        let cp = checkpoint("orders", Flavor::MariaDb, "0-1-42,1-2-7");
        assert_eq!(
            cp.position().unwrap(),
            Position::parse_any("0-1-42,1-2-7").unwrap()
        );
        let bad = checkpoint("orders", Flavor::MySql, "0-1-42");
        assert!(bad.position().is_err());
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
        let cp = checkpoint(
            "orders",
            Flavor::MySql,
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5",
        );
        {
            let store = CheckpointStore::open(tmp.path()).unwrap();
            store.save(&cp).unwrap();
            assert_eq!(store.load("orders").unwrap(), Some(cp.clone()));
        }
        let store = CheckpointStore::open(tmp.path()).unwrap();
        assert_eq!(store.load("orders").unwrap(), Some(cp.clone()));

        let later = Checkpoint {
            gtid: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9".into(),
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
        let a = checkpoint("a", Flavor::MariaDb, "0-1-5");
        let b = checkpoint("b", Flavor::MariaDb, "0-1-9,1-1-1");
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
        store
            .save(&checkpoint("a", Flavor::MariaDb, "0-1-5"))
            .unwrap();
        store
            .save(&checkpoint("b", Flavor::MariaDb, "0-1-6"))
            .unwrap();
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
        write_raw(tmp.path(), "orders", b"{not json");
        let store = CheckpointStore::open(tmp.path()).unwrap();
        let err = store.load("orders").unwrap_err();
        assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("\"orders\""), "{msg}");
        assert!(msg.contains(&store.path().display().to_string()), "{msg}");
    }

    #[test]
    fn value_under_another_name_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let json = serde_json::to_vec(&checkpoint("b", Flavor::MariaDb, "0-1-5")).unwrap();
        write_raw(tmp.path(), "a", &json);
        let store = CheckpointStore::open(tmp.path()).unwrap();
        let err = store.load("a").unwrap_err();
        assert!(
            matches!(err, CheckpointError::NameMismatch { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn save_refuses_an_invalid_position() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(tmp.path()).unwrap();
        let err = store
            .save(&checkpoint("a", Flavor::MariaDb, "0-1-x"))
            .unwrap_err();
        assert!(
            matches!(err, CheckpointError::InvalidPosition { .. }),
            "{err:?}"
        );
        assert_eq!(store.load("a").unwrap(), None);
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
