//! Debezium's change-event envelope (as `JsonConverter` writes it with `schemas.enable=false`).
//!
//! One record per row change: value `{"before","after","source","op","ts_ms","transaction"}`,
//! key the table's key columns as a JSON object, header `mwcdc.id` the change's deterministic
//! id. An update that changes the key becomes a delete of the old key and a create of the
//! new one; a delete is followed by a tombstone (same key, null value) unless disabled.

use std::collections::HashMap;
use std::sync::Arc;

use mwcdc_binlog::Value;
use mwcdc_change::{
    ChangeIter, Op, RowChange, SnapshotChunk, SpillError, TableSchema, Transaction,
};

use crate::event_parts::EventParts;
use crate::json::{json_names, write_str, write_u64, write_value, BinaryMode};
use crate::record::{KeyEncoding, Record};
use crate::topic::TopicTemplate;

/// What the encoder needs to know.
#[derive(Debug, Clone)]
pub struct RowEncoderConfig {
    /// The connector name (`source.name`).
    pub connector_name: String,
    /// `{prefix}` of topic names.
    pub topic_prefix: String,
    /// The topic template.
    pub topic: TopicTemplate,
    /// Binary value rendering.
    pub binary: BinaryMode,
    /// Whether a delete is followed by a tombstone.
    pub tombstones: bool,
}

/// Turns transactions into records.
#[derive(Debug)]
pub struct RowEncoder {
    config: RowEncoderConfig,
    /// Rendered topics by database, then table.
    topics: HashMap<String, HashMap<String, Arc<str>>>,
    /// The table of the last change encoded and its topic: consecutive changes are mostly of
    /// one table, whose topic is then not looked up by name.
    last_topic: Option<(Arc<TableSchema>, Arc<str>)>,
    version: &'static str,
    reserved: Vec<String>,
    /// The length of the last value written: the next one is given room for it and a
    /// quarter more, so that a value is rarely copied to a larger buffer while it is written.
    last_value_len: usize,
    /// The shared parts of the values of the rows event being encoded.
    event_parts: Option<EventParts>,
}

impl RowEncoder {
    /// An encoder with the given settings.
    pub fn new(config: RowEncoderConfig) -> Self {
        Self {
            config,
            topics: HashMap::new(),
            last_topic: None,
            version: env!("CARGO_PKG_VERSION"),
            reserved: Vec::new(),
            last_value_len: 256,
            event_parts: None,
        }
    }

    /// Topics that other records use (the entity stream's): a table whose topic is one of
    /// them is reported once, as its records would mix with the others.
    pub fn reserve_topics(&mut self, topics: impl IntoIterator<Item = String>) {
        self.reserved.extend(topics);
    }

    /// The topic of a table's records.
    pub fn topic(&mut self, db: &str, table: &str) -> Arc<str> {
        if let Some(t) = self.topics.get(db).and_then(|tables| tables.get(table)) {
            return t.clone();
        }
        let topic: Arc<str> = self
            .config
            .topic
            .render(&self.config.topic_prefix, db, table)
            .into();
        if self.reserved.iter().any(|r| **r == *topic) {
            tracing::warn!(db, table, %topic, "the row topic of this table is also an entity topic: change output.topic or output.entity_topic");
        }
        self.topics
            .entry(db.to_string())
            .or_default()
            .insert(table.to_string(), topic.clone());
        topic
    }

    /// The topic of `table`'s records, by [`RowEncoder::topic`] unless `table` is the last one
    /// asked for.
    fn table_topic(&mut self, table: &Arc<TableSchema>) -> Arc<str> {
        if let Some((last, topic)) = &self.last_topic {
            if Arc::ptr_eq(last, table) {
                return topic.clone();
            }
        }
        let topic = self.topic(&table.db, &table.table);
        self.last_topic = Some((table.clone(), topic.clone()));
        topic
    }

