//! Each entity action from the row changes MediaWiki writes for it, through the public API.

mod fixtures;

use std::sync::Arc;

use fixtures::*;
use mwcdc_binlog::Value;
use mwcdc_change::{ChangeBuffer, RowChange, SpillPolicy, TableSchema, Transaction};
use mwcdc_record::BinaryMode;
use mwcdc_test_support::schemas;
use serde_json::{json, Value as Json};

/// (topic, key, id, value) of every entity record, with `captured` as the table filter: the
/// transaction holds only the rows of captured tables, as the source gives them.
fn records_with(
    txn: &Transaction,
    captured: &'static [&'static str],
) -> Vec<(String, String, String, Json)> {
    records_in(txn, captured, BinaryMode::Utf8)
}

/// As [`records_with`], with `output.binary = binary`.
fn records_in(
    txn: &Transaction,
    captured: &'static [&'static str],
    binary: BinaryMode,
) -> Vec<(String, String, String, Json)> {
    let kept: Vec<RowChange> = txn
        .changes
        .to_vec()
        .unwrap()
        .into_iter()
        .filter(|c| captured.contains(&c.table.table.as_str()))
        .collect();
    let filtered;
    let txn = if kept.len() == txn.changes.len() {
        txn
    } else {
        filtered = Txn {
            changes: Vec::new(),
        }
        .build(kept.into());
        &filtered
    };
    encoder(captured, binary)
        .records(txn)
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            let value: Json =
                serde_json::from_slice(r.value.as_ref().unwrap()).unwrap_or_else(|e| {
                    panic!(
                        "{e}: {}",
                        String::from_utf8_lossy(r.value.as_ref().unwrap())
                    )
                });
            assert_eq!(value["id"], json!(r.id));
            schemas::validate_entity(&value);
            (
                r.topic.to_string(),
                String::from_utf8(r.key.unwrap()).unwrap(),
                r.id,
                value,
            )
        })
        .collect()
}

/// `rights/rights` params: `bot` added, no expiry.
const BOT_ADDED: &[u8] = b"a:4:{s:12:\"4::oldgroups\";a:0:{}s:12:\"5::newgroups\";a:1:{i:0;s:3:\"bot\";}s:11:\"oldmetadata\";a:0:{}s:11:\"newmetadata\";a:1:{i:0;a:1:{s:6:\"expiry\";N;}}}";

const ALL: &[&str] = &["revision", "archive", "logging", "page", "user_groups"];
const DEFAULT: &[&str] = &["revision", "archive", "logging"];

fn records(txn: &Transaction) -> Vec<(String, String, String, Json)> {
    records_with(txn, ALL)
}

fn summary(records: &[(String, String, String, Json)]) -> Vec<(String, String, String)> {
    records
        .iter()
        .map(|(_, key, _, v)| {
            (
                v["entity"].as_str().unwrap().to_string(),
                v["action"].as_str().unwrap().to_string(),
                key.clone(),
            )
        })
        .collect()
}

fn s(e: &str, a: &str, k: &str) -> (String, String, String) {
    (e.into(), a.into(), k.into())
}

#[test]
fn page_creation_is_a_revision_a_page_and_a_log_entry() {
    let t = tables();
    let txn = Txn::new()
        .insert(&t.page, page(5, 0, "Zürich".as_bytes(), 0, 0))
        .insert(&t.revision, revision(100, 5, "20261126080000", 0))
        .update(
            &t.page,
            page(5, 0, "Zürich".as_bytes(), 0, 0),
            page(5, 0, "Zürich".as_bytes(), 0, 100),
        )
        .insert(
            &t.logging,
            log(
                70,
                "create",
                "create",
                "Zürich",
                5,
                b"a:1:{s:17:\"associated_rev_id\";i:100;}",
            ),
        )
        .transaction();
    let recs = records(&txn);
    assert_eq!(
        summary(&recs),
        vec![
            s("revision", "create", "enwiki:100"),
            s("page", "create", "enwiki:5"),
            s("log", "create", "enwiki:70"),
        ]
    );
    let (topic, _, id, page) = &recs[1];
    assert_eq!(topic, "mw.entity.page");
    assert_eq!(
        id, "0-1-9/2/0/page",
        "at the row with the page's final state"
    );
    assert_eq!(
        page["data"]["page_latest"], 100,
        "the page as the transaction leaves it"
    );
    assert_eq!(page["data"]["page_title"], "Zürich");
    assert_eq!(page["log"]["log_id"], 70);
    assert_eq!(page["tables"], json!(["page", "logging"]));
    assert_eq!(
        page["entity_ts"], "2026-11-26T08:00:00Z",
        "the log row's timestamp"
    );
    let rev = &recs[0].3;
    assert_eq!(rev["key"], json!({"rev_id": 100}));
    assert_eq!(rev["wiki"], WIKI);
    assert_eq!(rev["gtid"], "0-1-9");
    assert_eq!(rev["data"]["visibility"]["text"], false);
    assert_eq!(rev["prior"], Json::Null);
    let log = &recs[2].3;
    assert_eq!(log["data"]["log_params"], json!({"associated_rev_id": 100}));
    assert_eq!(recs[2].0, "mw.entity.log");
}

#[test]
fn page_deletion_archives_revisions_and_deletes_the_page() {
    let t = tables();
    let txn = Txn::new()
        .insert(&t.archive, archive(1, 100, 5, "20200101000000", 0))
        .insert(&t.archive, archive(2, 101, 5, "20210101000000", 15))
        .delete(&t.revision, revision(100, 5, "20200101000000", 0))
        .delete(&t.revision, revision(101, 5, "20210101000000", 1))
        .delete(&t.page, page(5, 0, b"Gone", 0, 101))
        .insert(
            &t.logging,
            log(71, "delete", "delete", "Gone", 5, b"a:0:{}"),
        )
        .transaction();
    let recs = records(&txn);
    assert_eq!(
        summary(&recs),
        vec![
            s("revision", "archive", "enwiki:100"),
            s("revision", "archive", "enwiki:101"),
            s("page", "delete", "enwiki:5"),
            s("log", "create", "enwiki:71"),
        ]
    );
    let first = &recs[0].3;
    assert_eq!(first["entity_ts"], "2020-01-01T00:00:00Z");
    assert_eq!(first["data"]["ar_id"], 1);
    assert_eq!(
        first["prior"],
        json!({"rev_deleted": 0, "visibility": {"text": false, "comment": false, "user": false, "restricted": false}})
    );
    assert_eq!(first["tables"], json!(["archive", "revision"]));
    let suppressed = &recs[1].3;
    assert_eq!(
        suppressed["data"]["ar_deleted"], 15,
        "a suppressing deletion carries the new bits"
    );
    assert_eq!(suppressed["data"]["visibility"]["restricted"], true);
    assert_eq!(suppressed["prior"]["rev_deleted"], 1);
    let page = &recs[2].3;
    assert_eq!(page["data"]["page_title"], "Gone");
    assert_eq!(page["log"]["log_type"], "delete");
}

