//! Our decoder on real binlog files recorded by MySQL and MariaDB servers (the fixtures in
//! `tests/fixtures/binlogs`, see its README), with `mysql_common` as the oracle.
//!
//! Scenarios:
//! - every fixture decodes completely (all events, rows against their table maps, the
//!   contents of TRANSACTION_PAYLOADs), or stops with the exact error the decoder gives for
//!   what it deliberately refuses: partial row images, statement-based helper events
//!   (INTVAR, USER_VAR), MySQL 8.4 tagged GTID events (type 42), pre-GA rows events;
//! - damaged files (truncated events, a corrupt relay log) give errors, not panics;
//! - one flipped byte in a checksummed event of a real file gives `ChecksumMismatch`;
//! - MariaDB GTID and GTID_LIST events parse to the GTIDs their bytes hold;
//! - MySQL GTID events give the `uuid:gno` and PREVIOUS_GTIDS the set `mysql_common` parses,
//!   tagged (MySQL 8.4) sets included;
//! - `transaction_compression.000001`: the payload decompresses and its inner rows decode.

mod common;

use common::{decode_file, fixture};
use mwcdc_binlog::header::event_type as et;
use mwcdc_binlog::{file_events, payload_events, Collations, DecodeError, Event, EventDecoder};
use mysql_common::binlog::consts::BinlogVersion;
use mysql_common::binlog::events::EventData;
use mysql_common::binlog::BinlogFile;

/// Files that decode completely, with the number of row images they hold.
const DECODES_COMPLETELY: &[(&str, usize)] = &[
    ("binlog-invisible-columns.000001", 3),
    ("binlog_56_gtid_reserved_word.000001", 1),
    ("binlog_savepoint.000001", 0),
    ("binlog_transaction.000001", 0),
    ("binlog_transaction_previous_GTID_no_tag.000001", 0),
    ("binlog_transaction_with_GTID.000001", 0),
    ("binlog_transaction_with_anonymous_GTID.000001", 0),
    ("bug16266.000001", 0),
    ("bug27213339-bin.000001", 0),
    ("bug32407.001", 2),
    ("bug40482-bin.000001", 0),
    ("json-opaque.binlog", 8),
    ("json.binlog.000001", 12),
    ("bug11747887-bin.000003", 0),
    ("mariadb-bin.000001", 2),
    ("master-bin.000001", 0),
    ("mysql-enum-string-set.000001", 3),
    ("mysql_type_bit.000001", 1),
    ("rpl_atomic_ddl_rollback_full.000001", 0),
    ("rpl_cross_version_default_utf8mb4_collation.000001", 0),
    ("slave-relay-bin.000001", 0),
    ("time_issue.000001", 1),
    ("transaction_compression.000001", 1),
    ("vector.binlog", 10),
];

/// Files the decoder refuses on purpose: the event offset and the exact error.
const REFUSED: &[(&str, usize, &str)] = &[
    // MySQL 8.4 tagged GTID event (type 42): not parsed yet.
    (
        "binlog_transaction_with_GTID_TAG.000001",
        245,
        r#"Invalid("MySQL tagged GTID event (8.3+, gtid_next='AUTOMATIC:<tag>'): not supported yet")"#,
    ),
    // A MySQL 5.1 development build's rows event with a pre-GA type code (17).
    (
        "ver_5_1-wl2325_r.001",
        466,
        r#"Invalid("event type 17 with a 6-byte post-header is not BEGIN_LOAD_QUERY (a pre-GA binlog?)")"#,
    ),
    // Partial row images: binlog_row_image=MINIMAL, a hidden generated column, NDB.
    (
        "minimal_row_metadata.000001",
        374,
        r#"Invalid("partial row image for noria.t1")"#,
    ),
    (
        "rpl_unfiltered_hidden_gcol.000001",
        979,
        r#"Invalid("partial row image for test.t")"#,
    ),
    (
        "update-full-row.binlog",
        471,
        r#"Invalid("partial row image for test.ba")"#,
    ),
    (
        "update-partial-row.binlog",
        415,
        r#"Invalid("partial row image for test.ba")"#,
    ),
    (
        "write-full-row.binlog",
        428,
        r#"Invalid("partial row image for test.ba")"#,
    ),
    (
        "write-partial-row.binlog",
        415,
        r#"Invalid("partial row image for test.ba")"#,
    ),
];

