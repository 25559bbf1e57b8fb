//! The assembler fed MariaDB 10.11 event bytes (CRC32 on, V1 rows events, full optional
//! metadata) built by mwcdc-test-support's binlog stream around the [`build`] module's table
//! layout, one test per scenario:
//!
//! 1. `insert_update_delete_make_one_transaction`: three rows events on a captured table
//!    give one transaction of three changes with their ops, images, indexes and origin, and
//!    the position, file, end position and commit time of the XID.
//! 2. `uncaptured_transaction_advances_and_its_rows_events_count`: a transaction on a table
//!    the filter skips is emitted without changes; its rows events still count in
//!    `event_index` when a captured one follows in the same transaction.
//! 3. `gtid_list_seeds_missing_domains`: GTID_LIST adds the domains the start position lacks.
//! 4. `xa_commit_publishes_the_prepared_rows` and `xa_rollback_drops_the_prepared_rows`: the
//!    prepare group is emitted empty as `XaStep::Prepare`, its rows come with `XA COMMIT`
//!    (keeping the prepare's GTID) and are dropped by `XA ROLLBACK`.
//! 5. `statement_dml_on_captured_table_is_incomplete`: a DML QUERY on a captured table stops
//!    the source naming `binlog_format=ROW`; on other tables it is ordinary (InnoDB and MyISAM).
//! 6. `partial_row_image_is_incomplete`: a partial columns-present bitmap on a captured
//!    table stops the source naming `binlog_row_image=FULL`.
//! 7. `truncate_of_captured_table_is_a_truncate_change`: standalone TRUNCATE groups.
//! 8. `corrupted_event_is_a_decode_error_at_its_position`: a flipped byte fails the CRC32.
//! 9. `table_map_without_column_names_needs_full_row_metadata`: Binlog schema mode refuses a
//!    TABLE_MAP without names (`binlog_row_metadata`); `information_schema` mode (scenario 9b,
//!    `information_schema_mode_names_columns_from_the_lookup`) fills them in.
//! 10. `keyless_table_takes_its_key_from_the_lookup`: no primary key in the metadata: the key
//!     comes from `key_columns` (cached until DDL), and is empty when the lookup has none.
//! 11. `reconnect_drops_the_partial_transaction`: `reconnect()` forgets a partly read
//!     transaction and a new stream (ROTATE, FDE, GTID_LIST, ...) continues from the position.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use mwcdc_binlog::{Collations, DecodeError, EventDecoder};
use mwcdc_change::{Op, Transaction, XaStep};
use mwcdc_position::{Flavor, Position};

use super::Assembler;
use crate::schema::{ColumnInfo, SchemaLookup, SchemaMode};
use crate::{DefiniteError, SourceError, TableFilter, UnusableError};

use build::*;

/// The scenarios' table layout and its events, in a MariaDB 10.11 dump built by
/// mwcdc-test-support.
mod build {
    use std::ops::{Deref, DerefMut};

    use mwcdc_binlog::header::event_type as et;
    use mwcdc_binlog::table_map::column_type as ct;
    use mwcdc_binlog::Value;
    use mwcdc_test_support::binlog::frame::TIMESTAMP;
    use mwcdc_test_support::binlog::table_map::{
        column_names, DEFAULT_CHARSET, SIGNEDNESS, SIMPLE_PRIMARY_KEY,
    };
    use mwcdc_test_support::binlog::{table_map, Present, Rows, Stream};

    pub use mwcdc_test_support::binlog::events::{
        DDL, FL_ALLOW_PARALLEL, FL_GROUP_COMMIT_ID, TRX, XA_COMPLETED, XA_PREPARED,
    };

    pub const SERVER_ID: u32 = 1;
    pub const FILE: &str = "mariadb-bin.000003";
    pub const TS: u32 = TIMESTAMP;

    /// A table of the fixed layout `(rev_id BIGINT UNSIGNED, rev_page INT,
    /// rev_title VARCHAR(60) CHARACTER SET utf8mb4 NULL)`.
    #[derive(Debug, Clone, Copy)]
    pub struct Table {
        pub id: u64,
        pub db: &'static str,
        pub name: &'static str,
        /// COLUMN_NAME metadata (`binlog_row_metadata=FULL`).
        pub names: bool,
        /// SIMPLE_PRIMARY_KEY metadata on `rev_id`.
        pub pk: bool,
    }

    impl Table {
        /// `wiki.<name>` with full metadata and a primary key.
        pub fn full(id: u64, name: &'static str) -> Self {
            Self {
                id,
                db: "wiki",
                name,
                names: true,
                pk: true,
            }
        }

