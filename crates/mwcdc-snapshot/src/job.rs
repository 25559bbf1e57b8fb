//! A job's reader: its tables in order, each read chunk after chunk by key from where the
//! job stands, at most `max_rows_per_second`, each chunk handed to the merger.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mwcdc_backoff::Backoff;
use mwcdc_binlog::Value;
use mwcdc_change::TableSchema;
use mwcdc_checkpoint::LaneCursor;
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use crate::reader::{Chunk, ChunkReader, ReadFailure};
use crate::stats::SnapshotStats;
use crate::tables::SnapshotTable;
use crate::SnapshotError;

/// What the reader hands the merger, in order.
#[derive(Debug)]
pub enum FromReader {
    /// The chunks of `table` come next: the merger records which of its keys the stream
    /// changes from now on and answers `ready`, and only then is the first chunk read.
    Table {
        /// The table.
        table: Arc<TableSchema>,
        /// Answered once the merger records the table's changes.
        ready: oneshot::Sender<()>,
    },
    /// A chunk of the table announced last.
    Chunk(ReadChunk),
    /// Every table is read: the job is done once the chunks before are published.
    Done,
}

/// A chunk and where it leaves the job.
#[derive(Debug)]
pub struct ReadChunk {
    /// The rows and their read position.
    pub chunk: Chunk,
    /// The key of the chunk's last row (of the last row before it, for an empty chunk):
    /// where the table's next chunk starts. `None` when no row of the table was read yet.
    pub cursor: Option<Vec<Value>>,
    /// Whether the table has no rows after this chunk.
    pub last_of_table: bool,
    /// The next table, `db.table`, once this is the table's last chunk; `None` there when
    /// it is the job's last.
    pub next_table: Option<String>,
}

/// The reader of one job.
pub struct JobReader {
    /// The connection chunks are read over.
    pub reader: ChunkReader,
    /// The job's tables, sorted ([`crate::tables::job_tables`]).
    pub tables: Vec<(String, String)>,
    /// Where the job stands, from the checkpoint; `None` for a new job.
    pub resume: Option<LaneCursor>,
    /// Rows per chunk.
    pub chunk_rows: u64,
    /// The most rows read per second, 0 for no limit.
    pub max_rows_per_second: u64,
    /// The job's counters.
    pub stats: Arc<SnapshotStats>,
    /// The job's id (for messages).
    pub job: String,
    /// Whether every key must be of a kind [`mwcdc_change::cursor::compare`] orders as the
    /// server does (exactly-once and transactional delivery recognise the snapshot rows a
    /// replay already wrote by their keys).
    pub ordered_keys: bool,
}

/// What reading a chunk gave.
enum Read {
    Chunk(Chunk),
    /// The table is gone.
    Gone,
    /// The table's columns changed: describe it again.
    Changed,
}

/// Announces `table` to the merger and waits until it records the table's changes; `false`
/// when the merger has gone.
async fn announce(out: &mpsc::Sender<FromReader>, table: &SnapshotTable) -> bool {
    let (ready, recording) = oneshot::channel();
    let announced = FromReader::Table {
        table: table.schema.clone(),
        ready,
    };
    out.send(announced).await.is_ok() && recording.await.is_ok()
}

/// Longest wait between attempts to read a chunk again.
const RETRY_MAX: Duration = Duration::from_secs(10);

