//! Row change records against `docs/schemas/row-change.schema.json` (value) and
//! `row-key.schema.json` (key): every kind of record the encoder writes validates, and values
//! that break the format do not.

use std::sync::Arc;

use mwcdc_binlog::Value;
use mwcdc_change::{Op, RowChange, SnapshotChunk, TableSchema, Transaction};
use mwcdc_position::Position;
use mwcdc_record::{BinaryMode, Record, RowEncoder, RowEncoderConfig, TopicTemplate};
use mwcdc_test_support::schemas;
use serde_json::{json, Value as Json};

const GTID: &str = "0-1-42";

fn revision() -> Arc<TableSchema> {
    Arc::new(TableSchema::new(
        "enwiki".into(),
        "revision".into(),
        [
            "rev_id", "rev_page", "rev_sha1", "rev_len", "ratio", "weight", "price", "touched",
            "title", "comment", "doc", "parent",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect(),
        vec![0],
    ))
}

/// A row with a value of every kind: integers at their limits, floats, a decimal, a
/// temporal value, text, MySQL JSON, NULL, binary data that is and is not UTF-8, and text
/// that did not decode.
fn row(id: u64, sha1: &[u8]) -> Vec<Value> {
    vec![
        Value::UInt(id),
        Value::Int(i64::MIN),
        Value::Bytes(sha1.to_vec()),
        Value::UInt(u64::MAX),
        Value::Float(1.5),
        Value::Double(-1e300),
        Value::Decimal("-12.340".into()),
        Value::Temporal("2026-11-26T08:30:15.123Z".into()),
        Value::Bytes("Zürich".as_bytes().to_vec()),
        Value::UndecodedText(vec![0xe9]),
        Value::Json(json!({"a": [1, "x"]})),
        Value::Null,
    ]
}

fn change(
    table: &Arc<TableSchema>,
    gtid: &str,
    op: Op,
    before: Option<Vec<Value>>,
    after: Option<Vec<Value>>,
) -> RowChange {
    RowChange {
        table: table.clone(),
        op,
        before,
        after,
        gtid: Arc::from(gtid),
        event_index: 2,
        row_index: 0,
        file: Arc::from("mariadb-bin.000003"),
        pos: 18934,
        server_id: u32::MAX,
        ts_sec: 1_795_681_815,
    }
}

/// One transaction with every kind of change: insert, update, delete, key-changing update,
/// changes of a table without a key, and a TRUNCATE.
fn transaction(gtid: &str) -> Transaction {
    let t = revision();
    let keyless = Arc::new(TableSchema::new(
        t.db.clone(),
        t.table.clone(),
        t.columns.clone(),
        vec![],
    ));
    let x = b"x";
    let sha1 = b"phoiac9h4m842xq45sp7s6u21eteeq1";
    let changes = vec![
        change(&t, gtid, Op::Create, None, Some(row(1, &[0xff, 0]))),
        change(
            &t,
            gtid,
            Op::Update,
            Some(row(1, &[0xff, 0])),
            Some(row(1, sha1)),
        ),
        change(&t, gtid, Op::Delete, Some(row(1, x)), None),
        change(&t, gtid, Op::Update, Some(row(2, x)), Some(row(3, x))),
        change(&keyless, gtid, Op::Create, None, Some(row(4, x))),
        change(&keyless, gtid, Op::Update, Some(row(4, x)), Some(row(5, x))),
        change(&keyless, gtid, Op::Delete, Some(row(5, x)), None),
        change(&t, gtid, Op::Truncate, None, None),
    ];
    Transaction {
        gtid: Arc::from(gtid),
        position: Position::parse_any(gtid).unwrap(),
        file: Arc::from("mariadb-bin.000003"),
        end_pos: 20000,
        commit_ts: 1_795_681_815,
        changes: changes.into(),
        xa: None,
        snapshot: None,
    }
}

fn encode(gtid: &str, template: &str, binary: BinaryMode, tombstones: bool) -> Vec<Record> {
    RowEncoder::new(RowEncoderConfig {
        connector_name: "mwcdc".into(),
        topic_prefix: "mwcdc".into(),
        topic: TopicTemplate::parse(template).unwrap(),
        binary,
        tombstones,
    })
    .encode(&transaction(gtid), 1_795_681_815_231)
    .unwrap()
}

fn parse(bytes: &Option<Vec<u8>>) -> Option<Json> {
    bytes.as_ref().map(|b| {
        serde_json::from_slice(b).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)))
    })
}