    /// Encodes every change of a transaction, in order. `now_ms` is the processing time.
    pub fn encode(&mut self, txn: &Transaction, now_ms: u64) -> Result<Vec<Record>, SpillError> {
        self.records(txn, now_ms).collect()
    }

    /// The records of a transaction, in order, encoded one change at a time as they are
    /// taken, so that a large transaction is never encoded all at once.
    pub fn records<'a>(&'a mut self, txn: &'a Transaction, now_ms: u64) -> RowRecords<'a> {
        RowRecords {
            encoder: self,
            changes: txn.changes.iter(),
            orders: Orders::default(),
            snapshot: txn
                .snapshot
                .as_ref()
                .map(|chunk| (chunk, txn.changes.len())),
            row: 0,
            now_ms,
            ready: std::collections::VecDeque::new(),
        }
    }

    /// Appends the records of one change (one, or two or three for deletes and key changes);
    /// `snapshot` is what `source.snapshot` says of it.
    fn encode_change(
        &mut self,
        change: &RowChange,
        orders: &mut Orders,
        now_ms: u64,
        snapshot: &'static str,
        out: &mut std::collections::VecDeque<Record>,
    ) {
        let topic = self.table_topic(&change.table);
        let id = change.id();
        let key_changed = change.op == Op::Update
            && !change.table.key.is_empty()
            && key_values(change, change.before.as_deref())
                != key_values(change, change.after.as_deref());
        if key_changed {
            let order = orders.next(&change.table);
            let old_key = self.key(change, change.before.as_deref());
            out.push_back(Record {
                key_encoding: KeyEncoding::Json,
                topic: topic.clone(),
                key: old_key.clone(),
                value: Some(self.value(
                    change,
                    Op::Delete,
                    (change.before.as_deref(), None),
                    order,
                    now_ms,
                    snapshot,
                )),
                id: id.clone(),
                table: change.table.clone(),
                snapshot_key: None,
            });
            if self.config.tombstones {
                out.push_back(tombstone(&topic, old_key, &id, &change.table));
            }
            let order = orders.next(&change.table);
            out.push_back(Record {
                key_encoding: KeyEncoding::Json,
                topic,
                key: self.key(change, change.after.as_deref()),
                value: Some(self.value(
                    change,
                    Op::Create,
                    (None, change.after.as_deref()),
                    order,
                    now_ms,
                    snapshot,
                )),
                id: format!("{id}/newkey"),
                table: change.table.clone(),
                snapshot_key: None,
            });
            return;
        }
        let order = orders.next(&change.table);
        let key = match change.op {
            Op::Truncate => None,
            Op::Delete => self.key(change, change.before.as_deref()),
            Op::Create | Op::Update | Op::Read => self.key(change, change.after.as_deref()),
        };
        let value = self.value(
            change,
            change.op,
            (change.before.as_deref(), change.after.as_deref()),
            order,
            now_ms,
            snapshot,
        );
        // A tombstone only means something under a key: compaction removes that key.
        let tombstone = (change.op == Op::Delete && self.config.tombstones && key.is_some())
            .then(|| tombstone(&topic, key.clone(), &id, &change.table));
        out.push_back(Record {
            key_encoding: KeyEncoding::Json,
            topic,
            key,
            value: Some(value),
            id,
            table: change.table.clone(),
            snapshot_key: change.snapshot_key(),
        });
        out.extend(tombstone);
    }