#[test]
fn undeletion_restores_into_the_past() {
    let t = tables();
    let txn = Txn::new()
        .insert(&t.page, page(5, 0, b"Back", 0, 0))
        .insert(&t.revision, revision(100, 5, "20200101000000", 0))
        .insert(&t.revision, revision(101, 5, "20210101000000", 0))
        .delete(&t.archive, archive(1, 100, 5, "20200101000000", 0))
        .delete(&t.archive, archive(2, 101, 5, "20210101000000", 0))
        .update(
            &t.page,
            page(5, 0, b"Back", 0, 0),
            page(5, 0, b"Back", 0, 101),
        )
        .insert(
            &t.logging,
            log(
                72,
                "delete",
                "restore",
                "Back",
                5,
                b"a:1:{s:12:\":assoc:count\";a:2:{s:9:\"revisions\";i:2;s:5:\"files\";i:0;}}",
            ),
        )
        .transaction();
    let recs = records(&txn);
    assert_eq!(
        summary(&recs),
        vec![
            s("revision", "restore", "enwiki:100"),
            s("revision", "restore", "enwiki:101"),
            s("page", "undelete", "enwiki:5"),
            s("log", "create", "enwiki:72"),
        ]
    );
    assert_eq!(recs[2].3["data"]["restored_revisions"], 2);
    assert_eq!(
        recs[2].3["data"]["page_latest"], 101,
        "the page as the transaction leaves it"
    );
    assert_eq!(
        recs[0].3["entity_ts"], "2020-01-01T00:00:00Z",
        "the revision's own time"
    );
    assert_eq!(recs[0].3["prior"]["ar_id"], 1);
    assert_eq!(
        recs[0].3["id"], "0-1-9/1/0/revision",
        "anchored at the revision row"
    );
    // Without page rows or the count in the log, the restored revisions are counted.
    let recs = records_with(&txn, DEFAULT);
    let undelete = recs.iter().find(|r| r.3["entity"] == "page").unwrap();
    assert_eq!(undelete.3["action"], "undelete");
    assert_eq!(undelete.3["tables"], json!(["logging"]));
    assert_eq!(undelete.3["data"]["restored_revisions"], 2);
}

#[test]
fn revision_deletion_changes_visibility() {
    let t = tables();
    let params = b"a:4:{s:7:\"4::type\";s:8:\"revision\";s:6:\"5::ids\";a:1:{i:0;s:3:\"100\";}s:9:\"6::ofield\";i:0;s:9:\"7::nfield\";i:3;}";
    let txn = Txn::new()
        .update(
            &t.revision,
            revision(100, 5, "20200101000000", 0),
            revision(100, 5, "20200101000000", 3),
        )
        .insert(&t.logging, log(73, "delete", "revision", "Page", 5, params))
        .transaction();
    let recs = records(&txn);
    assert_eq!(
        summary(&recs),
        vec![
            s("revision", "visibility_change", "enwiki:100"),
            s("log", "create", "enwiki:73")
        ]
    );
    let v = &recs[0].3;
    assert_eq!(
        v["data"]["visibility"],
        json!({"text": true, "comment": true, "user": false, "restricted": false})
    );
    assert_eq!(v["prior"]["rev_deleted"], 0);
    assert_eq!(v["prior"]["visibility"]["text"], false);
    assert_eq!(v["changed"], json!(["rev_deleted"]));
    assert_eq!(v["tables"], json!(["revision", "logging"]));
    assert_eq!(v["log"]["log_id"], 73, "enriched with the log row");
    // Revision table not captured: from the log row alone.
    let recs = records_with(&txn, &["logging"]);
    assert_eq!(
        summary(&recs),
        vec![
            s("log", "create", "enwiki:73"),
            s("revision", "visibility_change", "enwiki:100")
        ]
    );
    assert_eq!(
        recs[1].3["data"],
        json!({"rev_id": 100,
               "visibility_added": {"text": true, "comment": true, "user": false, "restricted": false},
               "visibility_removed": {"text": false, "comment": false, "user": false, "restricted": false}})
    );
    assert_eq!(
        recs[1].3["prior"],
        Json::Null,
        "the bits before are not known"
    );
    assert_eq!(recs[1].2, "0-1-9/1/0/revision");
}

/// PHP `serialize()` of a string.
fn php(s: &str) -> String {
    format!("s:{}:\"{}\";", s.len(), s)
}

/// `delete/revision` params: `type`, ids, and the bits removed (`6::ofield`) and added
/// (`7::nfield`).
fn revdel_params(kind: &str, ids: &[&str], removed: u8, added: u8) -> Vec<u8> {
    let count = ids.len();
    let ids: String = ids
        .iter()
        .enumerate()
        .map(|(i, id)| format!("i:{i};{}", php(id)))
        .collect();
    format!(
        "a:4:{{{}{}{}a:{count}:{{{ids}}}{}i:{removed};{}i:{added};}}",
        php("4::type"),
        php(kind),
        php("5::ids"),
        php("6::ofield"),
        php("7::nfield")
    )
    .into_bytes()
}