#[test]
fn valid_fixtures_decode_completely() {
    for &(name, rows) in DECODES_COMPLETELY {
        let data = fixture(name);
        let summary = decode_file(&data)
            .unwrap_or_else(|f| panic!("{name}: event at {}: {:?}", f.offset, f.error));
        assert!(summary.events > 0, "{name}: no events");
        assert_eq!(summary.rows, rows, "{name}: row images");
        // mysql_common reads the same number of events (payload contents not counted there).
        let theirs = BinlogFile::new(BinlogVersion::Version4, &data[..])
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .len();
        assert_eq!(
            summary.events - summary.payload_events,
            theirs,
            "{name}: event count"
        );
    }
}

#[test]
fn refused_fixtures_give_the_exact_error() {
    for &(name, offset, error) in REFUSED {
        let failure = decode_file(&fixture(name)).expect_err(name);
        assert_eq!(
            failure.offset, offset,
            "{name}: offset of {:?}",
            failure.error
        );
        assert_eq!(format!("{:?}", failure.error), error, "{name}");
    }
}

#[test]
fn damaged_files_give_errors_not_panics() {
    // 14 bytes: the magic and 10 bytes of an event header.
    let f = decode_file(&fixture("binlog_truncated_event.000001")).unwrap_err();
    assert!(
        matches!(
            f.error,
            DecodeError::Truncated {
                needed: 4,
                available: 1
            }
        ),
        "{:?}",
        f.error
    );
    // A FORMAT_DESCRIPTION and a PREVIOUS_GTIDS cut inside its header.
    let f = decode_file(&fixture("binlog_truncated_prev_gtid_event.000001")).unwrap_err();
    assert!(
        matches!(
            f.error,
            DecodeError::Truncated {
                needed: 4,
                available: 0
            }
        ),
        "{:?}",
        f.error
    );
    // A corrupt relay log: the decoder stops at the first event it cannot take.
    let f = decode_file(&fixture("corrupt-relay-bin.000624")).unwrap_err();
    assert_eq!(f.offset, 91204);
    assert!(
        matches!(
            f.error,
            DecodeError::Invalid(_) | DecodeError::Truncated { .. }
        ),
        "{:?}",
        f.error
    );
    // Past that event, the corrupt QUERY event (171 bytes, mysql_common's test names it) must
    // fail to decode rather than panic: feed every event after the FDE on its own.
    let data = fixture("corrupt-relay-bin.000624");
    let mut dec = EventDecoder::new(Collations::default());
    let (mut errors, mut decoded) = (0, 0);
    for item in file_events(&data) {
        let Ok((_, bytes)) = item else {
            errors += 1;
            break;
        };
        match dec.decode(bytes) {
            Ok(_) => decoded += 1,
            Err(_) => errors += 1,
        }
    }
    assert!(
        decoded > 0 && errors > 0,
        "decoded {decoded}, errors {errors}"
    );
    // Every prefix of a real file is an error or a clean stop, never a panic.
    let data = fixture("mariadb-bin.000001");
    for cut in 0..data.len() {
        let _ = decode_file(&data[..cut]);
    }
}

