//! A store written by the previous release (mwcdc 0.1, `mwcdc checkpoint set` for a MariaDB
//! and a MySQL connector; committed in `tests/fixtures/release-0.1-store`) opens, reads and
//! is upgraded in place.

use mwcdc_checkpoint::{CheckpointJson, CheckpointStore, FILE_NAME};
use mwcdc_position::Position;

#[test]
fn a_store_of_the_previous_release_opens_and_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/release-0.1-store"
    );
    std::fs::copy(format!("{fixture}/{FILE_NAME}"), dir.path().join(FILE_NAME)).unwrap();
    let expected = [
        ("enwiki-cdc", "0-1-4242,1-2-7"),
        ("mysql-cdc", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-77"),
    ];
    for _reopened in 0..2 {
        let store = CheckpointStore::open(dir.path()).unwrap();
        for (name, gtid) in expected {
            let cp = store.load(name).unwrap().expect("the stored checkpoint");
            assert_eq!(cp.name, name);
            assert_eq!(cp.position, Position::parse_any(gtid).unwrap());
            assert_eq!((cp.file.as_str(), cp.pos, cp.commit_ts), ("", 0, None));
            let settings = cp.settings.clone().expect("0.1 stored the record settings");
            assert_eq!(settings["output.topic"], "{prefix}.{db}.{table}");
            let json = serde_json::to_value(CheckpointJson::from(&cp)).unwrap();
            assert_eq!(
                json["gtid"], gtid,
                "`checkpoint show` prints what 0.1 printed"
            );
        }
        // The upgraded store saves and reads as any other.
        let mut cp = store.load("enwiki-cdc").unwrap().unwrap();
        cp.position = Position::parse_any("0-1-4243,1-2-7").unwrap();
        store.save(&cp).unwrap();
        assert_eq!(store.load("enwiki-cdc").unwrap(), Some(cp.clone()));
        cp.position = Position::parse_any("0-1-4242,1-2-7").unwrap();
        store.save(&cp).unwrap();
    }
}