#[test]
fn visibility_from_the_log_alone_carries_the_bits_added_and_removed() {
    let t = tables();
    // Revision 100 goes from 1 (text hidden) to 7: the request added comment and user.
    // Revision 101 goes from 0 to 6 in the same request. The log row says: removed 0, added 6.
    let params = revdel_params("revision", &["100", "101"], 0, 6);
    let txn = Txn::new()
        .update(
            &t.revision,
            revision(100, 5, "20200101000000", 1),
            revision(100, 5, "20200101000000", 7),
        )
        .update(
            &t.revision,
            revision(101, 5, "20200102000000", 0),
            revision(101, 5, "20200102000000", 6),
        )
        .insert(
            &t.logging,
            log(73, "delete", "revision", "Page", 5, &params),
        )
        .transaction();
    let recs = records(&txn);
    assert_eq!(recs[0].3["data"]["rev_deleted"], 7, "from the row: exact");
    assert_eq!(recs[0].3["prior"]["rev_deleted"], 1);
    let recs = records_with(&txn, &["logging"]);
    let revs: Vec<&Json> = recs
        .iter()
        .filter(|r| r.3["entity"] == "revision")
        .map(|r| &r.3)
        .collect();
    assert_eq!(revs.len(), 2);
    for (rev, id) in revs.iter().zip([100, 101]) {
        assert_eq!(rev["key"]["rev_id"], id);
        assert_eq!(
            rev["data"]["visibility_added"],
            json!({"text": false, "comment": true, "user": true, "restricted": false})
        );
        assert_eq!(rev["data"]["visibility_removed"]["text"], false);
        assert!(
            rev["data"].get("rev_deleted").is_none() && rev["data"].get("visibility").is_none(),
            "no claim about the whole bit field: {rev}"
        );
    }
}

#[test]
fn revision_deletion_of_archived_revisions_by_timestamp() {
    let t = tables();
    // RevDelArchiveItem: the log names the archived revisions by ar_timestamp, under the
    // page's title (the fixtures' archive rows are of 0:Gone).
    let params = revdel_params("archive", &["20190501100000"], 0, 1);
    let txn = Txn::new()
        .update(
            &t.archive,
            archive(17, 1234, 55, "20190501100000", 0),
            archive(17, 1234, 55, "20190501100000", 1),
        )
        .update(
            &t.archive,
            archive(18, 1235, 56, "20190501100000", 0),
            archive(18, 1235, 56, "20190501100000", 0),
        )
        .insert(
            &t.logging,
            log(90, "delete", "revision", "Gone", 0, &params),
        )
        .transaction();
    let recs = records(&txn);
    assert_eq!(
        summary(&recs),
        vec![
            s("revision", "visibility_change", "enwiki:1234"),
            s("log", "create", "enwiki:90")
        ]
    );
    assert_eq!(recs[0].3["tables"], json!(["archive", "logging"]));
    assert_eq!(recs[0].3["log"]["log_id"], 90);
    assert_eq!(recs[0].3["data"]["visibility"]["text"], true);
    // Another title with the same timestamp is not matched.
    let txn = Txn::new()
        .update(
            &t.archive,
            archive(17, 1234, 55, "20190501100000", 0),
            archive(17, 1234, 55, "20190501100000", 1),
        )
        .insert(
            &t.logging,
            log(91, "delete", "revision", "Other", 0, &params),
        )
        .transaction();
    let recs = records(&txn);
    assert_eq!(recs[0].3["log"], Json::Null);
    assert_eq!(recs[0].3["tables"], json!(["archive"]));
    // Without the archive table the timestamps identify no revision: the log record only.
    let recs = records_with(&txn, &["revision", "logging"]);
    assert_eq!(summary(&recs), vec![s("log", "create", "enwiki:91")]);
    let recs = records_with(&txn, &["logging"]);
    assert_eq!(summary(&recs), vec![s("log", "create", "enwiki:91")]);
}

#[test]
fn an_archived_revision_reached_by_rev_id_gives_one_record_in_every_mode() {
    let t = tables();
    // RevDelRevisionList falls back to the archive row of rev 1234 (RevDelArchivedRevisionItem)
    // under a `4::type = revision` log row; revision 100 is live.
    let params = revdel_params("revision", &["100", "1234"], 0, 1);
    let txn = Txn::new()
        .update(
            &t.revision,
            revision(100, 5, "20200101000000", 0),
            revision(100, 5, "20200101000000", 1),
        )
        .update(
            &t.archive,
            archive(17, 1234, 55, "20190501100000", 0),
            archive(17, 1234, 55, "20190501100000", 1),
        )
        .insert(
            &t.logging,
            log(92, "delete", "revision", "Page", 5, &params),
        )
        .transaction();
    let revisions = |captured: &'static [&'static str]| -> Vec<(String, Json)> {
        records_with(&txn, captured)
            .into_iter()
            .filter(|r| r.3["entity"] == "revision")
            .map(|r| (r.1, r.3["tables"].clone()))
            .collect()
    };
    let both = |tables_100: Json, tables_1234: Json| {
        vec![
            ("enwiki:100".to_string(), tables_100),
            ("enwiki:1234".to_string(), tables_1234),
        ]
    };
    assert_eq!(
        revisions(ALL),
        both(
            json!(["revision", "logging"]),
            json!(["archive", "logging"])
        )
    );
    assert_eq!(
        revisions(&["archive", "logging"]),
        vec![
            ("enwiki:1234".to_string(), json!(["archive", "logging"])),
            ("enwiki:100".to_string(), json!(["logging"])),
        ],
        "the archived one from its row, the live one from the log"
    );
    assert_eq!(
        revisions(&["revision", "logging"]),
        both(json!(["revision", "logging"]), json!(["logging"]))
    );
    assert_eq!(
        revisions(&["logging"]),
        both(json!(["logging"]), json!(["logging"]))
    );
}

#[test]
fn a_block_that_hides_a_user_name_changes_the_visibility_of_their_rows() {
    let t = tables();
    // RevisionDeleteUser ORs bit 4 into rev_deleted, ar_deleted and log_deleted of the
    // user's rows; the only log row is the block's.
    let params = format!(
        "a:2:{{{}{}{}{}}}",
        php("5::duration"),
        php("infinity"),
        php("6::flags"),
        php("nocreate,hiddenname")
    );
    let mut old_log = log(60, "create", "create", "Page", 5, b"a:0:{}");
    let mut hidden_log = old_log.clone();
    old_log[10] = u(0);
    hidden_log[10] = u(4);
    let txn = Txn::new()
        .update(
            &t.revision,
            revision(100, 5, "20200101000000", 1),
            revision(100, 5, "20200101000000", 5),
        )
        .update(
            &t.archive,
            archive(17, 1234, 55, "20190501100000", 0),
            archive(17, 1234, 55, "20190501100000", 4),
        )
        .update(&t.logging, old_log, hidden_log)
        .insert(
            &t.logging,
            log(93, "suppress", "block", "Vandal", 0, params.as_bytes()),
        )
        .transaction();
    let recs = records(&txn);
    assert_eq!(
        summary(&recs),
        vec![
            s("revision", "visibility_change", "enwiki:100"),
            s("revision", "visibility_change", "enwiki:1234"),
            s("log", "update", "enwiki:60"),
            s("log", "create", "enwiki:93"),
        ]
    );
    assert_eq!(recs[0].3["data"]["visibility"]["user"], true);
    assert_eq!(
        recs[0].3["log"]["log_id"], 93,
        "the block that hid the name"
    );
    assert_eq!(recs[1].3["log"]["log_type"], "suppress");
    // Logging alone: the block and the hidden log entry; no revision ids to name.
    let recs = records_with(&txn, &["logging"]);
    assert_eq!(
        summary(&recs),
        vec![
            s("log", "update", "enwiki:60"),
            s("log", "create", "enwiki:93")
        ]
    );
}