        /// Its TABLE_MAP body: rev_id unsigned, rev_page signed, rev_title nullable, of
        /// utf8mb4_general_ci, the default character set.
        fn map(&self) -> Vec<u8> {
            let mut optional = vec![(SIGNEDNESS, vec![0b1000_0000]), (DEFAULT_CHARSET, vec![45])];
            if self.names {
                optional.push(column_names(&COLUMNS));
            }
            if self.pk {
                optional.push((SIMPLE_PRIMARY_KEY, vec![0])); // rev_id
            }
            let columns: [(u8, &[u8], bool); 3] = [
                (ct::LONGLONG, &[], false),
                (ct::LONG, &[], false),
                (ct::VARCHAR, &240u16.to_le_bytes(), true), // VARCHAR(60) utf8mb4: 240 bytes
            ];
            table_map(self.id, self.db, self.name, &columns, &optional)
        }
    }

    pub const COLUMNS: [&str; 3] = ["rev_id", "rev_page", "rev_title"];

    /// A row image of the fixed layout.
    pub fn row(id: u64, page: i32, title: Option<&str>) -> Vec<u8> {
        let mut b = vec![if title.is_none() { 0b100 } else { 0 }];
        b.extend_from_slice(&id.to_le_bytes());
        b.extend_from_slice(&page.to_le_bytes());
        if let Some(t) = title {
            b.push(t.len() as u8);
            b.extend_from_slice(t.as_bytes());
        }
        b
    }

    /// The values [`row`] decodes to.
    pub fn values(id: u64, page: i32, title: Option<&str>) -> Vec<Value> {
        vec![
            Value::UInt(id),
            Value::Int(i64::from(page)),
            title.map_or(Value::Null, |t| Value::Text(t.to_string())),
        ]
    }

    /// A dump of [`FILE`] from server [`SERVER_ID`]: the MariaDB stream of
    /// mwcdc-test-support (its events through `Deref`), and the events of the fixed layout.
    pub struct Binlog(Stream);

    impl Deref for Binlog {
        type Target = Stream;

        fn deref(&self) -> &Stream {
            &self.0
        }
    }

    impl DerefMut for Binlog {
        fn deref_mut(&mut self) -> &mut Stream {
            &mut self.0
        }
    }

    impl Binlog {
        /// A stream from the start of the file.
        pub fn start() -> Self {
            Self::at(4)
        }

        /// A stream resumed at `pos`.
        pub fn at(pos: u32) -> Self {
            Self(Stream {
                server_id: SERVER_ID,
                ts: TS,
                ..Stream::new(FILE, pos)
            })
        }

        /// The TABLE_MAP of `t`.
        pub fn table_map(&mut self, t: &Table) -> Vec<u8> {
            let body = t.map();
            self.0.table_map(&body)
        }

        /// A rows event with the given columns-present bitmaps (two for UPDATE).
        pub fn rows(
            &mut self,
            type_code: u8,
            table_id: u64,
            bitmaps: &[u8],
            rows: &[u8],
        ) -> Vec<u8> {
            let present = Present::Bitmaps(bitmaps.to_vec());
            self.0
                .rows(&Rows::new(type_code, table_id, 3, rows).present(present))
        }

        pub fn write(&mut self, table_id: u64, rows: &[Vec<u8>]) -> Vec<u8> {
            self.0
                .rows(&Rows::new(et::WRITE_ROWS_V1, table_id, 3, &rows.concat()))
        }

        pub fn update(&mut self, table_id: u64, pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
            let data: Vec<u8> = pairs
                .iter()
                .flat_map(|(b, a)| [b.clone(), a.clone()].concat())
                .collect();
            self.0
                .rows(&Rows::new(et::UPDATE_ROWS_V1, table_id, 3, &data))
        }

        pub fn delete(&mut self, table_id: u64, rows: &[Vec<u8>]) -> Vec<u8> {
            self.0
                .rows(&Rows::new(et::DELETE_ROWS_V1, table_id, 3, &rows.concat()))
        }
    }
}

/// A schema lookup over maps, recording the lookups made.
#[derive(Default)]
struct MapLookup {
    keys: HashMap<String, Vec<String>>,
    columns: HashMap<String, Vec<ColumnInfo>>,
    calls: Arc<Mutex<Vec<String>>>,
}

impl SchemaLookup for MapLookup {
    fn key_columns(
        &mut self,
        db: &str,
        table: &str,
    ) -> impl Future<Output = Result<Vec<String>, SourceError>> + Send {
        let name = format!("{db}.{table}");
        self.calls
            .lock()
            .unwrap()
            .push(format!("key_columns {name}"));
        std::future::ready(Ok(self.keys.get(&name).cloned().unwrap_or_default()))
    }

    fn columns(
        &mut self,
        db: &str,
        table: &str,
    ) -> impl Future<Output = Result<Vec<ColumnInfo>, SourceError>> + Send {
        let name = format!("{db}.{table}");
        self.calls.lock().unwrap().push(format!("columns {name}"));
        std::future::ready(
            self.columns
                .get(&name)
                .cloned()
                .ok_or(SourceError::Definite(DefiniteError::Query {
                    what: format!("columns of {name}"),
                    message: "no such table".into(),
                })),
        )
    }
}