/// Validates every record: values with their keys, and the keys of tombstones (which have
/// no value). Returns the op ("tombstone" for a tombstone) and the key of each record.
fn validate(records: &[Record]) -> Vec<(String, Option<Json>)> {
    records
        .iter()
        .map(|r| {
            let key = parse(&r.key);
            match parse(&r.value) {
                Some(value) => {
                    schemas::validate_row(&value, key.as_ref());
                    (value["op"].as_str().unwrap().to_string(), key)
                }
                None => {
                    let key = key.expect("a tombstone has a key");
                    let errors = schemas::key_errors(&key);
                    assert!(errors.is_empty(), "tombstone key {key}: {errors:?}");
                    ("tombstone".to_string(), Some(key))
                }
            }
        })
        .collect()
}

#[test]
fn every_kind_of_row_record_validates() {
    let records = encode(GTID, TopicTemplate::DEFAULT, BinaryMode::Utf8, true);
    let kinds = validate(&records);
    let ops: Vec<&str> = kinds.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(ops.join(" "), "c u d tombstone d tombstone c c u d t");
    assert_eq!(kinds[0].1, Some(json!({"rev_id": 1})));
    assert_eq!(kinds[6].1, Some(json!({"rev_id": 3})), "the new key");
    assert_eq!(kinds[7].1, None, "a table without a key");
    assert_eq!(kinds[10].1, None, "TRUNCATE");
    let insert = parse(&records[0].value).unwrap();
    assert_eq!(insert["after"]["rev_sha1"], json!({"base64": "/wA="}));
    assert_eq!(insert["after"]["comment"], json!({"base64": "6Q=="}));
}

/// A snapshot chunk of three rows, the first and last of a job of one table.
fn snapshot_chunk() -> Transaction {
    let t = revision();
    let prefix = "snapshot/initial/enwiki.revision";
    let changes: Vec<RowChange> = (1..=3)
        .map(|id| {
            let mut c = change(&t, prefix, Op::Read, None, Some(row(id, b"x")));
            c.row_index = id as u32 - 1;
            c
        })
        .collect();
    Transaction {
        snapshot: Some(SnapshotChunk {
            first_of_job: true,
            last_of_table: true,
            last_of_job: true,
        }),
        changes: changes.into(),
        ..transaction(GTID)
    }
}

#[test]
fn snapshot_records_validate_and_say_where_in_the_job_they_are() {
    let records = RowEncoder::new(RowEncoderConfig {
        connector_name: "mwcdc".into(),
        topic_prefix: "mwcdc".into(),
        topic: TopicTemplate::parse(TopicTemplate::DEFAULT).unwrap(),
        binary: BinaryMode::Utf8,
        tombstones: true,
    })
    .encode(&snapshot_chunk(), 1_795_681_815_231)
    .unwrap();
    let kinds = validate(&records);
    let ops: Vec<&str> = kinds.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(ops, ["r", "r", "r"]);
    assert_eq!(kinds[2].1, Some(json!({"rev_id": 3})));
    let words: Vec<Json> = records
        .iter()
        .map(|r| parse(&r.value).unwrap()["source"]["snapshot"].clone())
        .collect();
    assert_eq!(words, [json!("first"), json!("true"), json!("last")]);
    let first = parse(&records[0].value).unwrap();
    assert_eq!(first["source"]["gtid"], Json::Null);
    assert_eq!(first["transaction"], Json::Null);
    assert_eq!(first["before"], Json::Null);
    assert_eq!(records[1].id, "snapshot/initial/enwiki.revision/2");
    // A read record that claims a transaction, or a binlog change that claims a snapshot,
    // breaks the format.
    let mut claimed = first.clone();
    claimed["transaction"] = json!({"id": GTID, "total_order": 1, "data_collection_order": 1});
    assert!(!schemas::row_errors(&claimed).is_empty());
    let mut change =
        parse(&encode(GTID, TopicTemplate::DEFAULT, BinaryMode::Utf8, true)[0].value).unwrap();
    change["source"]["snapshot"] = json!("true");
    assert!(!schemas::row_errors(&change).is_empty());
}

