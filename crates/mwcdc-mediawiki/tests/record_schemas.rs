//! The JSON Schemas in `docs/schemas` against entity records: every file is a valid schema,
//! records the encoder writes validate (tests/fold.rs checks every record it produces), and
//! records that break the format do not.

mod fixtures;

use std::collections::BTreeSet;

use fixtures::*;
use mwcdc_binlog::Value;
use mwcdc_change::Transaction;
use mwcdc_record::BinaryMode;
use mwcdc_test_support::schemas;
use serde_json::{json, Value as Json};

/// A page creation with a user group change in the same transaction: one record of each
/// entity, the page, revision and user group records enriched by log rows.
fn records() -> Vec<Json> {
    let t = tables();
    let title = [b'O', 0xff];
    let txn = Txn::new()
        .insert(&t.page, page(5, 0, &title, 0, 0))
        .insert(&t.revision, revision(100, 5, "20261126080000", 0))
        .insert(
            &t.logging,
            log(
                70,
                "create",
                "create",
                "O",
                5,
                b"a:1:{s:17:\"associated_rev_id\";i:100;}",
            ),
        )
        .insert(&t.user_groups, vec![Value::UInt(9), b("bot"), Value::Null])
        .insert(
            &t.logging,
            log(
                71,
                "rights",
                "rights",
                "Some_user",
                0,
                b"a:2:{s:12:\"4::oldgroups\";a:0:{}s:12:\"5::newgroups\";a:1:{i:0;s:3:\"bot\";}}",
            ),
        )
        .transaction();
    every_table_json(&txn)
}

/// The record of `entity` (and `action`) among [`records`].
fn record(entity: &str) -> Json {
    records()
        .into_iter()
        .find(|r| r["entity"] == entity)
        .unwrap_or_else(|| panic!("no {entity} record"))
}

#[test]
fn every_schema_file_is_listed_and_is_a_valid_schema() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(schemas::DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    let listed: BTreeSet<String> = schemas::FILES.iter().map(|f| f.to_string()).collect();
    assert_eq!(on_disk, listed, "docs/schemas and schemas::FILES differ");
    for file in schemas::FILES {
        let schema = schemas::load(file);
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{file}"
        );
        assert!(jsonschema::meta::is_valid(&schema), "{file}");
    }
    // Compiles every schema, references resolved.
    assert!(!schemas::entity_errors(&json!({})).is_empty());
}