fn assembler(start: &str, mode: SchemaMode, lookup: MapLookup) -> Assembler<MapLookup> {
    Assembler::new(
        EventDecoder::new(Collations::default()),
        TableFilter::new(
            TableFilter::DEFAULT_INCLUDE.map(String::from).to_vec(),
            Vec::new(),
        ),
        mode,
        lookup,
        Position::parse(Flavor::MariaDb, start).unwrap(),
    )
}

/// Feeds events in order; the transactions they complete.
async fn feed(
    a: &mut Assembler<MapLookup>,
    events: &[Vec<u8>],
) -> Result<Vec<Transaction>, SourceError> {
    let mut out = Vec::new();
    for event in events {
        a.handle(event, &mut out).await?;
    }
    Ok(out)
}

/// Feeds the events before the last, which must fail; returns its error.
async fn feed_until_error(a: &mut Assembler<MapLookup>, events: &[Vec<u8>]) -> SourceError {
    let (last, before) = events.split_last().expect("events");
    feed(a, before)
        .await
        .expect("the events before the last pass");
    let mut out = Vec::new();
    let err = a.handle(last, &mut out).await.unwrap_err();
    assert!(out.is_empty(), "{out:?}");
    err
}

/// Asserts an [`UnusableError::Incomplete`] naming the transaction, the table and the setting,
/// in its fields and in its message.
fn assert_incomplete(err: &SourceError, want_gtid: &str, want_table: &str, want_setting: &str) {
    match err {
        SourceError::Unusable(UnusableError::Incomplete {
            gtid,
            table,
            setting,
            ..
        }) => {
            assert_eq!(gtid, want_gtid);
            assert_eq!(table, want_table);
            assert_eq!(setting, want_setting);
        }
        other => panic!("expected Incomplete, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains(want_gtid) && text.contains(want_table) && text.contains(want_setting),
        "{text}"
    );
}

#[tokio::test]
async fn insert_update_delete_make_one_transaction() {
    let lookup = MapLookup::default();
    let calls = lookup.calls.clone();
    let mut a = assembler("0-1-4", SchemaMode::Binlog, lookup);
    let rev = Table::full(70, "revision");
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 4)]);
    ev.push(b.gtid(0, 5, TRX | FL_GROUP_COMMIT_ID, None));
    ev.push(b.table_map(&rev));
    b.ts += 1;
    let write_pos = u64::from(b.pos);
    ev.push(b.write(rev.id, &[row(1, -10, Some("Main Page"))]));
    let update_pos = u64::from(b.pos);
    ev.push(b.update(
        rev.id,
        &[(row(1, -10, Some("Main Page")), row(1, 11, None))],
    ));
    let delete_pos = u64::from(b.pos);
    ev.push(b.delete(rev.id, &[row(1, 11, None)]));
    b.ts += 1;
    ev.push(b.xid(31));
    let xid_end = u64::from(b.pos);

    let out = feed(&mut a, &ev).await.unwrap();
    assert_eq!(out.len(), 1, "{out:?}");
    let t = &out[0];
    assert_eq!(&*t.gtid, "0-1-5");
    assert_eq!(t.position.to_string(), "0-1-5");
    assert_eq!(a.position().to_string(), "0-1-5");
    assert_eq!(&*t.file, FILE);
    assert_eq!(a.file(), FILE);
    assert_eq!(t.end_pos, xid_end);
    assert_eq!(t.commit_ts, TS + 2);
    assert_eq!(t.xa, None);

    let summary: Vec<_> = t
        .changes
        .to_vec()
        .unwrap()
        .into_iter()
        .map(|c| (c.op, c.event_index, c.row_index, c.pos))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Op::Create, 0, 0, write_pos),
            (Op::Update, 1, 0, update_pos),
            (Op::Delete, 2, 0, delete_pos),
        ]
    );
    let [ins, upd, del] = &t.changes.to_vec().unwrap()[..] else {
        unreachable!()
    };
    assert_eq!(ins.before, None);
    assert_eq!(ins.after, Some(values(1, -10, Some("Main Page"))));
    assert_eq!(upd.before, Some(values(1, -10, Some("Main Page"))));
    assert_eq!(upd.after, Some(values(1, 11, None)));
    assert_eq!(del.before, Some(values(1, 11, None)));
    assert_eq!(del.after, None);
    for c in &t.changes.to_vec().unwrap() {
        assert_eq!(&*c.gtid, "0-1-5");
        assert_eq!(&*c.file, FILE);
        assert_eq!(c.server_id, SERVER_ID);
        assert_eq!(c.ts_sec, TS + 1);
        assert_eq!(c.table.db, "wiki");
        assert_eq!(c.table.table, "revision");
        assert_eq!(c.table.columns, COLUMNS);
        assert_eq!(c.table.key, vec![0]);
    }
    assert_eq!(upd.id(), "0-1-5/1/0");
    // The primary key came with the TABLE_MAP: no lookup.
    assert!(calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn uncaptured_transaction_advances_and_its_rows_events_count() {
    let mut a = assembler("0-1-4", SchemaMode::Binlog, MapLookup::default());
    let page = Table::full(71, "page");
    let rev = Table::full(70, "revision");
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 4)]);
    ev.push(b.gtid(0, 5, TRX, None));
    ev.push(b.table_map(&page));
    ev.push(b.write(page.id, &[row(9, 9, Some("page"))]));
    ev.push(b.xid(40));
    let first_end = u64::from(b.pos);
    ev.push(b.gtid(0, 6, TRX, None));
    ev.push(b.table_map(&page));
    ev.push(b.update(page.id, &[(row(9, 9, None), row(9, 10, None))]));
    ev.push(b.table_map(&rev));
    let rev_pos = u64::from(b.pos);
    ev.push(b.write(rev.id, &[row(2, 1, Some("a")), row(3, 1, Some("b"))]));
    ev.push(b.xid(41));

    let out = feed(&mut a, &ev).await.unwrap();
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(&*out[0].gtid, "0-1-5");
    assert!(out[0].changes.is_empty(), "{:?}", out[0].changes);
    assert_eq!(out[0].position.to_string(), "0-1-5");
    assert_eq!(out[0].end_pos, first_end);

    assert_eq!(out[1].position.to_string(), "0-1-6");
    let rows: Vec<_> = out[1]
        .changes
        .to_vec()
        .unwrap()
        .into_iter()
        .map(|c| (c.event_index, c.row_index, c.pos, c.after.clone()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (1, 0, rev_pos, Some(values(2, 1, Some("a")))),
            (1, 1, rev_pos, Some(values(3, 1, Some("b")))),
        ]
    );
    assert_eq!(out[1].changes.to_vec().unwrap()[1].id(), "0-1-6/1/1");
}