#[test]
fn purge_delete_and_update_of_revisions() {
    let t = tables();
    let mut longer = revision(101, 5, "20200101000000", 0);
    longer[7] = u(99);
    let txn = Txn::new()
        .delete(&t.archive, archive(1, 100, 5, "20200101000000", 0))
        .delete(&t.revision, revision(102, 5, "20200101000000", 0))
        .update(&t.revision, revision(101, 5, "20200101000000", 0), longer)
        .transaction();
    let recs = records(&txn);
    assert_eq!(
        summary(&recs),
        vec![
            s("revision", "purge", "enwiki:100"),
            s("revision", "delete", "enwiki:102"),
            s("revision", "update", "enwiki:101"),
        ]
    );
    assert_eq!(recs[0].3["data"]["ar_id"], 1);
    assert_eq!(recs[2].3["changed"], json!(["rev_len"]));
    assert_eq!(recs[2].3["prior"], json!({"rev_len": 10}));
    assert_eq!(recs[2].3["data"]["rev_len"], 99);
}

#[test]
fn page_move_with_a_redirect_left_behind() {
    let t = tables();
    let params = b"a:2:{s:9:\"4::target\";s:9:\"Talk:New_\";s:10:\"5::noredir\";s:1:\"0\";}";
    let old_title = [b'O', b'l', b'd', 0xff];
    let txn = Txn::new()
        .update(
            &t.page,
            page(5, 0, &old_title, 0, 100),
            page(5, 1, b"New_", 0, 100),
        )
        .insert(&t.revision, revision(101, 5, "20261126080000", 0))
        .update(
            &t.page,
            page(5, 1, b"New_", 0, 100),
            page(5, 1, b"New_", 0, 101),
        )
        .insert(&t.page, page(6, 0, &old_title, 0, 0))
        .insert(&t.revision, revision(102, 6, "20261126080000", 0))
        .update(
            &t.page,
            page(6, 0, &old_title, 0, 0),
            page(6, 0, &old_title, 1, 102),
        )
        .insert(&t.logging, log(74, "move", "move", "Old", 5, params))
        .transaction();
    let recs = records(&txn);
    assert_eq!(
        summary(&recs),
        vec![
            s("revision", "create", "enwiki:101"),
            s("page", "move", "enwiki:5"),
            s("revision", "create", "enwiki:102"),
            s("page", "create", "enwiki:6"),
            s("log", "create", "enwiki:74"),
        ]
    );
    let m = &recs[1].3;
    assert_eq!(m["data"]["page_latest"], 101);
    assert_eq!(m["data"]["page_namespace"], 1);
    assert_eq!(m["data"]["page_title"], "New_");
    assert_eq!(
        m["prior"],
        json!({"page_namespace": 0, "page_title": {"base64": "T2xk/w=="}})
    );
    assert_eq!(m["log"]["log_params"]["4::target"], "Talk:New_");
    let redirect = &recs[3].3;
    assert_eq!(redirect["data"]["page_is_redirect"], 1);
    assert_eq!(
        redirect["log"],
        Json::Null,
        "no log row: only from the page rows"
    );
    assert_eq!(
        redirect["entity_ts"], "2026-11-26T08:00:00Z",
        "the commit time"
    );
    // From the log row alone, the new title is the prefixed text.
    let recs = records_with(&txn, DEFAULT);
    let m = recs.iter().find(|r| r.3["entity"] == "page").unwrap();
    assert_eq!(m.3["action"], "move");
    assert_eq!(m.3["data"]["title_text"], "Talk:New_");
    assert_eq!(
        m.3["prior"],
        json!({"page_namespace": 0, "page_title": "Old"})
    );
    assert_eq!(recs.iter().filter(|r| r.3["entity"] == "page").count(), 1);
}

#[test]
fn redirect_change_only_from_page_rows() {
    let t = tables();
    let txn = Txn::new()
        .insert(&t.revision, revision(101, 5, "20261126080000", 0))
        .update(&t.page, page(5, 0, b"P", 0, 100), page(5, 0, b"P", 1, 101))
        .update(&t.page, page(7, 0, b"Q", 0, 100), page(7, 0, b"Q", 0, 102))
        .transaction();
    let recs = records(&txn);
    assert_eq!(
        summary(&recs),
        vec![
            s("revision", "create", "enwiki:101"),
            s("page", "redirect_change", "enwiki:5")
        ]
    );
    assert_eq!(recs[1].3["prior"], json!({"page_is_redirect": 0}));
    assert!(records_with(&txn, DEFAULT)
        .iter()
        .all(|r| r.3["entity"] == "revision"));
}

