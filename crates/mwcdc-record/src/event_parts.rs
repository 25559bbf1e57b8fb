//! The parts of a row change record's value that every row of one rows event shares (the
//! `source` block but its row number, the processing time, the transaction id), rendered once
//! per event instead of once per row.

use std::sync::Arc;

use crate::json::{write_str, write_u64};
use mwcdc_change::{Op, RowChange, TableSchema};

/// What the shared parts were rendered from, and the parts.
#[derive(Debug)]
pub(crate) struct EventParts {
    server_id: u32,
    gtid: Arc<str>,
    file: Arc<str>,
    pos: u64,
    ts_sec: u32,
    table: Arc<TableSchema>,
    now_ms: u64,
    /// Whether the parts are those of rows a snapshot read (`source.gtid` null).
    read: bool,
    /// `,"source":{...,"pos":<pos>,"row":`
    pub(crate) source_head: Vec<u8>,
    /// `,"ts_ms":<event time>,"db":...,"snapshot":` (the value follows)
    pub(crate) source_tail: Vec<u8>,
    /// `","ts_ms":<now>,"transaction":{"id":<gtid>,"total_order":`
    pub(crate) transaction_head: Vec<u8>,
}

impl EventParts {
    /// Whether these parts are those of `change` processed at `now_ms`. The cached `Arc`s
    /// keep their allocations alive, so equal pointers mean equal values.
    fn fits(&self, change: &RowChange, now_ms: u64) -> bool {
        self.pos == change.pos
            && self.read == (change.op == Op::Read)
            && self.now_ms == now_ms
            && self.server_id == change.server_id
            && self.ts_sec == change.ts_sec
            && Arc::ptr_eq(&self.gtid, &change.gtid)
            && Arc::ptr_eq(&self.file, &change.file)
            && Arc::ptr_eq(&self.table, &change.table)
    }

    fn render(change: &RowChange, now_ms: u64, version: &str, connector: &str) -> Self {
        let mut head = Vec::with_capacity(160);
        head.extend_from_slice(b",\"source\":{\"connector\":\"mwcdc\",\"version\":");
        write_str(&mut head, version);
        head.extend_from_slice(b",\"name\":");
        write_str(&mut head, connector);
        head.extend_from_slice(b",\"server_id\":");
        write_u64(&mut head, change.server_id.into());
        head.extend_from_slice(b",\"gtid\":");
        let read = change.op == Op::Read;
        if read {
            // A snapshot's row was read at a binlog position, not written by a transaction.
            head.extend_from_slice(b"null");
        } else {
            write_str(&mut head, &change.gtid);
        }
        head.extend_from_slice(b",\"file\":");
        write_str(&mut head, &change.file);
        head.extend_from_slice(b",\"pos\":");
        write_u64(&mut head, change.pos);
        head.extend_from_slice(b",\"row\":");
        let mut tail = Vec::with_capacity(96);
        tail.extend_from_slice(b",\"ts_ms\":");
        write_u64(&mut tail, u64::from(change.ts_sec) * 1000);
        tail.extend_from_slice(b",\"db\":");
        write_str(&mut tail, &change.table.db);
        tail.extend_from_slice(b",\"table\":");
        write_str(&mut tail, &change.table.table);
        tail.extend_from_slice(b",\"snapshot\":");
        let mut transaction = Vec::with_capacity(64);
        transaction.extend_from_slice(b"\",\"ts_ms\":");
        write_u64(&mut transaction, now_ms);
        transaction.extend_from_slice(b",\"transaction\":{\"id\":");
        write_str(&mut transaction, &change.gtid);
        transaction.extend_from_slice(b",\"total_order\":");
        Self {
            server_id: change.server_id,
            gtid: change.gtid.clone(),
            file: change.file.clone(),
            pos: change.pos,
            ts_sec: change.ts_sec,
            table: change.table.clone(),
            now_ms,
            read,
            source_head: head,
            source_tail: tail,
            transaction_head: transaction,
        }
    }

    /// The parts for `change`, from `cached` when it fits, else rendered into it.
    pub(crate) fn of<'a>(
        cached: &'a mut Option<EventParts>,
        change: &RowChange,
        now_ms: u64,
        version: &str,
        connector: &str,
    ) -> &'a EventParts {
        if !cached.as_ref().is_some_and(|p| p.fits(change, now_ms)) {
            *cached = None;
        }
        cached.get_or_insert_with(|| Self::render(change, now_ms, version, connector))
    }
}
