//! The chunk/stream merge: binlog transactions and snapshot chunks into one sequence for
//! the pipeline, each chunk placed where the stream reaches its read position.
//!
//! A chunk read at position P meets a stream that has published up to S (the end of the
//! last transaction handed on):
//! - S < P: the chunk is held, and the stream goes on, until every transaction that ends at
//!   or before P is handed on: S reaches P, or the server's heartbeat names a place at or
//!   after P while no transaction waits (a quiet server, or P right after a rotate);
//! - S >= P: the chunk goes out now, without the rows whose keys the stream changed after P
//!   (their newer state is already published).
//!
//! Which keys the stream changes is recorded for the table being read from before its first
//! chunk is read (the reader waits for the merger's answer to [`FromReader::Table`]), so the
//! window (P, S] is always covered. A consumer that applies the records of a partition in
//! order never sees a snapshot row after a newer change of the same key.
//!
//! After a chunk, a waiting stream transaction goes first: never two chunks in a row while
//! the stream waits.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mwcdc_change::{
    key_text, ChangeBuffer, Op, RowChange, SnapshotChunk, SpillPolicy, TableSchema, Transaction,
};
use mwcdc_checkpoint::{LaneCursor, SnapshotProgress};
use mwcdc_position::Position;
use mwcdc_source::{Received, StreamProgress};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::info;

use crate::coordinates::Coordinates;
use crate::job::{FromReader, ReadChunk};
use crate::reader::Chunk;
use crate::stats::SnapshotStats;
use crate::SnapshotError;

/// How often a held chunk looks again whether a heartbeat has passed its read position.
const HELD_RECHECK: Duration = Duration::from_millis(100);

/// How often the job's progress is logged: to a file or a collector, and to a person
/// watching a terminal (with a bar).
const PROGRESS_EVERY: Duration = Duration::from_secs(10);
const PROGRESS_EVERY_ON_A_TERMINAL: Duration = Duration::from_secs(2);

/// What the pipeline publishes next: a binlog transaction, or a snapshot chunk (also an empty
/// one, that only moves the job on) with the job's progress once it is delivered.
#[derive(Debug)]
pub struct Inbound {
    /// The transaction and when it was received.
    pub received: Received,
    /// The job's progress once this and everything before it is delivered; `None` for a
    /// binlog transaction (which leaves the progress as it was).
    pub snapshot: Option<Arc<SnapshotProgress>>,
}

impl From<Received> for Inbound {
    fn from(received: Received) -> Self {
        Self {
            received,
            snapshot: None,
        }
    }
}

/// The merge of one job's chunks into the binlog stream.
pub struct Merger {
    /// Binlog transactions from the source, in binlog order.
    pub stream: mpsc::Receiver<Received>,
    /// Tables and chunks from the job's reader.
    pub reader: mpsc::Receiver<FromReader>,
    /// Where the merged sequence goes (the pipeline).
    pub out: mpsc::Sender<Inbound>,
    /// The job's progress as the checkpoint has it (a new job's, for a new one).
    pub progress: SnapshotProgress,
    /// The position the stream starts from.
    pub start: Position,
    /// The binlog coordinates of `start`, when known: every transaction that ends there or
    /// before is before the stream.
    pub start_at: Option<Coordinates>,
    /// The source's progress: the server's heartbeats.
    pub source: Arc<StreamProgress>,
    /// The memory budget chunks share with the source's transactions.
    pub spill: Arc<SpillPolicy>,
    /// The job's counters.
    pub stats: Arc<SnapshotStats>,
}

/// The table being read and the keys the stream changed since it was announced.
struct Watched {
    schema: Arc<TableSchema>,
    /// The prefix of its rows' ids, `snapshot/<job>/<db>.<table>`.
    id_prefix: Arc<str>,
    /// The key's text -> where the stream last changed it (its transaction's end).
    changed: HashMap<String, Coordinates>,
    /// The key columns' indexes in the stream's schema of the table (the last one seen).
    stream_key: Option<(Arc<TableSchema>, Vec<usize>)>,
    /// Where the stream last truncated the table: every row of a chunk read before it is
    /// gone.
    truncated: Option<Coordinates>,
}

impl Watched {
    /// Records the keys `txn` changes in the table.
    fn record(&mut self, txn: &Transaction) -> Result<(), SnapshotError> {
        let same = |t: &TableSchema| t.db == self.schema.db && t.table == self.schema.table;
        if !txn.changes.counts().iter().any(|c| same(&c.table)) {
            return Ok(());
        }
        let end = Coordinates {
            file: txn.file.clone(),
            pos: txn.end_pos,
        };
        for change in txn.changes.iter() {
            let change = change?;
            if !same(&change.table) {
                continue;
            }
            if change.op == Op::Truncate {
                self.truncated = Some(end.clone());
                continue;
            }
            let key = match &self.stream_key {
                Some((table, key)) if Arc::ptr_eq(table, &change.table) => key.clone(),
                _ => {
                    let key = self.key_in(&change.table)?;
                    self.stream_key = Some((change.table.clone(), key.clone()));
                    key
                }
            };
            for row in [&change.before, &change.after].into_iter().flatten() {
                let mut text = String::new();
                key_text(
                    key.iter()
                        .map(|&i| row.get(i).unwrap_or(&mwcdc_binlog::Value::Null)),
                    &mut text,
                );
                self.changed.insert(text, end.clone());
            }
        }
        Ok(())
    }