#[test]
fn user_group_changes_from_rows_and_from_the_log() {
    let t = tables();
    let params = b"a:4:{s:12:\"4::oldgroups\";a:1:{i:0;s:5:\"sysop\";}s:12:\"5::newgroups\";a:1:{i:0;s:3:\"bot\";}s:11:\"oldmetadata\";a:1:{i:0;a:1:{s:6:\"expiry\";N;}}s:11:\"newmetadata\";a:1:{i:0;a:1:{s:6:\"expiry\";s:14:\"20270101000000\";}}}";
    let txn = Txn::new()
        .insert(&t.user_groups, vec![u(9), b("bot"), b("20270101000000")])
        .delete(&t.user_groups, vec![u(9), b("sysop"), Value::Null])
        .insert(
            &t.logging,
            log(75, "rights", "rights", "Some_user", 0, params),
        )
        .transaction();
    let recs = records(&txn);
    assert_eq!(
        summary(&recs),
        vec![
            s("user_group", "add", "enwiki:9:bot"),
            s("user_group", "remove", "enwiki:9:sysop"),
            s("log", "create", "enwiki:75"),
        ]
    );
    assert_eq!(recs[0].3["data"]["ug_expiry"], "20270101000000");
    assert_eq!(recs[0].3["data"]["user_name"], "Some_user");
    assert_eq!(recs[0].3["log"]["log_id"], 75);
    assert_eq!(recs[0].3["key"], json!({"ug_user": 9, "ug_group": "bot"}));
    // user_groups not captured: from the log row, keyed by name.
    let recs = records_with(&txn, DEFAULT);
    assert_eq!(
        summary(&recs),
        vec![
            s("log", "create", "enwiki:75"),
            s("user_group", "add", "enwiki:Some_user:bot"),
            s("user_group", "remove", "enwiki:Some_user:sysop"),
        ]
    );
    assert_eq!(recs[1].2, "0-1-9/2/0/user_group");
    assert_eq!(
        recs[2].2, "0-1-9/2/0/user_group/1",
        "distinct ids from one log row"
    );
    assert_eq!(recs[1].3["data"]["ug_expiry"], "20270101000000");
    // Expiry change, for a user on another wiki: that wiki is named.
    let params = b"a:4:{s:12:\"4::oldgroups\";a:1:{i:0;s:3:\"bot\";}s:12:\"5::newgroups\";a:1:{i:0;s:3:\"bot\";}s:11:\"oldmetadata\";a:1:{i:0;a:1:{s:6:\"expiry\";N;}}s:11:\"newmetadata\";a:1:{i:0;a:1:{s:6:\"expiry\";s:14:\"20280101000000\";}}}";
    let txn = Txn::new()
        .insert(
            &t.logging,
            log(76, "rights", "rights", "Other@dewiki", 0, params),
        )
        .transaction();
    let recs = records(&txn);
    assert_eq!(
        summary(&recs),
        vec![
            s("log", "create", "enwiki:76"),
            s("user_group", "expiry_change", "dewiki:Other:bot")
        ]
    );
    assert_eq!(recs[1].3["wiki"], WIKI);
    assert_eq!(recs[1].3["data"]["user_wiki"], "dewiki");
    assert_eq!(recs[1].3["prior"], json!({"ug_expiry": null}));
    // Expiry change from the row.
    let txn = Txn::new()
        .update(
            &t.user_groups,
            vec![u(9), b("bot"), Value::Null],
            vec![u(9), b("bot"), b("20280101000000")],
        )
        .transaction();
    let recs = records(&txn);
    assert_eq!(
        summary(&recs),
        vec![s("user_group", "expiry_change", "enwiki:9:bot")]
    );
    assert_eq!(recs[0].3["prior"], json!({"ug_expiry": null}));
}

#[test]
fn page_changes_from_log_rows_alone() {
    let t = tables();
    let txn = Txn::new()
        .insert(
            &t.logging,
            log(77, "create", "create", "Fresh", 8, b"a:0:{}"),
        )
        .insert(
            &t.logging,
            log(78, "suppress", "delete", "Bad", 9, b"a:0:{}"),
        )
        .transaction();
    let recs = records_with(&txn, DEFAULT);
    assert_eq!(
        summary(&recs),
        vec![
            s("log", "create", "enwiki:77"),
            s("page", "create", "enwiki:8"),
            s("log", "create", "enwiki:78"),
            s("page", "delete", "enwiki:9"),
        ]
    );
    assert_eq!(
        recs[1].3["data"],
        json!({"page_id": 8, "page_namespace": 0, "page_title": "Fresh"})
    );
}

#[test]
fn log_params_legacy_and_undecodable_are_kept_and_flagged() {
    let t = tables();
    let txn = Txn::new()
        .insert(&t.logging, log(79, "move", "move", "A", 1, b"New_title\n1"))
        .insert(&t.logging, log(80, "x", "y", "A", 1, b"a:0:{}trailing"))
        .transaction();
    let recs = records_with(&txn, &["logging"]);
    let legacy = &recs[0].3["data"];
    assert_eq!(legacy["log_params"], json!(["New_title", "1"]));
    assert_eq!(legacy["log_params_legacy"], true);
    let raw = &recs.iter().find(|r| r.3["key"]["log_id"] == 80).unwrap().3["data"];
    assert_eq!(raw["log_params"], "a:0:{}trailing");
    assert_eq!(raw["log_params_undecoded"], true);
}

#[test]
fn a_spilled_transaction_gives_the_same_records() {
    let t = tables();
    let mut txn = Txn::new();
    for i in 0..500 {
        txn = txn
            .insert(&t.archive, archive(i + 1, 1000 + i, 5, "20200101000000", 0))
            .delete(&t.revision, revision(1000 + i, 5, "20200101000000", 0));
    }
    let in_memory = txn.changes.clone();
    let dir = tempfile::tempdir().unwrap();
    let mut spilled = ChangeBuffer::new(Arc::new(SpillPolicy::new(4096, dir.path().into())));
    for c in &in_memory {
        spilled.push(c.clone()).unwrap();
    }
    assert!(spilled.spilled_bytes() > 0);
    let expected = records(&txn.transaction());
    assert_eq!(expected.len(), 500);
    assert!(expected.iter().all(|r| r.3["action"] == "archive"));
    let again = records(
        &Txn {
            changes: Vec::new(),
        }
        .build(spilled),
    );
    assert_eq!(again, expected);
}

#[test]
fn a_table_without_the_needed_columns_gives_no_entities() {
    let odd = Arc::new(TableSchema::new(
        WIKI.into(),
        "revision".into(),
        vec!["id".into(), "text".into()],
        vec![0],
    ));
    let txn = Txn::new().insert(&odd, vec![u(1), b("x")]).transaction();
    assert!(records(&txn).is_empty());
}