impl JobReader {
    /// Reads every table from where the job stands to the end, handing each chunk to `out`.
    /// Returns when the job is read or the merger has gone (it stopped).
    pub async fn run(mut self, out: mpsc::Sender<FromReader>) -> Result<(), SnapshotError> {
        let names: Vec<String> = self
            .tables
            .iter()
            .map(|(d, t)| format!("{d}.{t}"))
            .collect();
        let first = match &self.resume {
            Some(cursor) => names.partition_point(|n| *n < cursor.table),
            None => 0,
        };
        let mut after = match &self.resume {
            Some(cursor) if names.get(first) == Some(&cursor.table) && !cursor.after.is_empty() => {
                Some(self.decode(&cursor.after)?)
            }
            _ => None,
        };
        self.stats.set_tables(names.len() as u64, first as u64);
        let remaining = &self.tables[first.min(self.tables.len())..];
        match self.reader.estimated_rows(remaining).await {
            Ok(rows) => self.stats.set_rows_estimate(rows),
            Err(e) => warn!(error = %e, "snapshot: no estimate of the rows to read"),
        }
        info!(job = %self.job, tables = names.len(), done = first, "snapshot: reading");
        let started = Instant::now();
        let mut rows_read = 0u64;
        for index in first..names.len() {
            let (db, name) = self.tables[index].clone();
            let Some(mut table) = self.describe(&db, &name).await? else {
                warn!(table = %names[index], "snapshot: the table no longer exists; it is left out");
                self.stats.table_done();
                after = None;
                continue;
            };
            if after
                .as_ref()
                .is_some_and(|key| key.len() != table.schema.key.len())
            {
                warn!(table = %names[index], "snapshot: the table's key is not the one the checkpoint's cursor is of; reading the table again from its start");
                after = None;
            }
            if !announce(&out, &table).await {
                return Ok(());
            }
            loop {
                let chunk = match self.read(&table, after.as_deref()).await? {
                    Read::Chunk(chunk) => chunk,
                    Read::Gone => {
                        warn!(table = %names[index], "snapshot: the table was dropped during its snapshot; the rows read before are published, the rest are gone");
                        self.stats.table_done();
                        break;
                    }
                    Read::Changed => {
                        let Some(described) = self.describe(&db, &name).await? else {
                            warn!(table = %names[index], "snapshot: the table was dropped during its snapshot; the rows read before are published, the rest are gone");
                            self.stats.table_done();
                            break;
                        };
                        let key_names = |t: &SnapshotTable| -> Vec<String> {
                            t.schema
                                .key
                                .iter()
                                .map(|&i| t.schema.columns[i].clone())
                                .collect()
                        };
                        if key_names(&described) != key_names(&table) {
                            warn!(table = %names[index], "snapshot: the table's key changed; reading the table again from its start");
                            after = None;
                        }
                        info!(table = %names[index], columns = described.schema.columns.len(), "snapshot: the table's columns changed; reading on with its new columns");
                        table = described;
                        if !announce(&out, &table).await {
                            return Ok(());
                        }
                        continue;
                    }
                };
                let last_of_table = (chunk.rows.len() as u64) < self.chunk_rows;
                rows_read += chunk.rows.len() as u64;
                if let Some(row) = chunk.rows.last() {
                    after = Some(table.schema.key.iter().map(|&i| row[i].clone()).collect());
                }
                let read = ReadChunk {
                    chunk,
                    cursor: after.clone(),
                    last_of_table,
                    next_table: last_of_table
                        .then(|| names.get(index + 1).cloned())
                        .flatten(),
                };
                if out.send(FromReader::Chunk(read)).await.is_err() {
                    return Ok(());
                }
                self.pace(started, rows_read).await;
                if last_of_table {
                    break;
                }
            }
            after = None;
        }
        let _ = out.send(FromReader::Done).await;
        Ok(())
    }

    /// The table as described now; `None` when it is gone. Transient trouble is retried. A
    /// key that [`mwcdc_change::cursor::compare`] does not order is an error when
    /// `ordered_keys` asks for one.
    async fn describe(
        &mut self,
        db: &str,
        table: &str,
    ) -> Result<Option<SnapshotTable>, SnapshotError> {
        let mut backoff = Backoff::new(Duration::from_millis(100), RETRY_MAX);
        loop {
            match self.reader.describe(db, table).await {
                Ok(t) => match t.unordered_key.as_ref().filter(|_| self.ordered_keys) {
                    Some(column) => {
                        return Err(SnapshotError::UnorderedKey {
                            db: db.into(),
                            table: table.into(),
                            column: column.clone(),
                        })
                    }
                    None => return Ok(Some(t)),
                },
                Err(ReadFailure::Gone) => return Ok(None),
                Err(ReadFailure::Fatal(e)) => return Err(e),
                Err(failure) => {
                    warn!(?failure, "snapshot: describing {db}.{table} again");
                    tokio::time::sleep(backoff.advance()).await;
                }
            }
        }
    }

    /// The next chunk of `table` after `after`, read again after a conflict or a broken
    /// connection.
    async fn read(
        &mut self,
        table: &SnapshotTable,
        after: Option<&[Value]>,
    ) -> Result<Read, SnapshotError> {
        let mut backoff = Backoff::new(Duration::from_millis(100), RETRY_MAX);
        loop {
            match self.reader.read(table, after, self.chunk_rows).await {
                Ok(chunk) => return Ok(Read::Chunk(chunk)),
                Err(ReadFailure::Gone) => return Ok(Read::Gone),
                Err(ReadFailure::Changed) => {
                    self.stats.retried();
                    return Ok(Read::Changed);
                }
                Err(ReadFailure::Fatal(e)) => return Err(e),
                Err(ReadFailure::Retry(e)) => {
                    self.stats.retried();
                    warn!(error = %e, table = %table.name(), "snapshot: reading the chunk again");
                    tokio::time::sleep(backoff.advance()).await;
                }
            }
        }
    }

    /// Waits as long as reading `rows` since `started` is ahead of `max_rows_per_second`.
    async fn pace(&self, started: Instant, rows: u64) {
        if self.max_rows_per_second == 0 {
            return;
        }
        let due = Duration::from_secs_f64(rows as f64 / self.max_rows_per_second as f64);
        if let Some(ahead) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(ahead).await;
        }
    }

    /// The checkpoint's cursor as key values.
    fn decode(&self, after: &[serde_json::Value]) -> Result<Vec<Value>, SnapshotError> {
        after
            .iter()
            .map(mwcdc_change::cursor::from_json)
            .collect::<Result<_, _>>()
            .map_err(|message| SnapshotError::Cursor {
                job: self.job.clone(),
                message,
            })
    }
}
