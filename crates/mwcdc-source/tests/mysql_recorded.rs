//! The assembler on binlogs recorded by MySQL servers (no MySQL server runs here):
//! - GTID transactions become transactions whose position is the GTID set so far;
//! - a zstd TRANSACTION_PAYLOAD yields its transaction once, also when the driver hands the
//!   payload's events on again after it (as mysql_async does). The recording was made with
//!   gtid_mode OFF, which mwcdc refuses; its ANONYMOUS_GTID events are turned into GTID
//!   events (the same layout with a source id and number) to replay it.

use mwcdc_binlog::{file_events, payload_events, Collations, EventDecoder, RawEvent};
use mwcdc_change::Transaction;
use mwcdc_position::{GtidSet, Position};
use mwcdc_source::assembler::Assembler;
use mwcdc_source::schema::{ColumnInfo, SchemaLookup, SchemaMode};
use mwcdc_source::{SourceError, TableFilter};

/// No lookups are expected: the filter captures tables that carry full metadata only.
struct NoLookup;

impl SchemaLookup for NoLookup {
    async fn key_columns(&mut self, db: &str, table: &str) -> Result<Vec<String>, SourceError> {
        panic!("unexpected key lookup for {db}.{table}")
    }
    async fn columns(&mut self, db: &str, table: &str) -> Result<Vec<ColumnInfo>, SourceError> {
        panic!("unexpected column lookup for {db}.{table}")
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../mwcdc-binlog/tests/fixtures/binlogs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn assembler(include: &str) -> Assembler<NoLookup> {
    Assembler::new(
        EventDecoder::new(Collations::default()),
        TableFilter::new(vec![include.to_string()], vec![]),
        SchemaMode::Binlog,
        NoLookup,
        Position::MySql(GtidSet::new()),
    )
}

/// Feeds a file's events; with `echo`, every TRANSACTION_PAYLOAD's inner events are fed
/// again after it, as the driver yields them.
async fn replay(name: &str, include: &str, echo: bool) -> Vec<Transaction> {
    let data = fixture(name);
    let mut a = assembler(include);
    let mut out = Vec::new();
    let mut checksummed = false;
    let mut gno = 0;
    for item in file_events(&data) {
        let (_, bytes) = item.expect("complete event");
        let bytes = &with_gtid(bytes, checksummed, &mut gno);
        a.handle(bytes, &mut out).await.expect("event accepted");
        let raw = RawEvent::split(bytes, checksummed).expect("split");
        if raw.header.type_code == mwcdc_binlog::header::event_type::FORMAT_DESCRIPTION {
            checksummed = mwcdc_binlog::events::FormatDescription::parse(raw.body)
                .expect("FDE")
                .checksummed();
        }
        if echo && raw.header.type_code == mwcdc_binlog::header::event_type::TRANSACTION_PAYLOAD {
            let payload =
                mwcdc_binlog::compression::mysql_transaction_payload(raw.body).expect("payload");
            for inner in payload_events(&payload) {
                let inner = inner.expect("inner event");
                // The driver's copies carry no checksum, whatever the binlog's setting.
                let copy = inner.to_vec();
                a.handle(&copy, &mut out).await.expect("echoed event");
            }
        }
    }
    out
}

/// An ANONYMOUS_GTID event rewritten as GTID `3e11fa47-71ca-11e1-9e33-c80aa9429562:<n>`.
fn with_gtid(bytes: &[u8], checksummed: bool, gno: &mut u64) -> Vec<u8> {
    use mwcdc_binlog::header::event_type::{ANONYMOUS_GTID, GTID};
    let mut out = bytes.to_vec();
    if bytes[4] != ANONYMOUS_GTID {
        return out;
    }
    *gno += 1;
    out[4] = GTID;
    out[20..36].copy_from_slice(&[
        0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95,
        0x62,
    ]);
    out[36..44].copy_from_slice(&gno.to_le_bytes());
    if checksummed {
        mwcdc_test_support::binlog::frame::reseal(&mut out);
    }
    out
}

#[tokio::test]
async fn gtid_transactions_advance_the_gtid_set() {
    let txns = replay(
        "binlog_transaction_with_GTID.000001",
        "nothing.captured",
        false,
    )
    .await;
    assert!(!txns.is_empty());
    let mut expected = GtidSet::new();
    for t in &txns {
        let gtid: mwcdc_position::MySqlGtid = t.gtid.parse().expect("a MySQL GTID");
        expected.add(&gtid).expect("gno in range");
        assert_eq!(
            t.position,
            Position::MySql(expected.clone()),
            "after {}",
            t.gtid
        );
        assert!(t.changes.is_empty());
    }
}

#[tokio::test]
async fn a_compressed_transaction_is_assembled_once() {
    let plain = replay("transaction_compression.000001", "nothing.captured", false).await;
    let echoed = replay("transaction_compression.000001", "nothing.captured", true).await;
    assert!(!plain.is_empty());
    assert!(
        plain.iter().any(|t| t.gtid.ends_with(":1")),
        "the payload's transaction has the rewritten GTID"
    );
    let gtids = |t: &[Transaction]| t.iter().map(|t| t.gtid.to_string()).collect::<Vec<_>>();
    assert_eq!(gtids(&plain), gtids(&echoed));
    assert_eq!(
        plain.last().map(|t| &t.position),
        echoed.last().map(|t| &t.position)
    );
}