#[test]
fn row_records_validate_in_every_binary_mode_and_setting() {
    for binary in [BinaryMode::Base64, BinaryMode::Hex] {
        let records = encode(GTID, TopicTemplate::DEFAULT, binary, true);
        assert_eq!(validate(&records).len(), 11);
    }
    // Without tombstones.
    let records = encode(GTID, TopicTemplate::DEFAULT, BinaryMode::Utf8, false);
    assert_eq!(validate(&records).len(), 9);
    // One topic for every wiki: the database is in the key.
    let records = encode(GTID, "{prefix}.{table}", BinaryMode::Utf8, true);
    let kinds = validate(&records);
    assert_eq!(kinds[0].1, Some(json!({"__db": "enwiki", "rev_id": 1})));
    // MySQL GTIDs, tagged or not.
    for gtid in [
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:23",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:blue:23",
    ] {
        let records = encode(gtid, TopicTemplate::DEFAULT, BinaryMode::Utf8, true);
        assert_eq!(parse(&records[0].value).unwrap()["source"]["gtid"], gtid);
        validate(&records);
    }
}

/// A change to a valid value that the schema must reject.
type Break = fn(&mut Json);

#[test]
fn row_records_that_break_the_format_do_not_validate() {
    let records = encode(GTID, TopicTemplate::DEFAULT, BinaryMode::Utf8, true);
    let update = parse(&records[1].value).unwrap();
    let truncate = parse(&records[10].value).unwrap();
    assert_eq!(schemas::row_errors(&update), Vec::<String>::new());
    assert_eq!(schemas::row_errors(&truncate), Vec::<String>::new());
    let values: [(&str, &Json, Break); 19] = [
        ("an unknown op", &update, |v| v["op"] = json!("x")),
        ("no op", &update, |v| {
            v.as_object_mut().unwrap().remove("op");
        }),
        ("an extra field", &update, |v| v["schema"] = json!({})),
        ("an update without before", &update, |v| {
            v["before"] = Json::Null
        }),
        ("a delete with after", &update, |v| v["op"] = json!("d")),
        ("an insert with before", &update, |v| v["op"] = json!("c")),
        ("a TRUNCATE with rows", &update, |v| v["op"] = json!("t")),
        ("a TRUNCATE of row 1", &truncate, |v| {
            v["source"]["row"] = json!(1)
        }),
        ("no source.gtid", &update, |v| {
            v["source"].as_object_mut().unwrap().remove("gtid");
        }),
        ("a malformed gtid", &update, |v| {
            v["source"]["gtid"] = json!("42")
        }),
        ("a malformed transaction id", &update, |v| {
            v["transaction"]["id"] = json!("0-1")
        }),
        ("another connector", &update, |v| {
            v["source"]["connector"] = json!("mysql")
        }),
        ("snapshot as a boolean", &update, |v| {
            v["source"]["snapshot"] = json!(false)
        }),
        ("a binlog time with milliseconds", &update, |v| {
            v["source"]["ts_ms"] = json!(1_795_681_815_001u64)
        }),
        ("a server id beyond 32 bits", &update, |v| {
            v["source"]["server_id"] = json!(1u64 << 32)
        }),
        ("total_order 0", &update, |v| {
            v["transaction"]["total_order"] = json!(0)
        }),
        ("a boolean column value", &update, |v| {
            v["after"]["parent"] = json!(true)
        }),
        ("an array column value", &update, |v| {
            v["after"]["doc"] = json!([1])
        }),
        ("a bytes object in hex", &update, |v| {
            v["after"]["rev_sha1"] = json!({"hex": "ff"})
        }),
    ];
    for (what, valid, change) in values {
        let mut broken = valid.clone();
        change(&mut broken);
        assert!(
            !schemas::row_errors(&broken).is_empty(),
            "a value with {what} validates:\n{broken:#}"
        );
    }
    let keys = [
        ("no column", json!({})),
        ("a boolean", json!({"rev_id": true})),
        ("a numeric __db", json!({"__db": 1, "rev_id": 1})),
        ("an object", json!({"rev_id": {"n": 1}})),
    ];
    for (what, key) in keys {
        assert!(
            !schemas::key_errors(&key).is_empty(),
            "a key with {what} validates: {key}"
        );
    }
}