#[tokio::test]
async fn gtid_list_seeds_missing_domains() {
    let mut a = assembler("0-1-3", SchemaMode::Binlog, MapLookup::default());
    let rev = Table::full(70, "revision");
    let mut b = Binlog::start();
    let preamble = b.preamble(&[(0, 1, 3), (1, 2, 7)]);
    assert!(feed(&mut a, &preamble).await.unwrap().is_empty());
    assert_eq!(a.position().to_string(), "0-1-3,1-2-7");

    let ev = vec![
        b.gtid(0, 4, TRX, None),
        b.table_map(&rev),
        b.write(rev.id, &[row(1, 1, None)]),
        b.xid(5),
    ];
    let out = feed(&mut a, &ev).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].position.to_string(), "0-1-4,1-2-7");
    assert_eq!(out[0].changes.len(), 1);
}

/// The prepare group of XA transaction `gtrid` with one inserted row, as MariaDB logs it.
fn xa_prepare_group(b: &mut Binlog, seq: u64, gtrid: &[u8], xid_text: &str) -> Vec<Vec<u8>> {
    let rev = Table::full(70, "revision");
    vec![
        b.gtid(0, seq, XA_PREPARED, Some(gtrid)),
        b.table_map(&rev),
        b.write(rev.id, &[row(seq, 1, Some("xa"))]),
        b.query("", &format!("XA END {xid_text}")),
        b.xa_prepare(gtrid),
    ]
}

#[tokio::test]
async fn xa_commit_publishes_the_prepared_rows() {
    const XID: &str = "X'7831',X'',1";
    let mut a = assembler("0-1-5", SchemaMode::Binlog, MapLookup::default());
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 5)]);
    ev.extend(xa_prepare_group(&mut b, 6, b"x1", XID));
    let prepare_end = u64::from(b.pos);
    let out = feed(&mut a, &ev).await.unwrap();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(&*out[0].gtid, "0-1-6");
    assert_eq!(out[0].xa, Some(XaStep::Prepare(XID.into())));
    assert!(out[0].changes.is_empty(), "rows are held until the outcome");
    assert_eq!(out[0].position.to_string(), "0-1-6");
    assert_eq!(out[0].end_pos, prepare_end);

    let ev = vec![
        b.gtid(0, 7, XA_COMPLETED, Some(b"x1")),
        b.query("", &format!("XA COMMIT {XID}")),
    ];
    let commit_end = u64::from(b.pos);
    let out = feed(&mut a, &ev).await.unwrap();
    assert_eq!(out.len(), 1, "{out:?}");
    let t = &out[0];
    assert_eq!(&*t.gtid, "0-1-7");
    assert_eq!(t.xa, Some(XaStep::Resolve(XID.into())));
    assert_eq!(t.position.to_string(), "0-1-7");
    assert_eq!(t.end_pos, commit_end);
    assert_eq!(t.changes.len(), 1);
    let c = &t.changes.to_vec().unwrap()[0];
    assert_eq!(c.op, Op::Create);
    assert_eq!(
        &*c.gtid, "0-1-6",
        "the row keeps the GTID of the events holding it"
    );
    assert_eq!(c.after, Some(values(6, 1, Some("xa"))));
}