#[test]
fn the_binary_mode_changes_how_records_look_not_what_they_say() {
    let t = tables();
    let revdel = b"a:4:{s:7:\"4::type\";s:8:\"revision\";s:6:\"5::ids\";a:1:{i:0;s:3:\"100\";}s:9:\"6::ofield\";i:0;s:9:\"7::nfield\";i:3;}";
    let rights = BOT_ADDED;
    let txn = Txn::new()
        .insert(&t.logging, log(73, "delete", "revision", "Page", 5, revdel))
        .insert(
            &t.logging,
            log(75, "rights", "rights", "Some_user", 0, rights),
        )
        .transaction();
    for binary in [BinaryMode::Utf8, BinaryMode::Base64, BinaryMode::Hex] {
        let recs = records_in(&txn, &["logging"], binary);
        assert_eq!(
            summary(&recs),
            vec![
                s("log", "create", "enwiki:73"),
                s("revision", "visibility_change", "enwiki:100"),
                s("log", "create", "enwiki:75"),
                s("user_group", "add", "enwiki:Some_user:bot"),
            ],
            "{binary:?}"
        );
    }
    let recs = records_in(&txn, &["logging"], BinaryMode::Hex);
    assert_eq!(
        recs[3].3["data"]["ug_group"], "626f74",
        "bytes follow the mode"
    );
    assert_eq!(
        recs[0].3["data"]["log_params"]["4::type"],
        "7265766973696f6e"
    );
}

#[test]
fn a_group_row_is_enriched_only_by_the_log_row_that_records_it() {
    let t = tables();
    let added = |user: &str| {
        log(
            if user == "Alice" { 80 } else { 81 },
            "rights",
            "rights",
            user,
            0,
            BOT_ADDED,
        )
    };
    // Two users added to one group in one transaction: which row is whose cannot be known.
    let txn = Txn::new()
        .insert(&t.user_groups, vec![u(1), b("bot"), Value::Null])
        .insert(&t.logging, added("Alice"))
        .insert(&t.user_groups, vec![u(2), b("bot"), Value::Null])
        .insert(&t.logging, added("Bob"))
        .transaction();
    let recs = records(&txn);
    let groups: Vec<&Json> = recs
        .iter()
        .filter(|r| r.3["entity"] == "user_group")
        .map(|r| &r.3)
        .collect();
    assert_eq!(groups.len(), 2);
    assert!(groups
        .iter()
        .all(|g| g["log"].is_null() && g["data"].get("user_name").is_none()));
    // One user: the row gets its log row.
    let txn = Txn::new()
        .insert(&t.user_groups, vec![u(1), b("bot"), Value::Null])
        .insert(&t.logging, added("Alice"))
        .transaction();
    let recs = records(&txn);
    assert_eq!(recs[0].3["log"]["log_id"], 80);
    assert_eq!(recs[0].3["data"]["user_name"], "Alice");
}

#[test]
fn re_adding_an_expired_membership_is_an_addition() {
    let t = tables();
    // MediaWiki updates the expiry of an expired row it finds (INSERT IGNORE did nothing).
    let params = BOT_ADDED;
    let txn = Txn::new()
        .update(
            &t.user_groups,
            vec![u(9), b("bot"), b("20200101000000")],
            vec![u(9), b("bot"), Value::Null],
        )
        .insert(
            &t.logging,
            log(82, "rights", "rights", "Some_user", 0, params),
        )
        .transaction();
    let recs = records(&txn);
    assert_eq!(summary(&recs)[0], s("user_group", "add", "enwiki:9:bot"));
    assert_eq!(recs[0].3["log"]["log_id"], 82);
}

#[test]
fn names_that_are_not_utf8_keep_their_bytes() {
    let t = tables();
    let params = BOT_ADDED;
    let mut row = log(83, "rights", "rights", "x", 0, params);
    row[6] = Value::Bytes(b"Al\xe9x\\".to_vec());
    let txn = Txn::new().insert(&t.logging, row).transaction();
    let recs = records_with(&txn, &["logging"]);
    let group = &recs[1];
    assert_eq!(
        group.1, "enwiki:Al\\xe9x\\\\:bot",
        "invalid bytes escaped, backslash doubled"
    );
    assert_eq!(group.3["data"]["user_name"], json!({"base64": "QWzpeFw="}));
}

#[test]
fn a_page_created_and_deleted_in_one_transaction() {
    let t = tables();
    let txn = Txn::new()
        .insert(&t.page, page(9, 0, b"Brief", 0, 0))
        .insert(
            &t.logging,
            log(84, "create", "create", "Brief", 9, b"a:0:{}"),
        )
        .delete(&t.page, page(9, 0, b"Brief", 0, 0))
        .insert(
            &t.logging,
            log(85, "delete", "delete", "Brief", 9, b"a:0:{}"),
        )
        .transaction();
    let recs = records(&txn);
    let pages: Vec<_> = summary(&recs)
        .into_iter()
        .filter(|r| r.0 == "page")
        .collect();
    assert_eq!(
        pages,
        vec![
            s("page", "create", "enwiki:9"),
            s("page", "delete", "enwiki:9")
        ]
    );
    let page_recs: Vec<&Json> = recs
        .iter()
        .filter(|r| r.3["entity"] == "page")
        .map(|r| &r.3)
        .collect();
    assert_eq!(page_recs[0]["log"]["log_id"], 84);
    assert_eq!(page_recs[1]["log"]["log_id"], 85);
    assert_eq!(page_recs[1]["data"]["page_title"], "Brief");
    // Only the deletion logged: the creation still comes from the rows.
    let txn = Txn::new()
        .insert(&t.page, page(9, 0, b"Brief", 0, 0))
        .delete(&t.page, page(9, 0, b"Brief", 0, 0))
        .insert(
            &t.logging,
            log(85, "delete", "delete", "Brief", 9, b"a:0:{}"),
        )
        .transaction();
    let pages: Vec<_> = summary(&records(&txn))
        .into_iter()
        .filter(|r| r.0 == "page")
        .collect();
    assert_eq!(
        pages,
        vec![
            s("page", "create", "enwiki:9"),
            s("page", "delete", "enwiki:9")
        ]
    );
}

#[test]
fn a_log_update_shows_its_old_parameters_decoded() {
    let t = tables();
    let mut after = log(
        86,
        "move",
        "move",
        "A",
        1,
        b"a:1:{s:9:\"4::target\";s:1:\"B\";}",
    );
    after[10] = u(1);
    let txn = Txn::new()
        .update(
            &t.logging,
            log(86, "move", "move", "A", 1, b"a:0:{}"),
            after,
        )
        .transaction();
    let recs = records_with(&txn, &["logging"]);
    assert_eq!(summary(&recs), vec![s("log", "update", "enwiki:86")]);
    assert_eq!(recs[0].3["prior"]["log_params"], json!([]));
    assert_eq!(recs[0].3["data"]["log_params"], json!({"4::target": "B"}));
    assert_eq!(recs[0].3["changed"], json!(["log_params", "log_deleted"]));
}