    fn key(&self, change: &RowChange, row: Option<&[Value]>) -> Option<Vec<u8>> {
        let table = &change.table;
        let row = row?;
        if table.key.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(32);
        out.push(b'{');
        if !self.config.topic.has_db() {
            out.extend_from_slice(b"\"__db\":");
            write_str(&mut out, &table.db);
            out.push(b',');
        }
        for (n, &col) in table.key.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            write_str(&mut out, &table.columns[col]);
            out.push(b':');
            write_value(
                &mut out,
                row.get(col).unwrap_or(&Value::Null),
                self.config.binary,
            );
        }
        out.push(b'}');
        Some(out)
    }

    fn value(
        &mut self,
        change: &RowChange,
        op: Op,
        (before, after): (Option<&[Value]>, Option<&[Value]>),
        (total_order, table_order): (u32, u32),
        now_ms: u64,
        snapshot: &str,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.last_value_len + self.last_value_len / 4);
        out.extend_from_slice(b"{\"before\":");
        self.row(&mut out, &change.table, before);
        out.extend_from_slice(b",\"after\":");
        self.row(&mut out, &change.table, after);
        let parts = EventParts::of(
            &mut self.event_parts,
            change,
            now_ms,
            self.version,
            &self.config.connector_name,
        );
        out.extend_from_slice(&parts.source_head);
        write_u64(&mut out, change.row_index.into());
        out.extend_from_slice(&parts.source_tail);
        out.push(b'"');
        out.extend_from_slice(snapshot.as_bytes());
        out.extend_from_slice(b"\"},\"op\":\"");
        out.extend_from_slice(op.code().as_bytes());
        if op == Op::Read {
            // Debezium's snapshot records belong to no transaction.
            out.extend_from_slice(b"\",\"ts_ms\":");
            write_u64(&mut out, now_ms);
            out.extend_from_slice(b",\"transaction\":null}");
            self.last_value_len = out.len();
            return out;
        }
        out.extend_from_slice(&parts.transaction_head);
        write_u64(&mut out, total_order.into());
        out.extend_from_slice(b",\"data_collection_order\":");
        write_u64(&mut out, table_order.into());
        out.extend_from_slice(b"}}");
        self.last_value_len = out.len();
        out
    }

    fn row(&self, out: &mut Vec<u8>, table: &TableSchema, row: Option<&[Value]>) {
        let Some(row) = row else {
            out.extend_from_slice(b"null");
            return;
        };
        out.push(b'{');
        for (n, (name, value)) in json_names(table).iter().zip(row).enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(name);
            write_value(out, value, self.config.binary);
        }
        out.push(b'}');
    }
}

/// The records of one transaction, produced change by change (see [`RowEncoder::records`]).
pub struct RowRecords<'a> {
    encoder: &'a mut RowEncoder,
    changes: ChangeIter<'a>,
    orders: Orders,
    /// A snapshot chunk's place in its job and its number of rows.
    snapshot: Option<(&'a SnapshotChunk, usize)>,
    /// The index of the next change.
    row: usize,
    now_ms: u64,
    ready: std::collections::VecDeque<Record>,
}

/// What `source.snapshot` says of the row with index `row` of a transaction: `"false"` for
/// a binlog transaction's, Debezium's words for a snapshot chunk's rows (`"first"` and `"last"`
/// of the job, `"last_in_data_collection"` of a table, `"true"` for the others).
fn snapshot_word(snapshot: Option<(&SnapshotChunk, usize)>, row: usize) -> &'static str {
    let Some((chunk, rows)) = snapshot else {
        return "false";
    };
    let last = row + 1 == rows;
    if last && chunk.last_of_job {
        "last"
    } else if row == 0 && chunk.first_of_job {
        "first"
    } else if last && chunk.last_of_table {
        "last_in_data_collection"
    } else {
        "true"
    }
}

impl Iterator for RowRecords<'_> {
    type Item = Result<Record, SpillError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.ready.is_empty() {
            let change = match self.changes.next()? {
                Ok(change) => change,
                Err(e) => return Some(Err(e)),
            };
            let snapshot = snapshot_word(self.snapshot, self.row);
            self.row += 1;
            self.encoder.encode_change(
                &change,
                &mut self.orders,
                self.now_ms,
                snapshot,
                &mut self.ready,
            );
        }
        self.ready.pop_front().map(Ok)
    }
}

/// `transaction.total_order` and `data_collection_order` of the records of one transaction.
#[derive(Default)]
struct Orders {
    total: u32,
    per_table: Vec<(Arc<TableSchema>, u32)>,
}