#[tokio::test]
async fn xa_rollback_drops_the_prepared_rows() {
    const XID: &str = "X'7833',X'',1";
    let mut a = assembler("0-1-7", SchemaMode::Binlog, MapLookup::default());
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 7)]);
    ev.extend(xa_prepare_group(&mut b, 8, b"x3", XID));
    ev.push(b.gtid(0, 9, XA_COMPLETED, Some(b"x3")));
    ev.push(b.query("", &format!("XA ROLLBACK {XID}")));
    let out = feed(&mut a, &ev).await.unwrap();
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0].xa, Some(XaStep::Prepare(XID.into())));
    assert!(out[0].changes.is_empty());
    assert_eq!(&*out[1].gtid, "0-1-9");
    assert_eq!(out[1].xa, Some(XaStep::Resolve(XID.into())));
    assert!(out[1].changes.is_empty(), "{:?}", out[1].changes);
    assert_eq!(a.position().to_string(), "0-1-9");
}

#[tokio::test]
async fn statement_dml_on_captured_table_is_incomplete() {
    let mut a = assembler("0-1-4", SchemaMode::Binlog, MapLookup::default());
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 4)]);
    // binlog_format=STATEMENT on InnoDB: GTID, QUERY, XID.
    ev.push(b.gtid(0, 5, TRX, None));
    ev.push(b.query("wiki", "INSERT INTO page (page_id) VALUES (1)"));
    ev.push(b.xid(50));
    let innodb_end = u64::from(b.pos);
    // On MyISAM: GTID (not standalone), QUERY, QUERY COMMIT.
    ev.push(b.gtid(0, 6, FL_ALLOW_PARALLEL, None));
    ev.push(b.query("wiki", "UPDATE page SET page_len = 2"));
    ev.push(b.query("wiki", "COMMIT"));
    let out = feed(&mut a, &ev).await.unwrap();
    let summary: Vec<_> = out
        .iter()
        .map(|t| (t.gtid.to_string(), t.changes.len()))
        .collect();
    assert_eq!(
        summary,
        [(String::from("0-1-5"), 0), (String::from("0-1-6"), 0)]
    );
    assert_eq!(out[0].end_pos, innodb_end);
    assert_eq!(a.position().to_string(), "0-1-6");

    let ev = vec![
        b.gtid(0, 7, TRX, None),
        b.query("wiki", "INSERT INTO revision (rev_id) VALUES (1)"),
    ];
    let err = feed_until_error(&mut a, &ev).await;
    assert_incomplete(&err, "0-1-7", "wiki.revision", "binlog_format=ROW");
    assert_eq!(a.position().to_string(), "0-1-6");
}

#[tokio::test]
async fn partial_row_image_is_incomplete() {
    use mwcdc_binlog::header::event_type as et;
    let mut a = assembler("0-1-4", SchemaMode::Binlog, MapLookup::default());
    let rev = Table::full(70, "revision");
    let page = Table::full(71, "page");
    // binlog_row_image=MINIMAL: UPDATE with the key before and the changed column after.
    let mut minimal = vec![0u8];
    minimal.extend_from_slice(&9u64.to_le_bytes());
    minimal.push(0);
    minimal.extend_from_slice(&10i32.to_le_bytes());
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 4)]);
    // Not captured: not decoded, not a problem.
    ev.push(b.gtid(0, 5, TRX, None));
    ev.push(b.table_map(&page));
    ev.push(b.rows(et::UPDATE_ROWS_V1, page.id, &[0b001, 0b010], &minimal));
    ev.push(b.xid(60));
    assert_eq!(feed(&mut a, &ev).await.unwrap().len(), 1);

    let ev = vec![
        b.gtid(0, 6, TRX, None),
        b.table_map(&rev),
        b.rows(et::UPDATE_ROWS_V1, rev.id, &[0b001, 0b010], &minimal),
    ];
    let err = feed_until_error(&mut a, &ev).await;
    assert_incomplete(&err, "0-1-6", "wiki.revision", "binlog_row_image=FULL");
}