#[test]
fn flipped_byte_in_a_checksummed_event_is_a_checksum_mismatch() {
    let mut data = fixture("mariadb-bin.000001");
    let mut dec = EventDecoder::new(Collations::default());
    let mut target = None;
    for item in file_events(&data) {
        let (offset, bytes) = item.unwrap();
        let (header, _) = dec.decode(bytes).unwrap();
        if header.type_code == et::TABLE_MAP {
            target = Some((offset, bytes.len()));
            break;
        }
    }
    let (offset, len) = target.expect("a TABLE_MAP event");
    assert!(dec.format_description().unwrap().checksummed());
    let stored = u32::from_le_bytes(data[offset + len - 4..offset + len].try_into().unwrap());
    data[offset + 25] ^= 0x01; // a byte of the body
    let err = dec.decode(&data[offset..offset + len]).unwrap_err();
    match err {
        DecodeError::ChecksumMismatch { expected, actual } => {
            assert_eq!(expected, stored);
            assert_ne!(actual, stored);
        }
        other => panic!("expected ChecksumMismatch, got {other:?}"),
    }
    // The same flip in the whole file stops decoding there.
    let f = decode_file(&data).unwrap_err();
    assert_eq!(f.offset, offset);
    assert!(matches!(f.error, DecodeError::ChecksumMismatch { .. }));
}

#[test]
fn mariadb_gtid_and_gtid_list() {
    let data = fixture("mariadb-bin.000001");
    let mut dec = EventDecoder::new(Collations::default());
    let mut gtids = Vec::new();
    let mut lists = Vec::new();
    let theirs = BinlogFile::new(BinlogVersion::Version4, &data[..]).unwrap();
    for (item, their) in file_events(&data).zip(theirs) {
        let (_, bytes) = item.unwrap();
        let their = their.unwrap();
        let (header, event) = dec.decode(bytes).unwrap();
        assert_eq!(header.type_code, their.header().event_type_raw());
        let body = their.data();
        match event {
            Event::MariaGtid(g) => {
                // seq_no u64, domain u32, flags u8 at the start of the body.
                let seq = u64::from_le_bytes(body[0..8].try_into().unwrap());
                let domain = u32::from_le_bytes(body[8..12].try_into().unwrap());
                assert_eq!(g.gtid.seq, seq);
                assert_eq!(g.gtid.domain, domain);
                assert_eq!(g.gtid.server, their.header().server_id());
                assert_eq!(g.flags, body[12]);
                gtids.push(g.gtid.to_string());
            }
            Event::MariaGtidList(list) => {
                let count = u32::from_le_bytes(body[0..4].try_into().unwrap()) & 0x0fff_ffff;
                assert_eq!(list.iter().count(), count as usize);
                lists.push(list.to_string());
            }
            _ => {}
        }
    }
    assert_eq!(gtids, ["0-1-1", "0-1-2"]);
    assert_eq!(
        lists,
        [""],
        "the file's GTID_LIST is empty (first binlog of the server)"
    );
}

/// Our GTIDs and PREVIOUS_GTIDS of a MySQL file, next to what mysql_common parses.
fn mysql_gtids(name: &str) -> (Vec<String>, Vec<String>) {
    let data = fixture(name);
    let mut dec = EventDecoder::new(Collations::default());
    let theirs = BinlogFile::new(BinlogVersion::Version4, &data[..]).unwrap();
    let (mut gtids, mut prev) = (Vec::new(), Vec::new());
    for (item, their) in file_events(&data).zip(theirs) {
        let (_, bytes) = item.unwrap();
        let their = their.unwrap();
        let Ok((_, event)) = dec.decode(bytes) else {
            break; // the refused type 42: asserted in refused_fixtures_give_the_exact_error
        };
        match (event, their.read_data().unwrap()) {
            (Event::MySqlGtid(ours), Some(EventData::GtidEvent(g))) => {
                let expected = format!("{}:{}", uuid_text(&g.sid()), g.gno());
                assert_eq!(ours.to_string(), expected, "{name}");
                gtids.push(expected);
            }
            (Event::PreviousGtids(ours), Some(EventData::PreviousGtidsEvent(p))) => {
                let expected = p
                    .sids()
                    .iter()
                    .map(|s| {
                        let mut t = uuid_text(&s.uuid());
                        if let Some(tag) = s.tag() {
                            t.push(':');
                            t.push_str(tag.as_str());
                        }
                        for i in s.intervals() {
                            t.push_str(&format!(":{}-{}", i.start(), i.end() - 1));
                        }
                        t
                    })
                    .collect::<Vec<_>>()
                    .join(",");
                let expected: mwcdc_position::GtidSet = expected.parse().unwrap();
                assert_eq!(ours, expected, "{name}");
                prev.push(ours.to_string());
            }
            (Event::MySqlGtid(_), other) | (Event::PreviousGtids(_), other) => {
                panic!("{name}: mysql_common read {other:?}")
            }
            _ => {}
        }
    }
    (gtids, prev)
}