/// `rights/rights` params from PHP array bodies (without the `a:N:{...}` of each list).
fn rights_params(old: &str, new: &str, old_meta: &str, new_meta: &str) -> Vec<u8> {
    format!(
        "a:4:{{{}{old}{}{new}{}{old_meta}{}{new_meta}}}",
        php("4::oldgroups"),
        php("5::newgroups"),
        php("oldmetadata"),
        php("newmetadata")
    )
    .into_bytes()
}

/// A PHP array of `(key, serialized value)`.
fn php_array(entries: &[(u32, String)]) -> String {
    let body: String = entries.iter().map(|(k, v)| format!("i:{k};{v}")).collect();
    format!("a:{}:{{{body}}}", entries.len())
}

fn expiry(e: Option<&str>) -> String {
    format!(
        "a:1:{{{}{}}}",
        php("expiry"),
        e.map_or_else(|| "N;".to_string(), php)
    )
}

#[test]
fn removing_one_group_keeps_the_others_whatever_their_php_keys() {
    let t = tables();
    // Removing bot from [bot, sysop]: array_diff keeps sysop under key 1.
    let params = rights_params(
        &php_array(&[(0, php("bot")), (1, php("sysop"))]),
        &php_array(&[(1, php("sysop"))]),
        &php_array(&[(0, expiry(None)), (1, expiry(Some("20270101000000")))]),
        &php_array(&[(1, expiry(Some("20270101000000")))]),
    );
    let txn = Txn::new()
        .delete(&t.user_groups, vec![u(9), b("bot"), Value::Null])
        .insert(
            &t.logging,
            log(94, "rights", "rights", "Some_user", 0, &params),
        )
        .transaction();
    let recs = records(&txn);
    assert_eq!(
        summary(&recs),
        vec![
            s("user_group", "remove", "enwiki:9:bot"),
            s("log", "create", "enwiki:94")
        ]
    );
    assert_eq!(recs[0].3["log"]["log_id"], 94);
    let recs = records_with(&txn, DEFAULT);
    assert_eq!(
        summary(&recs),
        vec![
            s("log", "create", "enwiki:94"),
            s("user_group", "remove", "enwiki:Some_user:bot"),
        ],
        "sysop is kept, with its expiry unchanged"
    );
    assert_eq!(recs[1].3["prior"], json!({"ug_expiry": null}));
    // Holes on both sides: [a, b, c] minus a and c leaves [1 => b]; its expiry changes.
    let params = rights_params(
        &php_array(&[(0, php("a")), (1, php("b")), (2, php("c"))]),
        &php_array(&[(1, php("b"))]),
        &php_array(&[
            (0, expiry(None)),
            (1, expiry(None)),
            (2, expiry(Some("20300101000000"))),
        ]),
        &php_array(&[(1, expiry(Some("20290101000000")))]),
    );
    let txn = Txn::new()
        .insert(
            &t.logging,
            log(95, "rights", "rights", "Some_user", 0, &params),
        )
        .transaction();
    let recs = records_with(&txn, DEFAULT);
    assert_eq!(
        summary(&recs),
        vec![
            s("log", "create", "enwiki:95"),
            s("user_group", "expiry_change", "enwiki:Some_user:b"),
            s("user_group", "remove", "enwiki:Some_user:a"),
            s("user_group", "remove", "enwiki:Some_user:c"),
        ]
    );
    assert_eq!(recs[1].3["data"]["ug_expiry"], "20290101000000");
    assert_eq!(recs[1].3["prior"], json!({"ug_expiry": null}));
    assert_eq!(recs[3].3["prior"], json!({"ug_expiry": "20300101000000"}));
    // Adding renumbers (array_merge): [1 => sysop] + bot = [sysop, bot], metadata alike.
    let params = rights_params(
        &php_array(&[(1, php("sysop"))]),
        &php_array(&[(0, php("sysop")), (1, php("bot"))]),
        &php_array(&[(1, expiry(Some("20270101000000")))]),
        &php_array(&[(0, expiry(Some("20270101000000"))), (1, expiry(None))]),
    );
    let txn = Txn::new()
        .insert(
            &t.logging,
            log(96, "rights", "rights", "Some_user", 0, &params),
        )
        .transaction();
    let recs = records_with(&txn, DEFAULT);
    assert_eq!(
        summary(&recs),
        vec![
            s("log", "create", "enwiki:96"),
            s("user_group", "add", "enwiki:Some_user:bot"),
        ]
    );
    assert_eq!(recs[1].3["data"]["ug_expiry"], Json::Null);
}

#[test]
fn autopromotion_is_a_group_change_too() {
    let t = tables();
    let params = rights_params(
        &php_array(&[]),
        &php_array(&[(0, php("autoconfirmed2"))]),
        &php_array(&[]),
        &php_array(&[(0, expiry(None))]),
    );
    let txn = Txn::new()
        .insert(&t.user_groups, vec![u(9), b("autoconfirmed2"), Value::Null])
        .insert(
            &t.logging,
            log(97, "rights", "autopromote", "Some_user", 0, &params),
        )
        .transaction();
    let recs = records(&txn);
    assert_eq!(recs[0].3["action"], "add");
    assert_eq!(recs[0].3["log"]["log_action"], "autopromote");
    let recs = records_with(&txn, DEFAULT);
    assert_eq!(
        summary(&recs),
        vec![
            s("log", "create", "enwiki:97"),
            s("user_group", "add", "enwiki:Some_user:autoconfirmed2"),
        ]
    );
}