#[tokio::test]
async fn truncate_of_captured_table_is_a_truncate_change() {
    let mut a = assembler("0-1-4", SchemaMode::Binlog, MapLookup::default());
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 4)]);
    ev.push(b.gtid(0, 5, DDL, None));
    let truncate_pos = u64::from(b.pos);
    ev.push(b.ddl("", "TRUNCATE TABLE wiki.revision"));
    let truncate_end = u64::from(b.pos);
    ev.push(b.gtid(0, 6, DDL, None));
    ev.push(b.ddl("wiki", "TRUNCATE TABLE page"));
    ev.push(b.gtid(0, 7, DDL, None));
    ev.push(b.ddl("wiki", "TRUNCATE revision"));
    let out = feed(&mut a, &ev).await.unwrap();
    assert_eq!(out.len(), 3, "{out:?}");

    let t = &out[0];
    assert_eq!(&*t.gtid, "0-1-5");
    assert_eq!(t.end_pos, truncate_end);
    assert_eq!(t.changes.len(), 1);
    let c = &t.changes.to_vec().unwrap()[0];
    assert_eq!(c.op, Op::Truncate);
    assert_eq!(
        (c.table.db.as_str(), c.table.table.as_str()),
        ("wiki", "revision")
    );
    assert_eq!((c.before.clone(), c.after.clone()), (None, None));
    assert_eq!(c.pos, truncate_pos);
    assert_eq!(&*c.gtid, "0-1-5");

    assert!(out[1].changes.is_empty(), "page is not captured");
    let ops: Vec<_> = out[2]
        .changes
        .to_vec()
        .unwrap()
        .into_iter()
        .map(|c| (c.op, c.table.db.clone(), c.table.table.clone()))
        .collect();
    assert_eq!(
        ops,
        [(Op::Truncate, String::from("wiki"), String::from("revision"))]
    );
    assert_eq!(a.position().to_string(), "0-1-7");
}

#[tokio::test]
async fn corrupted_event_is_a_decode_error_at_its_position() {
    let mut a = assembler("0-1-4", SchemaMode::Binlog, MapLookup::default());
    let rev = Table::full(70, "revision");
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 4)]);
    ev.push(b.gtid(0, 5, TRX, None));
    ev.push(b.table_map(&rev));
    let write_pos = u64::from(b.pos);
    let mut write = b.write(rev.id, &[row(1, 1, Some("x"))]);
    write[30] ^= 0x01;
    ev.push(write);
    let err = feed_until_error(&mut a, &ev).await;
    match &err {
        SourceError::Definite(DefiniteError::Decode { file, pos, source }) => {
            assert_eq!(file, FILE);
            assert_eq!(*pos, write_pos);
            assert!(
                matches!(source, DecodeError::ChecksumMismatch { .. }),
                "{source:?}"
            );
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    assert!(
        err.to_string().contains(&format!("{FILE}:{write_pos}")),
        "{err}"
    );
    assert_eq!(a.position().to_string(), "0-1-4");
}

#[tokio::test]
async fn table_map_without_column_names_needs_full_row_metadata() {
    let mut a = assembler("0-1-4", SchemaMode::Binlog, MapLookup::default());
    let minimal = |id, name| Table {
        names: false,
        pk: false,
        ..Table::full(id, name)
    };
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 4)]);
    ev.push(b.gtid(0, 5, TRX, None));
    // An uncaptured table is not looked at.
    ev.push(b.table_map(&minimal(71, "page")));
    ev.push(b.table_map(&minimal(70, "revision")));
    let err = feed_until_error(&mut a, &ev).await;
    match &err {
        SourceError::Unusable(UnusableError::ServerSetting {
            setting, expected, ..
        }) => {
            assert_eq!(setting, "binlog_row_metadata");
            assert_eq!(expected, "FULL");
        }
        other => panic!("expected ServerSetting, got {other:?}"),
    }
    assert!(matches!(err, SourceError::Unusable(_)));
}

#[tokio::test]
async fn information_schema_mode_names_columns_from_the_lookup() {
    let column =
        |name: &str, data_type: &str, column_type: &str, charset: Option<&str>| ColumnInfo {
            name: name.into(),
            data_type: data_type.into(),
            column_type: column_type.into(),
            charset: charset.map(String::from),
        };
    let mut lookup = MapLookup::default();
    lookup.columns.insert(
        "wiki.revision".into(),
        vec![
            column("id", "bigint", "bigint(20) unsigned", None),
            column("page", "int", "int(11)", None),
            column("title", "varchar", "varchar(60)", Some("utf8mb4")),
        ],
    );
    lookup
        .keys
        .insert("wiki.revision".into(), vec!["id".into()]);
    let calls = lookup.calls.clone();
    let mut a = assembler("0-1-4", SchemaMode::InformationSchema, lookup);
    let rev = Table {
        names: false,
        pk: false,
        ..Table::full(70, "revision")
    };
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 4)]);
    ev.push(b.gtid(0, 5, TRX, None));
    ev.push(b.table_map(&rev));
    ev.push(b.write(rev.id, &[row(4, 2, Some("t"))]));
    ev.push(b.xid(70));
    let out = feed(&mut a, &ev).await.unwrap();
    assert_eq!(out.len(), 1);
    let c = &out[0].changes.to_vec().unwrap()[0];
    assert_eq!(c.table.columns, ["id", "page", "title"]);
    assert_eq!(c.table.key, vec![0]);
    assert_eq!(c.after, Some(values(4, 2, Some("t"))));
    assert_eq!(
        *calls.lock().unwrap(),
        ["columns wiki.revision", "key_columns wiki.revision"]
    );
}