#[test]
fn the_records_of_each_entity_validate() {
    let records = records();
    let kinds: Vec<(&str, &str, &Json)> = records
        .iter()
        .map(|r| {
            (
                r["entity"].as_str().unwrap(),
                r["action"].as_str().unwrap(),
                &r["tables"],
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("page", "create", &json!(["page", "logging"])),
            ("revision", "create", &json!(["revision"])),
            ("log", "create", &json!(["logging"])),
            ("user_group", "add", &json!(["user_groups", "logging"])),
            ("log", "create", &json!(["logging"])),
        ]
    );
    for r in &records {
        schemas::validate_entity(r);
    }
}

/// A change to a valid record that the schema must reject.
type Break = fn(&mut Json);

fn assert_rejected(entity: &str, cases: &[(&str, Break)]) {
    let valid = record(entity);
    assert_eq!(schemas::entity_errors(&valid), Vec::<String>::new());
    for (what, change) in cases {
        let mut broken = valid.clone();
        change(&mut broken);
        assert!(
            !schemas::entity_errors(&broken).is_empty(),
            "{entity} record with {what} validates:\n{broken:#}"
        );
    }
}

fn remove(r: &mut Json, field: &str) {
    r.as_object_mut().unwrap().remove(field);
}

#[test]
fn revision_records_that_break_the_format_do_not_validate() {
    assert_rejected(
        "revision",
        &[
            ("a page action", |r| r["action"] = json!("move")),
            ("an unknown action", |r| r["action"] = json!("edit")),
            ("no gtid", |r| remove(r, "gtid")),
            ("no log field", |r| remove(r, "log")),
            ("an extra field", |r| r["extra"] = json!(1)),
            ("a malformed gtid", |r| r["gtid"] = json!("0-1")),
            ("another entity in the id", |r| {
                r["id"] = json!("0-1-9/1/0/page")
            }),
            ("/0 as the id suffix", |r| {
                r["id"] = json!("0-1-9/1/0/revision/0")
            }),
            ("a timestamp without Z", |r| {
                r["entity_ts"] = json!("2026-11-26T08:00:00")
            }),
            ("a MediaWiki timestamp", |r| {
                r["commit_ts"] = json!("20261126080000")
            }),
            ("no visibility", |r| {
                r["data"].as_object_mut().unwrap().remove("visibility");
            }),
            ("a visibility bit missing", |r| {
                r["data"]["visibility"]
                    .as_object_mut()
                    .unwrap()
                    .remove("restricted");
            }),
            ("a visibility bit as a number", |r| {
                r["data"]["visibility"]["text"] = json!(1)
            }),
            ("an array column value", |r| {
                r["data"]["rev_sha1"] = json!([1])
            }),
            ("a bytes object with another field", |r| {
                r["data"]["rev_sha1"] = json!({"base64": "/w==", "hex": "ff"})
            }),
            ("a page key", |r| r["key"] = json!({"page_id": 5})),
            ("a string rev_id", |r| r["key"] = json!({"rev_id": "100"})),
            ("a prior for a create", |r| {
                r["prior"] = json!({"rev_deleted": 0})
            }),
            ("the page table", |r| r["tables"] = json!(["page"])),
            ("a table twice", |r| {
                r["tables"] = json!(["revision", "revision"])
            }),
            ("archive columns for a create", |r| {
                r["data"] = json!({"ar_rev_id": 100, "ar_deleted": 0,
                    "visibility": {"text": false, "comment": false, "user": false, "restricted": false}})
            }),
        ],
    );
}

#[test]
fn page_log_and_user_group_records_that_break_the_format_do_not_validate() {
    assert_rejected(
        "page",
        &[
            ("a revision action", |r| r["action"] = json!("archive")),
            ("a string page_id", |r| r["key"]["page_id"] = json!("5")),
            ("no log row although tables names logging", |r| {
                r["log"] = Json::Null
            }),
            ("a log row without log_params", |r| {
                r["log"].as_object_mut().unwrap().remove("log_params");
            }),
            ("a log timestamp in MediaWiki form", |r| {
                r["log"]["log_timestamp"] = json!("20261126080000")
            }),
            ("restored_revisions outside undelete", |r| {
                r["data"]["restored_revisions"] = json!(2)
            }),
            ("changed columns", |r| r["changed"] = json!(["page_title"])),
            ("malformed base64", |r| {
                r["data"]["page_title"] = json!({"base64": "T/"})
            }),
        ],
    );
    assert_rejected(
        "log",
        &[
            ("a user group action", |r| r["action"] = json!("add")),
            ("log enrichment", |r| r["log"] = json!({})),
            ("a false flag", |r| {
                r["data"]["log_params_undecoded"] = json!(false)
            }),
            ("no log_type", |r| {
                r["data"].as_object_mut().unwrap().remove("log_type");
            }),
            ("a prior for a create", |r| {
                r["prior"] = json!({"log_id": 1})
            }),
            ("another table", |r| r["tables"] = json!(["page"])),
            ("entity user_group", |r| r["entity"] = json!("user_group")),
            ("an unknown entity", |r| r["entity"] = json!("logging")),
        ],
    );
    assert_rejected(
        "user_group",
        &[
            ("a log action", |r| r["action"] = json!("create")),
            ("a key by id and by name", |r| {
                r["key"]["user_name"] = json!("Some_user")
            }),
            (
                "a key by name from a row",
                |r| {
                    r["key"] =
                        json!({"user_name": "Some_user", "user_wiki": "enwiki", "ug_group": "bot"})
                },
            ),
            ("no ug_expiry", |r| {
                r["data"].as_object_mut().unwrap().remove("ug_expiry");
            }),
            ("a prior for an add", |r| {
                r["prior"] = json!({"ug_expiry": null})
            }),
            ("a MySQL GTID in upper case", |r| {
                r["gtid"] = json!("3E11FA47-71CA-11E1-9E33-C80AA9429562:23")
            }),
        ],
    );
}

#[test]
fn mysql_gtids_validate() {
    for gtid in [
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:23",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:blue_1:23",
    ] {
        let mut r = record("log");
        r["gtid"] = json!(gtid);
        r["id"] = json!(format!("{gtid}/2/0/log"));
        schemas::validate_entity(&r);
    }
}

/// The snapshot records of a chunk with a row of each of the five tables, in row order: page,
/// revision (live), revision (archived), log, user group.
fn snapshot_records() -> Vec<Json> {
    let t = tables();
    let txn = Txn::new()
        .read(&t.page, page(5, 0, b"Main_Page", 0, 100))
        .read(&t.revision, revision(100, 5, "20200101000000", 0))
        .read(&t.archive, archive(17, 90, 5, "20190501100000", 1))
        .read(
            &t.logging,
            log(70, "create", "create", "Main_Page", 5, b"a:0:{}"),
        )
        .read(&t.user_groups, vec![Value::UInt(9), b("bot"), Value::Null])
        .chunk();
    every_table_json(&txn)
}

#[test]
fn snapshot_records_of_each_table_validate() {
    let records = snapshot_records();
    let kinds: Vec<(&str, &str, &Json, &Json)> = records
        .iter()
        .map(|r| {
            (
                r["entity"].as_str().unwrap(),
                r["action"].as_str().unwrap(),
                &r["tables"],
                &r["data"]["state"],
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("page", "snapshot", &json!(["page"]), &Json::Null),
            ("revision", "snapshot", &json!(["revision"]), &json!("live")),
            (
                "revision",
                "snapshot",
                &json!(["archive"]),
                &json!("archived")
            ),
            ("log", "snapshot", &json!(["logging"]), &Json::Null),
            (
                "user_group",
                "snapshot",
                &json!(["user_groups"]),
                &Json::Null
            ),
        ]
    );
    for r in &records {
        schemas::validate_entity(r);
        assert_eq!(r["gtid"], Json::Null);
    }
}

#[test]
fn snapshot_records_that_break_the_format_do_not_validate() {
    let records = snapshot_records();
    let cases: [(&str, Break); 8] = [
        ("a GTID", |r| r["gtid"] = json!("0-1-9")),
        ("a binlog id", |r| {
            let id = format!("0-1-9/1/0/{}", r["entity"].as_str().unwrap());
            r["id"] = json!(id)
        }),
        ("a binlog action", |r| {
            r["action"] = json!(match r["entity"].as_str().unwrap() {
                "user_group" => "add",
                _ => "create",
            })
        }),
        ("another entity in the id", |r| {
            let id = r["id"].as_str().unwrap().rsplit_once('/').unwrap().0;
            r["id"] = json!(format!("{id}/entity"))
        }),
        ("a /k suffix", |r| {
            let id = format!("{}/1", r["id"].as_str().unwrap());
            r["id"] = json!(id)
        }),
        ("a prior", |r| r["prior"] = json!({"x": 1})),
        ("a log row", |r| {
            r["log"] = record("page")["log"].clone();
            r["tables"].as_array_mut().unwrap().push(json!("logging"));
        }),
        ("no gtid", |r| remove(r, "gtid")),
    ];
    for valid in &records {
        for (what, change) in &cases {
            let mut broken = valid.clone();
            change(&mut broken);
            assert!(
                !schemas::entity_errors(&broken).is_empty(),
                "snapshot record with {what} validates:\n{broken:#}"
            );
        }
    }
    // A binlog record without a GTID, or with a snapshot id.
    let mut change = record("revision");
    change["gtid"] = Json::Null;
    assert!(!schemas::entity_errors(&change).is_empty());
    let mut change = record("revision");
    change["id"] = json!("snapshot/initial/enwiki.revision/100/revision");
    assert!(!schemas::entity_errors(&change).is_empty());
    // A revision snapshot's state says which table its row is of.
    let (live, archived) = (&records[1], &records[2]);
    for (r, state) in [(live, json!("archived")), (archived, json!("live"))] {
        let mut wrong = r.clone();
        wrong["data"]["state"] = state;
        assert!(!schemas::entity_errors(&wrong).is_empty(), "{wrong:#}");
        let mut missing = r.clone();
        missing["data"].as_object_mut().unwrap().remove("state");
        assert!(!schemas::entity_errors(&missing).is_empty(), "{missing:#}");
    }
}

/// The entity records of `txn` as JSON, with every MediaWiki table captured.
fn every_table_json(txn: &Transaction) -> Vec<Json> {
    encoder(
        &["revision", "archive", "logging", "page", "user_groups"],
        BinaryMode::Utf8,
    )
    .records(txn)
    .unwrap()
    .map(|r| serde_json::from_slice(&r.unwrap().value.unwrap()).unwrap())
    .collect()
}
