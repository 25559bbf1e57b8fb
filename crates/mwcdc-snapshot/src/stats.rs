//! What a snapshot has done, as counters the metrics read at each scrape.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of a snapshot job, updated by its reader and merger.
#[derive(Debug, Default)]
pub struct SnapshotStats {
    rows: AtomicU64,
    rows_dropped: AtomicU64,
    chunks_held: AtomicU64,
    chunks_retried: AtomicU64,
    tables: AtomicU64,
    tables_done: AtomicU64,
    rows_estimate: AtomicU64,
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsView {
    /// Rows published.
    pub rows: u64,
    /// Rows read but not published, because the stream changed their key after the chunk's
    /// read position.
    pub rows_dropped: u64,
    /// Chunks that waited for the stream to reach their read position.
    pub chunks_held: u64,
    /// Chunk reads that were retried (a conflict with DDL, a lock wait, a broken connection).
    pub chunks_retried: u64,
    /// The job's tables.
    pub tables: u64,
    /// The job's tables whose every row is published.
    pub tables_done: u64,
    /// The rows of the job's tables not yet done when this run began, as the server
    /// estimates them (`information_schema.TABLES.TABLE_ROWS`).
    pub rows_estimate: u64,
}

impl SnapshotStats {
    /// The counters now.
    pub fn view(&self) -> StatsView {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsView {
            rows: get(&self.rows),
            rows_dropped: get(&self.rows_dropped),
            chunks_held: get(&self.chunks_held),
            chunks_retried: get(&self.chunks_retried),
            tables: get(&self.tables),
            tables_done: get(&self.tables_done),
            rows_estimate: get(&self.rows_estimate),
        }
    }

    pub(crate) fn published(&self, rows: u64, dropped: u64) {
        self.rows.fetch_add(rows, Ordering::Relaxed);
        self.rows_dropped.fetch_add(dropped, Ordering::Relaxed);
    }

    pub(crate) fn held(&self) {
        self.chunks_held.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn retried(&self) {
        self.chunks_retried.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_tables(&self, tables: u64, done: u64) {
        self.tables.store(tables, Ordering::Relaxed);
        self.tables_done.store(done, Ordering::Relaxed);
    }

    pub(crate) fn set_rows_estimate(&self, rows: u64) {
        self.rows_estimate.store(rows, Ordering::Relaxed);
    }

    pub(crate) fn table_done(&self) {
        self.tables_done.fetch_add(1, Ordering::Relaxed);
    }
}