#[tokio::test]
async fn keyless_table_takes_its_key_from_the_lookup() {
    let keyless = |id| Table {
        pk: false,
        ..Table::full(id, "revision")
    };
    let mut lookup = MapLookup::default();
    lookup
        .keys
        .insert("wiki.revision".into(), vec!["rev_page".into()]);
    let calls = lookup.calls.clone();
    let mut a = assembler("0-1-4", SchemaMode::Binlog, lookup);
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 4)]);
    for (seq, table_id) in [(5, 70), (6, 71)] {
        ev.push(b.gtid(0, seq, TRX, None));
        ev.push(b.table_map(&keyless(table_id)));
        ev.push(b.write(table_id, &[row(seq, 3, None)]));
        ev.push(b.xid(seq));
    }
    let out = feed(&mut a, &ev).await.unwrap();
    let keys: Vec<_> = out
        .iter()
        .map(|t| t.changes.to_vec().unwrap()[0].table.key.clone())
        .collect();
    assert_eq!(keys, [vec![1], vec![1]]);
    assert_eq!(
        *calls.lock().unwrap(),
        ["key_columns wiki.revision"],
        "cached for the second TABLE_MAP"
    );

    // DDL on the table drops the cached key: the next TABLE_MAP looks it up again.
    let ev = vec![
        b.gtid(0, 7, DDL, None),
        b.ddl("wiki", "ALTER TABLE revision ADD UNIQUE KEY (rev_page)"),
        b.gtid(0, 8, TRX, None),
        b.table_map(&keyless(72)),
        b.write(72, &[row(8, 3, None)]),
        b.xid(8),
    ];
    let out = feed(&mut a, &ev).await.unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].changes.to_vec().unwrap()[0].table.key, vec![1]);
    assert_eq!(calls.lock().unwrap().len(), 2);

    // No key at all: the records get an empty key.
    let mut a = assembler("0-1-4", SchemaMode::Binlog, MapLookup::default());
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 4)]);
    ev.push(b.gtid(0, 5, TRX, None));
    ev.push(b.table_map(&keyless(70)));
    ev.push(b.write(70, &[row(5, 3, None)]));
    ev.push(b.xid(5));
    let out = feed(&mut a, &ev).await.unwrap();
    assert_eq!(out[0].changes.len(), 1);
    assert!(out[0].changes.to_vec().unwrap()[0].table.key.is_empty());
}

#[tokio::test]
async fn reconnect_drops_the_partial_transaction() {
    let mut a = assembler("0-1-4", SchemaMode::Binlog, MapLookup::default());
    let rev = Table::full(70, "revision");
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 4)]);
    ev.push(b.gtid(0, 5, TRX, None));
    ev.push(b.table_map(&rev));
    ev.push(b.write(rev.id, &[row(5, 1, None)]));
    ev.push(b.xid(5));
    let resume_at = b.pos;
    ev.push(b.gtid(0, 6, TRX, None));
    ev.push(b.table_map(&rev));
    ev.push(b.write(rev.id, &[row(6, 1, None)]));
    let out = feed(&mut a, &ev).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(a.position().to_string(), "0-1-5");

    // The connection broke before the XID. Without `reconnect`, the repeated GTID is refused.
    let mut b2 = Binlog::at(resume_at);
    let mut again = b2.preamble(&[(0, 1, 5)]);
    again.push(b2.gtid(0, 6, TRX, None));
    again.push(b2.table_map(&rev));
    again.push(b2.write(rev.id, &[row(6, 1, None)]));
    again.push(b2.xid(6));
    let end = u64::from(b2.pos);

    a.reconnect();
    let out = feed(&mut a, &again).await.unwrap();
    assert_eq!(out.len(), 1, "{out:?}");
    let t = &out[0];
    assert_eq!(&*t.gtid, "0-1-6");
    assert_eq!(t.position.to_string(), "0-1-6");
    assert_eq!(t.end_pos, end);
    let rows: Vec<_> = t
        .changes
        .to_vec()
        .unwrap()
        .into_iter()
        .map(|c| (c.event_index, c.after.clone()))
        .collect();
    assert_eq!(rows, [(0, Some(values(6, 1, None)))]);
}