    /// The indexes of the snapshot's key columns in `stream`'s columns (by name: the two
    /// schemas come from different places). A key column the stream's rows lack would make
    /// their changes unrecognisable: the merge stops.
    fn key_in(&self, stream: &TableSchema) -> Result<Vec<usize>, SnapshotError> {
        self.schema
            .key
            .iter()
            .map(|&i| {
                let name = &self.schema.columns[i];
                stream
                    .columns
                    .iter()
                    .position(|c| c == name)
                    .ok_or_else(|| {
                        SnapshotError::Internal(format!(
                            "the stream's rows of {}.{} have no column `{name}` of the key the \
                         snapshot reads by; the next run describes the table again",
                            stream.db, stream.table
                        ))
                    })
            })
            .collect()
    }

    /// Whether the stream changed the row with key text `key` (or truncated the table) after
    /// `at`, or at a place of another binlog: its newer state is the stream's.
    fn changed_after(&self, key: &str, at: &Coordinates) -> bool {
        let after =
            |c: &Coordinates| !matches!(c.compare(at), Some(Ordering::Less | Ordering::Equal));
        self.truncated.as_ref().is_some_and(after) || self.changed.get(key).is_some_and(after)
    }
}

/// What the loop does next.
enum Flow {
    Continue,
    /// The stream ended or the pipeline is gone.
    End,
}

/// Everything the merge keeps besides its channels.
struct State {
    /// The end of the last transaction handed on, `None` before the first.
    published: Option<Coordinates>,
    /// The position after it.
    position: Position,
    watched: Option<Watched>,
    held: Option<ReadChunk>,
    /// The last thing handed on was a chunk: a waiting transaction goes next.
    after_chunk: bool,
    progress: SnapshotProgress,
    /// Whether the job starts here (no chunk of it was published before this run).
    fresh: bool,
    /// Whether this run published a chunk.
    emitted: bool,
    /// When this run began and when its progress was last logged.
    began: Instant,
    reported: Instant,
}

impl Merger {
    /// Runs the merge until the stream ends, the pipeline goes, or the job's reader `job`
    /// fails (its error is returned).
    pub async fn run(
        mut self,
        mut job: JoinHandle<Result<(), SnapshotError>>,
    ) -> Result<(), SnapshotError> {
        let fresh = self.progress.lanes.is_empty()
            && self.progress.rows == 0
            && self.progress.tables_done == 0
            && !self.progress.is_done();
        let mut state = State {
            published: self.start_at.clone(),
            position: self.start.clone(),
            watched: None,
            held: None,
            after_chunk: false,
            progress: self.progress.clone(),
            fresh,
            emitted: false,
            began: Instant::now(),
            reported: Instant::now(),
        };
        let mut reader_open = !self.progress.is_done();
        loop {
            if let Some(held) = &state.held {
                if self.reached(&state, &held.chunk)? {
                    if let Some(read) = state.held.take() {
                        if let Flow::End = self.emit(&mut state, read).await? {
                            return Ok(());
                        }
                    }
                    continue;
                }
            }
            let stream_first = state.after_chunk || state.held.is_some() || !reader_open;
            let flow = if stream_first {
                tokio::select! {
                    biased;
                    txn = self.stream.recv() => self.forward(&mut state, txn).await?,
                    msg = self.reader.recv(), if reader_open && state.held.is_none() => {
                        self.take_from_reader(&mut state, msg, &mut reader_open, &mut job).await?
                    }
                    _ = tokio::time::sleep(HELD_RECHECK), if state.held.is_some() => Flow::Continue,
                }
            } else {
                tokio::select! {
                    biased;
                    msg = self.reader.recv() => {
                        self.take_from_reader(&mut state, msg, &mut reader_open, &mut job).await?
                    }
                    txn = self.stream.recv() => self.forward(&mut state, txn).await?,
                }
            };
            if let Flow::End = flow {
                return Ok(());
            }
        }
    }