impl Orders {
    /// The orders of the next change record of `table`.
    fn next(&mut self, table: &Arc<TableSchema>) -> (u32, u32) {
        self.total += 1;
        let same = |t: &Arc<TableSchema>| {
            Arc::ptr_eq(t, table) || (t.db == table.db && t.table == table.table)
        };
        let table_order = match self.per_table.iter_mut().find(|(t, _)| same(t)) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.per_table.push((table.clone(), 1));
                1
            }
        };
        (self.total, table_order)
    }
}

fn key_values<'a>(change: &RowChange, row: Option<&'a [Value]>) -> Option<Vec<&'a Value>> {
    let row = row?;
    Some(
        change
            .table
            .key
            .iter()
            .filter_map(|&i| row.get(i))
            .collect(),
    )
}

fn tombstone(topic: &Arc<str>, key: Option<Vec<u8>>, id: &str, table: &Arc<TableSchema>) -> Record {
    Record {
        key_encoding: KeyEncoding::Json,
        topic: topic.clone(),
        key,
        value: None,
        id: format!("{id}/tombstone"),
        table: table.clone(),
        snapshot_key: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mwcdc_position::Position;

    fn table() -> Arc<TableSchema> {
        Arc::new(TableSchema::new(
            "enwiki".into(),
            "revision".into(),
            vec!["rev_id".into(), "rev_sha1".into()],
            vec![0],
        ))
    }

    fn change(
        op: Op,
        before: Option<Vec<Value>>,
        after: Option<Vec<Value>>,
        row: u32,
    ) -> RowChange {
        RowChange {
            table: table(),
            op,
            before,
            after,
            gtid: "0-1-42".into(),
            event_index: 1,
            row_index: row,
            file: "bin.000001".into(),
            pos: 500,
            server_id: 1,
            ts_sec: 1_795_651_200,
        }
    }

    fn encoder(template: &str, tombstones: bool) -> RowEncoder {
        RowEncoder::new(RowEncoderConfig {
            connector_name: "mwcdc".into(),
            topic_prefix: "mwcdc".into(),
            topic: TopicTemplate::parse(template).unwrap(),
            binary: BinaryMode::Utf8,
            tombstones,
        })
    }

    fn txn(changes: Vec<RowChange>) -> Transaction {
        Transaction {
            gtid: "0-1-42".into(),
            position: Position::parse_any("0-1-42").unwrap(),
            file: "bin.000001".into(),
            end_pos: 900,
            commit_ts: 1_795_651_200,
            changes: changes.into(),
            xa: None,
            snapshot: None,
        }
    }

    fn json(bytes: &Option<Vec<u8>>) -> serde_json::Value {
        serde_json::from_slice(bytes.as_ref().unwrap()).unwrap()
    }

    #[test]
    fn insert_record_has_the_debezium_envelope() {
        let c = change(
            Op::Create,
            None,
            Some(vec![Value::UInt(u64::MAX), Value::Bytes(vec![0xff])]),
            0,
        );
        let records = encoder(TopicTemplate::DEFAULT, true)
            .encode(&txn(vec![c]), 7)
            .unwrap();
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(&*r.topic, "mwcdc.enwiki.revision");
        assert_eq!(r.id, "0-1-42/1/0");
        assert_eq!(
            String::from_utf8(r.key.clone().unwrap()).unwrap(),
            r#"{"rev_id":18446744073709551615}"#
        );
        assert_eq!(
            json(&r.value),
            serde_json::json!({
                "before": null,
                "after": {"rev_id": 18446744073709551615u64, "rev_sha1": {"base64": "/w=="}},
                "source": {"connector": "mwcdc", "version": env!("CARGO_PKG_VERSION"),
                    "name": "mwcdc", "server_id": 1, "gtid": "0-1-42", "file": "bin.000001",
                    "pos": 500, "row": 0, "ts_ms": 1_795_651_200_000u64, "db": "enwiki",
                    "table": "revision", "snapshot": "false"},
                "op": "c", "ts_ms": 7,
                "transaction": {"id": "0-1-42", "total_order": 1, "data_collection_order": 1}
            })
        );
    }

    #[test]
    fn delete_is_followed_by_a_tombstone_unless_disabled() {
        let c = change(Op::Delete, Some(vec![Value::UInt(5), Value::Null]), None, 3);
        let records = encoder(TopicTemplate::DEFAULT, true)
            .encode(&txn(vec![c.clone()]), 7)
            .unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(json(&records[0].value)["op"], "d");
        assert_eq!(records[1].value, None);
        assert_eq!(records[1].key, records[0].key);
        assert_eq!(records[1].id, "0-1-42/1/3/tombstone");
        let records = encoder(TopicTemplate::DEFAULT, false)
            .encode(&txn(vec![c]), 7)
            .unwrap();
        assert_eq!(records.len(), 1);
    }

    #[test]
    fn key_change_becomes_delete_and_create() {
        let c = change(
            Op::Update,
            Some(vec![Value::UInt(1), Value::Null]),
            Some(vec![Value::UInt(2), Value::Null]),
            0,
        );
        let plain = change(
            Op::Update,
            Some(vec![Value::UInt(2), Value::Null]),
            Some(vec![Value::UInt(2), Value::Text("x".into())]),
            1,
        );
        let records = encoder(TopicTemplate::DEFAULT, true)
            .encode(&txn(vec![c, plain]), 7)
            .unwrap();
        let ops: Vec<_> = records
            .iter()
            .map(|r| {
                r.value
                    .as_ref()
                    .map(|_| json(&r.value)["op"].as_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(
            ops,
            vec![Some("d".into()), None, Some("c".into()), Some("u".into())]
        );
        assert_eq!(records[0].key.as_deref(), Some(&br#"{"rev_id":1}"#[..]));
        assert_eq!(records[2].key.as_deref(), Some(&br#"{"rev_id":2}"#[..]));
        assert_eq!(records[2].id, "0-1-42/1/0/newkey");
        let orders: Vec<_> = [0, 2, 3]
            .iter()
            .map(|&i| {
                json(&records[i].value)["transaction"]["total_order"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(orders, vec![1, 2, 3]);
    }

    #[test]
    fn template_without_db_puts_db_in_key() {
        let c = change(Op::Create, None, Some(vec![Value::UInt(9), Value::Null]), 0);
        let records = encoder("{prefix}.{table}", true)
            .encode(&txn(vec![c]), 7)
            .unwrap();
        assert_eq!(&*records[0].topic, "mwcdc.revision");
        assert_eq!(
            records[0].key.as_deref(),
            Some(&br#"{"__db":"enwiki","rev_id":9}"#[..])
        );
    }

    #[test]
    fn keyless_table_and_truncate_have_null_keys() {
        let mut c = change(Op::Create, None, Some(vec![Value::UInt(9), Value::Null]), 0);
        let t = table();
        c.table = Arc::new(TableSchema::new(
            t.db.clone(),
            t.table.clone(),
            t.columns.clone(),
            vec![],
        ));
        let mut d = change(Op::Delete, Some(vec![Value::UInt(9), Value::Null]), None, 1);
        d.table = c.table.clone();
        let t = change(Op::Truncate, None, None, 0);
        let records = encoder(TopicTemplate::DEFAULT, true)
            .encode(&txn(vec![c, d, t]), 7)
            .unwrap();
        assert_eq!(records.len(), 3, "no tombstone without a key");
        assert_eq!(records[0].key, None);
        assert_eq!(records[1].key, None);
        assert_eq!(json(&records[1].value)["op"], "d");
        assert_eq!(records[2].key, None);
        assert_eq!(json(&records[2].value)["op"], "t");
    }
}