#[tokio::test]
async fn a_new_gtid_inside_an_open_transaction_is_refused() {
    // The counterpart of the reconnect test: the same stream without `reconnect()`.
    let mut a = assembler("0-1-4", SchemaMode::Binlog, MapLookup::default());
    let rev = Table::full(70, "revision");
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 4)]);
    ev.push(b.gtid(0, 5, TRX, None));
    ev.push(b.table_map(&rev));
    ev.push(b.write(rev.id, &[row(5, 1, None)]));
    ev.push(b.gtid(0, 6, TRX, None));
    let err = feed_until_error(&mut a, &ev).await;
    assert!(
        matches!(&err, SourceError::Definite(DefiniteError::Protocol { message, .. }) if message.contains("0-1-5")),
        "{err:?}"
    );
}

/// The events of one transaction inserting one revision row, 0-1-5 after 0-1-4.
fn one_insert() -> Vec<Vec<u8>> {
    let rev = Table::full(70, "revision");
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 4)]);
    ev.push(b.gtid(0, 5, TRX, None));
    ev.push(b.table_map(&rev));
    ev.push(b.write(rev.id, &[row(1, -10, Some("Main Page"))]));
    ev.push(b.xid(31));
    ev
}

#[tokio::test]
async fn a_transaction_that_cannot_be_sealed_leaves_the_position_where_it_was() {
    let events = one_insert();
    let mut plain = assembler("0-1-4", SchemaMode::Binlog, MapLookup::default());
    let change = feed(&mut plain, &events).await.unwrap()[0]
        .changes
        .to_vec()
        .unwrap()
        .remove(0);
    // Other buffers of the policy hold more than the budget without spilling themselves, so
    // sealing the transaction must spill it, into a directory that cannot be made.
    let budget = 1_000_000;
    let unusable = std::path::PathBuf::from("/dev/null/spill");
    let policy = Arc::new(mwcdc_change::SpillPolicy::new(budget, unusable));
    let mut others = Vec::new();
    while policy.memory_in_use() <= budget {
        let mut buffer = mwcdc_change::ChangeBuffer::new(policy.clone());
        for _ in 0..100 {
            buffer.push(change.clone()).unwrap();
        }
        assert_eq!(buffer.spilled_bytes(), 0, "each stays under the chunk size");
        others.push(buffer);
    }
    let mut a =
        assembler("0-1-4", SchemaMode::Binlog, MapLookup::default()).with_spill(policy.clone());
    let err = feed_until_error(&mut a, &events).await;
    assert!(
        matches!(err, SourceError::Definite(DefiniteError::Spill(_))),
        "{err:?}"
    );
    assert_eq!(
        a.position().to_string(),
        "0-1-4",
        "the transaction was not handed on: the position stays before it"
    );
}

#[tokio::test]
async fn an_xa_commit_whose_prepare_was_not_read_stops_instead_of_losing_its_rows() {
    const XID: &str = "X'7834',X'',1";
    // The run starts after the PREPARE (0-1-8): only the COMMIT is in the stream.
    let mut a = assembler("0-1-8", SchemaMode::Binlog, MapLookup::default());
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 8)]);
    ev.push(b.gtid(0, 9, XA_COMPLETED, Some(b"x4")));
    ev.push(b.query("", &format!("XA COMMIT {XID}")));
    let err = feed_until_error(&mut a, &ev).await;
    assert!(
        matches!(&err, SourceError::Unusable(UnusableError::XaPrepareMissing { xid, gtid, .. }) if xid == XID && gtid == "0-1-9"),
        "{err:?}"
    );
    assert_eq!(a.position().to_string(), "0-1-8", "not past the commit");
    // The replicator reads the prepare group again and holds its rows: the commit, read
    // again, publishes them.
    let mut b2 = Binlog::start();
    let mut first = b2.preamble(&[(0, 1, 7)]);
    first.extend(xa_prepare_group(&mut b2, 8, b"x4", XID));
    let mut reader = assembler("0-1-7", SchemaMode::Binlog, MapLookup::default());
    let prepared = feed(&mut reader, &first).await.unwrap();
    assert_eq!(prepared[0].xa, Some(XaStep::Prepare(XID.into())));
    let rows = reader.take_prepared(XID).expect("held rows");
    a.reconnect();
    a.hold_prepared(XID.into(), rows);
    let out = feed(&mut a, &ev).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].changes.len(), 1, "the prepared row, with the commit");
    assert_eq!(a.position().to_string(), "0-1-9");
    // A rollback of such a transaction loses nothing: it passes.
    let mut a = assembler("0-1-8", SchemaMode::Binlog, MapLookup::default());
    let mut b = Binlog::start();
    let mut ev = b.preamble(&[(0, 1, 8)]);
    ev.push(b.gtid(0, 9, XA_COMPLETED, Some(b"x4")));
    ev.push(b.query("", &format!("XA ROLLBACK {XID}")));
    let out = feed(&mut a, &ev).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(a.position().to_string(), "0-1-9");
}