#[test]
fn prefixed_tables_are_folded_by_their_unprefixed_names() {
    let t = tables();
    let prefixed = |s: &Arc<TableSchema>| {
        Arc::new(TableSchema::new(
            s.db.clone(),
            format!("mw_{}", s.table),
            s.columns.clone(),
            s.key.clone(),
        ))
    };
    let txn = Txn::new()
        .insert(
            &prefixed(&t.revision),
            revision(100, 5, "20200101000000", 0),
        )
        .insert(
            &prefixed(&t.logging),
            log(98, "create", "create", "Page", 5, b"a:0:{}"),
        )
        .transaction();
    let encode = |prefix: &'static str| -> Vec<Json> {
        let mut encoder = mwcdc_mediawiki::EntityEncoder::new(mwcdc_mediawiki::EntityConfig {
            table_prefix: Arc::new(move |_db: &str| prefix.to_string()),
            ..fixtures::entity_config(DEFAULT, BinaryMode::Utf8)
        });
        encoder
            .records(&txn)
            .unwrap()
            .map(|r| serde_json::from_slice(&r.unwrap().value.unwrap()).unwrap())
            .collect()
    };
    let recs = encode("mw_");
    let summary: Vec<(&str, &str)> = recs
        .iter()
        .map(|v| (v["entity"].as_str().unwrap(), v["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("revision", "create"),
            ("log", "create"),
            ("page", "create")
        ]
    );
    assert_eq!(
        recs[0]["tables"],
        json!(["revision"]),
        "tables name the unprefixed table"
    );
    for v in &recs {
        schemas::validate_entity(v);
    }
    // Without the prefix configured, the tables are not recognised (and a warning says so).
    assert!(encode("").is_empty());
}

/// A snapshot chunk of the five tables: page 5, live revision 100, archived revision 90
/// (text and user hidden), log entry 70 and user 9's membership of `bot`.
fn snapshot_chunk() -> Transaction {
    let t = tables();
    Txn::new()
        .read(&t.page, page(5, 0, b"Zurich", 0, 100))
        .read(&t.revision, revision(100, 5, "20200101000000", 0))
        .read(&t.archive, archive(17, 90, 5, "20190501100000", 5))
        .read(
            &t.logging,
            log(70, "create", "create", "Zurich", 5, b"a:0:{}"),
        )
        .read(&t.user_groups, vec![u(9), b("bot"), Value::Null])
        .chunk()
}

#[test]
fn a_snapshot_chunk_gives_one_snapshot_record_per_row_in_row_order() {
    let recs = records(&snapshot_chunk());
    assert_eq!(
        summary(&recs),
        vec![
            s("page", "snapshot", "enwiki:5"),
            s("revision", "snapshot", "enwiki:100"),
            s("revision", "snapshot", "enwiki:90"),
            s("log", "snapshot", "enwiki:70"),
            s("user_group", "snapshot", "enwiki:9:bot"),
        ]
    );
    let ids: Vec<&str> = recs.iter().map(|(_, _, id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "snapshot/initial/enwiki.page/5/page",
            "snapshot/initial/enwiki.revision/100/revision",
            "snapshot/initial/enwiki.archive/17/revision",
            "snapshot/initial/enwiki.logging/70/log",
            "snapshot/initial/enwiki.user_groups/9/user_group",
        ]
    );
    let topics: Vec<&str> = recs.iter().map(|(t, _, _, _)| t.as_str()).collect();
    assert_eq!(
        topics,
        [
            "mw.entity.page",
            "mw.entity.revision",
            "mw.entity.revision",
            "mw.entity.log",
            "mw.entity.user_group",
        ]
    );
    let field = |name: &str| -> Vec<Json> { recs.iter().map(|r| r.3[name].clone()).collect() };
    let read_ts = json!("2026-12-07T12:00:00Z");
    // The time of the row where it has one, else when the chunk was read.
    assert_eq!(
        field("entity_ts"),
        [
            read_ts.clone(),
            json!("2020-01-01T00:00:00Z"),
            json!("2019-05-01T10:00:00Z"),
            json!("2026-11-26T08:00:00Z"),
            read_ts.clone(),
        ]
    );
    assert!(field("commit_ts").iter().all(|ts| *ts == read_ts));
    let tables = field("tables");
    assert_eq!(
        tables,
        [
            json!(["page"]),
            json!(["revision"]),
            json!(["archive"]),
            json!(["logging"]),
            json!(["user_groups"]),
        ]
    );
    // No transaction wrote the rows, nothing is paired with them or explains them.
    for name in ["gtid", "log", "prior", "changed"] {
        assert!(field(name).iter().all(Json::is_null), "{name}");
    }
    let (live, archived) = (&recs[1].3, &recs[2].3);
    assert_eq!(live["data"]["state"], "live");
    assert_eq!(live["data"]["rev_timestamp"], "20200101000000");
    assert_eq!(archived["data"]["state"], "archived");
    assert_eq!(archived["data"]["ar_id"], 17);
    assert_eq!(
        archived["data"]["visibility"],
        json!({"text": true, "comment": false, "user": true, "restricted": false})
    );
    assert_eq!(recs[0].3["data"]["page_title"], "Zurich");
    assert_eq!(recs[0].3["key"], json!({"page_id": 5}));
    assert_eq!(recs[3].3["data"]["log_params"], json!([]));
    assert_eq!(recs[4].3["key"], json!({"ug_user": 9, "ug_group": "bot"}));
    assert!(recs[4].3["data"].get("user_name").is_none());
}

#[test]
fn read_rows_never_fold_into_changes() {
    let t = tables();
    // As binlog rows these would pair (the revision and archive rows of rev_id 100), be
    // explained by log rows (page creation, the revision deletion, the rights change), and
    // give changes from the log rows alone where the tables are not captured.
    let txn = Txn::new()
        .read(&t.revision, revision(100, 5, "20200101000000", 1))
        .read(&t.archive, archive(17, 100, 5, "20200101000000", 0))
        .read(&t.page, page(5, 0, b"Zurich", 0, 100))
        .read(
            &t.logging,
            log(70, "create", "create", "Zurich", 5, b"a:0:{}"),
        )
        .read(
            &t.logging,
            log(
                71,
                "delete",
                "revision",
                "Zurich",
                5,
                &revdel_params("revision", &["100"], 0, 1),
            ),
        )
        .read(&t.logging, log(72, "rights", "rights", "Bot", 0, BOT_ADDED))
        .read(&t.user_groups, vec![u(9), b("bot"), Value::Null])
        .chunk();
    for captured in [ALL, DEFAULT, &["logging"][..]] {
        let recs = records_with(&txn, captured);
        let rows = txn
            .changes
            .iter()
            .filter(|c| captured.contains(&c.as_ref().unwrap().table.table.as_str()))
            .count();
        assert_eq!(recs.len(), rows, "one record per row, with {captured:?}");
        for (_, _, id, r) in &recs {
            assert_eq!(r["action"], "snapshot", "{id} with {captured:?}");
            assert!(r["log"].is_null() && r["prior"].is_null(), "{id}");
        }
    }
}