fn uuid_text(b: &[u8; 16]) -> String {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[test]
fn mysql_gtids_and_previous_gtids() {
    let (g, p) = mysql_gtids("binlog_transaction_with_GTID.000001");
    assert_eq!(
        g,
        [
            "006c2cf2-b1ea-11e4-9057-8c705a3d3e78:1",
            "006c2cf2-b1ea-11e4-9057-8c705a3d3e78:2",
            "006c2cf2-b1ea-11e4-9057-8c705a3d3e78:3"
        ]
    );
    assert_eq!(p, [""]);
    let (g, _) = mysql_gtids("binlog_56_gtid_reserved_word.000001");
    assert_eq!(g.len(), 6);
    assert_eq!(g[5], "11111111-1111-1111-1111-111111111111:6");
    let (g, p) = mysql_gtids("binlog_transaction_previous_GTID_no_tag.000001");
    assert!(g.is_empty());
    assert_eq!(p, ["b9b88c66-0755-11f1-9899-4a9da94c4d71:1-2"]);
    // MySQL 8.4 tagged format of PREVIOUS_GTIDS.
    let (_, p) = mysql_gtids("binlog_transaction_with_GTID_TAG.000001");
    assert_eq!(p, ["55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:mytag:1-2"]);
    let (g, _) = mysql_gtids("binlog-invisible-columns.000001");
    assert_eq!(g.len(), 5);
}

#[test]
fn transaction_payload_decompresses_and_its_rows_decode() {
    let data = fixture("transaction_compression.000001");
    let mut dec = EventDecoder::new(Collations::default());
    let mut maps = std::collections::HashMap::new();
    let mut inner_types = Vec::new();
    let mut rows = Vec::new();
    for item in file_events(&data) {
        let (_, bytes) = item.unwrap();
        let (_, event) = dec.decode(bytes).unwrap();
        let Event::TransactionPayload(payload) = event else {
            continue;
        };
        for inner in payload_events(&payload) {
            let (header, event) = dec.decode_unchecked(inner.unwrap()).unwrap();
            inner_types.push(header.type_code);
            match event {
                Event::TableMap(m) => {
                    maps.insert(m.table_id, m);
                }
                Event::Rows(r) => rows.extend(r.decode(&maps[&r.table_id]).unwrap()),
                _ => {}
            }
        }
    }
    assert_eq!(
        inner_types,
        [et::QUERY, et::TABLE_MAP, et::WRITE_ROWS, et::XID]
    );
    assert_eq!(rows.len(), 1);
    assert!(rows[0].before.is_none());
    let after = rows[0].after.as_ref().unwrap();
    assert!(!after.is_empty());
    // A nested payload is refused.
    let payload_event = file_events(&data)
        .map(|i| i.unwrap().1)
        .find(|b| b[4] == et::TRANSACTION_PAYLOAD)
        .unwrap();
    let err = dec.decode_unchecked(payload_event).unwrap_err();
    assert!(
        matches!(err, DecodeError::Invalid(ref m) if m.contains("nested")),
        "{err:?}"
    );
}