    /// Hands on a binlog transaction, recording the keys it changes in the table being read.
    async fn forward(
        &mut self,
        state: &mut State,
        txn: Option<Received>,
    ) -> Result<Flow, SnapshotError> {
        let Some(received) = txn else {
            return Ok(Flow::End);
        };
        let txn = &received.transaction;
        if let Some(watched) = &mut state.watched {
            watched.record(txn)?;
        }
        state.published = Some(Coordinates {
            file: txn.file.clone(),
            pos: txn.end_pos,
        });
        state.position = txn.position.clone();
        state.after_chunk = false;
        Ok(match self.out.send(Inbound::from(received)).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::End,
        })
    }

    /// Takes what the reader sent: a table to record, a chunk to place, the job's end; when
    /// the reader has gone, its result.
    async fn take_from_reader(
        &mut self,
        state: &mut State,
        msg: Option<FromReader>,
        reader_open: &mut bool,
        job: &mut JoinHandle<Result<(), SnapshotError>>,
    ) -> Result<Flow, SnapshotError> {
        match msg {
            Some(FromReader::Table { table, ready }) => {
                state.watched = Some(Watched {
                    id_prefix: format!(
                        "snapshot/{}/{}.{}",
                        state.progress.job, table.db, table.table
                    )
                    .into(),
                    schema: table,
                    changed: HashMap::new(),
                    stream_key: None,
                    truncated: None,
                });
                let _ = ready.send(());
                Ok(Flow::Continue)
            }
            Some(FromReader::Chunk(read)) => {
                if !self.reached(state, &read.chunk)? {
                    self.stats.held();
                }
                state.held = Some(read);
                Ok(Flow::Continue)
            }
            Some(FromReader::Done) => {
                *reader_open = false;
                state.watched = None;
                // The last chunk finished the job, unless the last tables were gone.
                let finished = state.progress.is_done();
                state.progress.lanes.clear();
                if !finished {
                    state.progress.done_at = Some(state.position.to_string());
                }
                let stats = self.stats.view();
                info!(
                    job = %state.progress.job,
                    rows = state.progress.rows,
                    tables = state.progress.tables_done,
                    rows_dropped = stats.rows_dropped,
                    chunks_held = stats.chunks_held,
                    chunks_retried = stats.chunks_retried,
                    at = state.progress.done_at.as_deref().unwrap_or_default(),
                    "snapshot: every table is read; the topics hold them as of this position once delivered"
                );
                if finished {
                    return Ok(Flow::Continue);
                }
                let txn = self.transaction(state, ChangeBuffer::new(self.spill.clone()), None, 0);
                self.send(state, txn).await
            }
            None => {
                *reader_open = false;
                match (&mut *job).await {
                    Ok(Ok(())) => Ok(Flow::Continue),
                    Ok(Err(e)) => Err(e),
                    Err(e) => Err(SnapshotError::Internal(format!(
                        "the snapshot reader task failed: {e}"
                    ))),
                }
            }
        }
    }

    /// Whether the stream has handed on every transaction that ends at or before the chunk's
    /// position; an error when the stream reads another server than the chunk was read on
    /// (their coordinates do not compare, even with the same file names).
    fn reached(&self, state: &State, chunk: &Chunk) -> Result<bool, SnapshotError> {
        let at = &chunk.at;
        if let Some(stream) = self.source.server_id() {
            if stream != chunk.server_id {
                return Err(SnapshotError::StreamServerChanged {
                    chunk: chunk.server_id,
                    stream,
                });
            }
        }
        let at_or_after =
            |c: &Coordinates| matches!(c.compare(at), Some(Ordering::Equal | Ordering::Greater));
        if let Some(published) = &state.published {
            if published.compare(at).is_none() {
                return Err(SnapshotError::Diverged {
                    stream: published.to_string(),
                    chunk: at.to_string(),
                });
            }
            if at_or_after(published) {
                return Ok(true);
            }
        }
        // Every transaction before the heartbeat was handed on before it was read: the
        // heartbeat first, then whether one still waits.
        let heartbeat = self.source.heartbeat_at();
        Ok(
            heartbeat.is_some_and(|(file, pos)| at_or_after(&Coordinates { file, pos }))
                && self.stream.is_empty(),
        )
    }

    /// Publishes a chunk at the stream's position, without the rows the stream changed after
    /// the chunk's read position, and moves the job's progress past it.
    async fn emit(&mut self, state: &mut State, read: ReadChunk) -> Result<Flow, SnapshotError> {
        let Some(watched) = &mut state.watched else {
            return Err(SnapshotError::Internal(
                "a chunk of a table that was not announced".into(),
            ));
        };
        let at = &read.chunk.at;
        let mut changes = ChangeBuffer::new(self.spill.clone());
        let mut dropped = 0u64;
        let mut kept = 0u32;
        for row in read.chunk.rows {
            let mut key = String::new();
            key_text(watched.schema.key.iter().map(|&i| &row[i]), &mut key);
            if watched.changed_after(&key, at) {
                dropped += 1;
                continue;
            }
            changes.push(RowChange {
                table: watched.schema.clone(),
                op: Op::Read,
                before: None,
                after: Some(row),
                gtid: watched.id_prefix.clone(),
                event_index: 0,
                row_index: kept,
                file: at.file.clone(),
                pos: at.pos,
                server_id: read.chunk.server_id,
                ts_sec: read.chunk.read_ts,
            })?;
            kept += 1;
        }
        changes.seal()?;
        // Later chunks are read at or after this one's position: changes up to it no longer
        // matter.
        watched
            .changed
            .retain(|_, c| c.compare(at) == Some(Ordering::Greater));
        if watched
            .truncated
            .as_ref()
            .is_some_and(|c| c.compare(at) != Some(Ordering::Greater))
        {
            watched.truncated = None;
        }
        self.stats.published(u64::from(kept), dropped);
        let table = format!("{}.{}", watched.schema.db, watched.schema.table);
        let progress = &mut state.progress;
        progress.rows += u64::from(kept);
        progress.lanes = vec![LaneCursor {
            table,
            after: read
                .cursor
                .iter()
                .flatten()
                .map(mwcdc_change::cursor::to_json)
                .collect(),
        }];
        if read.last_of_table {
            progress.tables_done += 1;
            self.stats.table_done();
            progress.lanes = read
                .next_table
                .iter()
                .map(|t| LaneCursor {
                    table: t.clone(),
                    after: Vec::new(),
                })
                .collect();
        }
        let marks = SnapshotChunk {
            first_of_job: state.fresh && !state.emitted,
            last_of_table: read.last_of_table,
            last_of_job: read.last_of_table && read.next_table.is_none(),
        };
        if marks.last_of_job {
            // Done with this chunk: a checkpoint of it must not look like a job to begin.
            progress.done_at = Some(state.position.to_string());
        }
        state.emitted = true;
        let every = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            PROGRESS_EVERY_ON_A_TERMINAL
        } else {
            PROGRESS_EVERY
        };
        if state.reported.elapsed() >= every {
            state.reported = Instant::now();
            self.report(state);
        }
        let txn = self.transaction(state, changes, Some(marks), read.chunk.read_ts);
        state.after_chunk = true;
        self.send(state, txn).await
    }

    /// Logs how far the job is: rows, rows per second in this run, tables done of all, and
    /// the time left by the server's estimate of the rows.
    fn report(&self, state: &State) {
        let stats = self.stats.view();
        let seconds = state.began.elapsed().as_secs_f64().max(0.001);
        let rate = stats.rows as f64 / seconds;
        let left = stats.rows_estimate.saturating_sub(stats.rows);
        let eta = (rate > 0.0).then(|| Duration::from_secs_f64(left as f64 / rate));
        let bar = progress_bar(stats.rows, stats.rows_estimate);
        info!(
            job = %state.progress.job,
            rows = state.progress.rows,
            rows_per_second = rate as u64,
            tables_done = stats.tables_done,
            tables = stats.tables,
            estimated_rows_left = left,
            estimated_time_left = ?eta.map(|d| Duration::from_secs(d.as_secs())),
            reading = state.progress.lanes.first().map(|l| l.table.as_str()).unwrap_or(""),
            "snapshot: progress {bar}"
        );
    }

    /// A chunk's transaction at the stream's position.
    fn transaction(
        &self,
        state: &State,
        changes: ChangeBuffer,
        marks: Option<SnapshotChunk>,
        read_ts: u32,
    ) -> Transaction {
        let (file, end_pos) = match &state.published {
            Some(c) => (c.file.clone(), c.pos),
            None => (Arc::from(""), 0),
        };
        Transaction {
            gtid: format!("snapshot/{}", state.progress.job).into(),
            position: state.position.clone(),
            file,
            end_pos,
            commit_ts: read_ts,
            changes,
            xa: None,
            snapshot: marks,
        }
    }

    /// Hands a chunk's transaction to the pipeline with the job's progress after it.
    async fn send(
        &mut self,
        state: &State,
        transaction: Transaction,
    ) -> Result<Flow, SnapshotError> {
        let inbound = Inbound {
            received: Received {
                transaction,
                at: Instant::now(),
            },
            snapshot: Some(Arc::new(state.progress.clone())),
        };
        Ok(match self.out.send(inbound).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::End,
        })
    }
}

/// `[#########-----------] 45%` of `done` rows out of an `estimate` (the server's estimate
/// can be below the rows read: the bar then stays full).
fn progress_bar(done: u64, estimate: u64) -> String {
    const WIDTH: u64 = 20;
    if estimate == 0 {
        return String::new();
    }
    let percent = (done.saturating_mul(100) / estimate).min(100);
    let filled = (percent * WIDTH / 100) as usize;
    format!(
        "[{}{}] {percent}%",
        "#".repeat(filled),
        "-".repeat(WIDTH as usize - filled)
    )
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
