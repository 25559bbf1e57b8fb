//! The pipeline: source transactions -> records -> sink -> acknowledgements -> checkpoint.
//!
//! # Resumption
//! The checkpoint holds the position after the last transaction whose records are all
//! acknowledged, in binlog order, with no gaps. It is written at most every
//! `checkpoint.interval` and at shutdown, and once at the start (so that `start = "latest"`
//! is resolved only once). A restart replays from it: records after it may be produced
//! again, and their `mwcdc.id` headers let consumers drop the duplicates; in exactly-once
//! mode the sink skips those the partitions already hold (`Sent::AlreadyWritten`, never in
//! flight). Each record goes with its `Origin`: its transaction's position and its index.
//!
//! # Kafka transactions
//! With a transactional sink, the records of one or more binlog transactions go in one Kafka
//! transaction, committed between binlog transactions ([`Batch`]); a transaction's unit is
//! closed only once its Kafka transaction is committed, so the checkpoint never covers a
//! record a `read_committed` consumer cannot see. A stop inside a binlog transaction, or after
//! an error, aborts the open Kafka transaction.
//!
//! # Stopping at a position
//! With `source.stop` (`--stop-at`), a transaction past the stop position is not published
//! and reading ends; once everything before it is acknowledged (or the stop position itself
//! is), the checkpoint is written and the run ends with `Ok`.
//!
//! # Back-pressure
//! Reading pauses while `sink.max_in_flight` records are unacknowledged; the source's own
//! channel holds a few transactions more. When Kafka is slow or down, memory stays bounded.
//!
//! # Shutdown
//! SIGTERM or SIGINT: the source stops, in-flight records get up to 8 s to be acknowledged,
//! the checkpoint is written, and the process exits 0.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use mwcdc_change::XaStep;
use mwcdc_checkpoint::{Checkpoint, CheckpointStore, SnapshotProgress};
use mwcdc_position::Position;
use mwcdc_sink::{Ack, JobPlace, JobProgress, Origin, Sent, Sink};
use mwcdc_snapshot::Inbound;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::batch::Batch;
use crate::encoders::Encoders;
use crate::metrics::Metrics;
use crate::tracker::{Covered, Tracker, TrackerError};

/// How long shutdown waits for in-flight records.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(8);

/// Everything the loop needs.
pub struct Pipeline<S> {
    /// Connector name (checkpoint key).
    pub name: String,
    /// The sink.
    pub sink: S,
    /// The encoders of the enabled record streams.
    pub encoders: Encoders,
    /// Checkpoint storage.
    pub store: Arc<CheckpointStore>,
    /// Longest time between checkpoint writes.
    pub interval: Duration,
    /// Unacknowledged records before reading pauses.
    pub max_in_flight: usize,
    /// Where progress is counted.
    pub metrics: Arc<Metrics>,
    /// The position to stop at (`source.stop`, `--stop-at`).
    pub stop_at: Option<Position>,
    /// The position reading starts from.
    pub start: Position,
    /// The settings stored with every checkpoint ([`crate::settings`]).
    pub settings: serde_json::Value,
    /// The snapshot job's progress as of the start (from the checkpoint).
    pub snapshot: Option<Arc<SnapshotProgress>>,
    /// Whether the run ends once the snapshot job is delivered and checkpointed
    /// (`snapshot.mode = "initial_only"`).
    pub until_snapshot_done: bool,
}

/// Why the loop stopped.
enum Stop {
    Shutdown,
    /// Every transaction up to the stop position (or the snapshot job) is delivered.
    Reached,
    SourceEnded(Result<()>),
    Failed(anyhow::Error),
}

/// How long an XA transaction may wait for its outcome before it is reported, and then how
/// often it is reported again.
const HOLD_WARNING: Duration = Duration::from_secs(60);

/// Delivery progress: the tracker and what the next checkpoint would cover.
struct Progress {
    tracker: Tracker,
    covered: Option<Covered>,
    /// The position after the last transaction delivered in full.
    delivered: Position,
    /// The units published since the last commit of the sink.
    batch: Batch,
    metrics: Arc<Metrics>,
    /// The snapshot job's progress as of the last unit published.
    snapshot: Option<Arc<SnapshotProgress>>,
    /// ... and as of the last transaction delivered in full.
    delivered_snapshot: Option<Arc<SnapshotProgress>>,
    /// The commit time of the last binlog transaction published (a chunk's unit covers it).
    commit_ts: Option<u32>,
    /// The `mwcdc.snapshot` header of the stream's records: the job's progress as of the
    /// last chunk published, until a checkpoint holds the job as done (no restart reads a
    /// chunk again after that).
    job_header: Option<String>,
}

impl Progress {
    fn new(
        start: Position,
        snapshot: Option<Arc<SnapshotProgress>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            tracker: Tracker::default(),
            covered: None,
            delivered: start,
            batch: Batch::default(),
            metrics,
            delivered_snapshot: snapshot.clone(),
            job_header: snapshot
                .as_deref()
                .filter(|job| !job.is_done())
                .map(progress_header),
            snapshot,
            commit_ts: None,
        }
    }

    /// Moves the job on to `job`, the progress after a chunk.
    fn chunk_published(&mut self, job: &Arc<SnapshotProgress>) {
        self.job_header = Some(progress_header(job));
        self.snapshot = Some(job.clone());
    }

    /// Notes that a checkpoint covering `c` is written.
    fn saved(&mut self, c: &Covered) {
        if c.snapshot.as_ref().is_some_and(|job| job.is_done()) {
            self.job_header = None;
        }
    }

    /// Counts one record handed to the sink under `ticket`.
    fn sent(&mut self, ticket: usize) -> Result<(), TrackerError> {
        self.tracker.sent(ticket)?;
        self.metrics.set_in_flight(self.tracker.in_flight());
        Ok(())
    }

    /// Says that every record counted on `ticket` is sent.
    fn close(&mut self, ticket: usize) -> Result<(), TrackerError> {
        if let Some(received) = self.tracker.close(ticket)? {
            self.metrics.delivered(received);
        }
        Ok(())
    }

    /// Counts one acknowledgement; a failed delivery is the error that stops the pipeline.
    fn apply(&mut self, ack: Option<Ack>) -> Result<()> {
        let counted = self.count(ack);
        self.settle();
        counted
    }

    /// Counts `first` and every acknowledgement already waiting in `acks`, then moves what
    /// the checkpoint would cover once for all of them; a failed delivery is the error that
    /// stops the pipeline (those before it are counted).
    fn apply_waiting(
        &mut self,
        first: Option<Ack>,
        acks: &mut mpsc::UnboundedReceiver<Ack>,
    ) -> Result<()> {
        let counted = self.count(first).and_then(|()| {
            while let Ok(ack) = acks.try_recv() {
                self.count(Some(ack))?;
            }
            Ok(())
        });
        self.settle();
        counted
    }

    /// Counts one acknowledgement in the tracker.
    fn count(&mut self, ack: Option<Ack>) -> Result<()> {
        match ack {
            Some(Ack {
                ticket,
                result: Ok(()),
            }) => {
                if let Some(received) = self.tracker.acked(ticket)? {
                    self.metrics.delivered(received);
                }
                Ok(())
            }
            Some(Ack { result: Err(e), .. }) => Err(anyhow!(e)
                .context("a record could not be delivered; the checkpoint stays before it")),
            None => Err(anyhow!("the sink stopped reporting deliveries")),
        }
    }

    /// Publishes the count in flight and advances to the longest delivered prefix.
    fn settle(&mut self) {
        self.metrics.set_in_flight(self.tracker.in_flight());
        self.advance();
    }

    fn advance(&mut self) {
        if let Some(c) = self.tracker.complete_prefix() {
            self.delivered = c.position.clone();
            self.delivered_snapshot = c.snapshot.clone();
            self.covered = Some(c);
        }
    }

    /// Whether the stop position is reached: everything up to it is delivered, or a
    /// transaction past it was read and everything before that is delivered.
    fn reached(&self, stop: &Position, past_stop: bool) -> Result<bool> {
        Ok((past_stop && self.tracker.is_idle()) || self.delivered.try_covers(stop)?)
    }

    /// Whether every chunk of the snapshot job is delivered.
    fn snapshot_delivered(&self) -> bool {
        self.delivered_snapshot
            .as_ref()
            .is_some_and(|s| s.is_done())
    }
}

/// How publishing a transaction ended.
enum Published {
    /// Every record is sent; the units to close once the sink commits them.
    Done(Vec<usize>),
    /// The signal came while waiting for room in flight.
    Interrupted,
}

impl<S: Sink> Pipeline<S> {
    /// Runs until shutdown or a failure. `transactions` come from the source task `source`;
    /// `acks` from the sink; `shutdown` tells the source to stop.
    pub async fn run(
        mut self,
        mut transactions: mpsc::Receiver<Inbound>,
        mut acks: mpsc::UnboundedReceiver<Ack>,
        mut source: JoinHandle<Result<()>>,
        shutdown: watch::Sender<bool>,
        mut signal: impl std::future::Future<Output = ()> + Unpin,
    ) -> Result<()> {
        let mut progress = Progress::new(
            self.start.clone(),
            self.snapshot.clone(),
            self.metrics.clone(),
        );
        let mut past_stop = false;
        // Stopped inside a binlog transaction: the open Kafka transaction is aborted.
        let mut partial = false;
        let mut tick = tokio::time::interval(self.interval);
        let mut hold_reported = tokio::time::Instant::now();
        let stop = loop {
            if let Some(stop) = &self.stop_at {
                if progress.reached(stop, past_stop)? {
                    info!(stop = %stop, delivered = %progress.delivered, "the stop position is reached");
                    break Stop::Reached;
                }
            }
            if self.until_snapshot_done && progress.snapshot_delivered() {
                info!(delivered = %progress.delivered, "the snapshot job is delivered (snapshot.mode = \"initial_only\")");
                break Stop::Reached;
            }
            tokio::select! {
                biased;
                ack = acks.recv() => {
                    if let Err(e) = progress.apply_waiting(ack, &mut acks) {
                        break Stop::Failed(e);
                    }
                }
                _ = &mut signal => break Stop::Shutdown,
                // A quiet source: the open Kafka transaction is committed when due.
                _ = sleep_until(progress.batch.quiet_deadline()), if !progress.batch.is_empty() => {
                    if let Err(e) = self.commit(&mut progress).await {
                        break Stop::Failed(e);
                    }
                }
                // The tick limits checkpoint writes to one per interval.
                _ = tick.tick() => {
                    if let Some(c) = progress.covered.take() {
                        self.save(&c, progress.tracker.is_idle()).await?;
                        progress.saved(&c);
                    }
                    if let Some(age) = progress.tracker.oldest_hold() {
                        if age >= HOLD_WARNING && hold_reported.elapsed() >= HOLD_WARNING {
                            warn!(waiting = ?age, "an XA transaction is prepared and not resolved: the checkpoint cannot pass it until XA COMMIT or XA ROLLBACK");
                            hold_reported = tokio::time::Instant::now();
                        }
                    }
                },
                txn = transactions.recv(), if !past_stop && progress.tracker.in_flight() < self.max_in_flight => match txn {
                    Some(txn) if self.is_past_stop(&txn)? => {
                        past_stop = true;
                        if let Err(e) = self.commit(&mut progress).await {
                            break Stop::Failed(e);
                        }
                    }
                    Some(txn) => match self.publish(&mut progress, &txn, &mut acks, &mut signal).await {
                        Ok(Published::Done(units)) => {
                            let now = std::time::Instant::now();
                            progress.batch.add(units, now);
                            let waiting = !transactions.is_empty();
                            if !self.sink.transactional() || progress.batch.due(waiting, now) {
                                if let Err(e) = self.commit(&mut progress).await {
                                    break Stop::Failed(e);
                                }
                            }
                        }
                        Ok(Published::Interrupted) => {
                            partial = true;
                            break Stop::Shutdown;
                        }
                        Err(e) => break Stop::Failed(e),
                    },
                    // The source ended and every transaction it completed was published: its
                    // task result tells why it ended.
                    None => match (&mut source).await {
                        Ok(r) => break Stop::SourceEnded(r),
                        Err(e) => break Stop::Failed(source_task_failed(e)),
                    },
                },
            }
        };
        let _ = shutdown.send(true);
        drop(transactions);
        let stop = match stop {
            Stop::Failed(e) => Stop::Failed(e),
            stop => match self.drain(&mut progress, &mut acks).await {
                Err(e) if is_internal(&e) => Stop::Failed(e),
                _ => stop,
            },
        };
        // What was published in full is committed, unless the run failed or the open Kafka
        // transaction holds part of a binlog transaction.
        let stop = match stop {
            Stop::Failed(e) => Stop::Failed(e),
            stop if partial => stop,
            stop => match self.commit(&mut progress).await {
                Ok(()) => stop,
                Err(e) => Stop::Failed(e),
            },
        };
        if !progress.batch.is_empty() || partial {
            if let Err(e) = self.sink.abort().await {
                warn!(error = %e, "the open Kafka transaction could not be aborted; the next start aborts it");
            }
        }
        // After an internal error the tracker cannot be trusted: no checkpoint is written.
        let internal = matches!(&stop, Stop::Failed(e) if is_internal(e));
        if let Some(c) = progress.covered.take().filter(|_| !internal) {
            self.save(&c, progress.tracker.is_idle()).await?;
        }
        if !source.is_finished() {
            // Give the source a moment to leave the server cleanly.
            let _ = tokio::time::timeout(Duration::from_secs(1), &mut source).await;
        }
        match stop {
            Stop::Shutdown => {
                info!("stopped");
                Ok(())
            }
            Stop::Reached => {
                info!("stopped at the stop position");
                Ok(())
            }
            Stop::SourceEnded(Ok(())) => Ok(()),
            Stop::SourceEnded(Err(e)) => Err(e),
            Stop::Failed(e) => Err(e),
        }
    }

    /// Whether `inbound` lies beyond the stop position: it is not published.
    fn is_past_stop(&self, inbound: &Inbound) -> Result<bool> {
        match &self.stop_at {
            Some(stop) => Ok(!stop.try_covers(&inbound.received.transaction.position)?),
            None => Ok(false),
        }
    }

    /// Hands a transaction's records to the sink one by one, waiting for acknowledgements
    /// whenever `max_in_flight` records are unacknowledged, so that a large transaction does
    /// not exceed the bound either.
    async fn publish(
        &mut self,
        progress: &mut Progress,
        inbound: &Inbound,
        acks: &mut mpsc::UnboundedReceiver<Ack>,
        signal: &mut (impl std::future::Future<Output = ()> + Unpin),
    ) -> Result<Published> {
        let received = &inbound.received;
        let txn = &received.transaction;
        self.metrics.transaction(txn);
        // A chunk moves the job on; it covers the binlog as the transaction before it did.
        match &inbound.snapshot {
            Some(job) => progress.chunk_published(job),
            None => progress.commit_ts = Some(txn.commit_ts),
        }
        let tracker = &mut progress.tracker;
        let covered = Covered {
            position: txn.position.clone(),
            file: txn.file.to_string(),
            pos: txn.end_pos,
            commit_ts: progress.commit_ts,
            snapshot: progress.snapshot.clone(),
        };
        let ticket = match &txn.xa {
            Some(XaStep::Prepare(xid)) => tracker.add_prepare(covered, xid.clone()),
            _ => tracker.add(covered),
        };
        tracker.received(ticket, received.at)?;
        let records_ticket = match &txn.xa {
            Some(XaStep::Resolve(xid)) => tracker.resolve(xid)?.unwrap_or(ticket),
            _ => ticket,
        };
        let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let Self {
            encoders,
            sink,
            max_in_flight,
            metrics,
            ..
        } = self;
        let context = || format!("transaction {}", txn.gtid);
        let position_text = txn.position.to_string();
        let job = inbound.snapshot.as_deref().map(|job| job.job.as_str());
        let job_header = progress.job_header.clone();
        // A chunk's records are of one table: its header's start is made once.
        let mut read_prefix: Option<(Arc<mwcdc_change::TableSchema>, String)> = None;
        for (index, record) in encoders
            .of(txn, now_ms, metrics)
            .with_context(context)?
            .enumerate()
        {
            let record = record.with_context(context)?;
            let read_header = match (job, &record.snapshot_key) {
                (Some(job), Some(key)) => {
                    let prefix = match &read_prefix {
                        Some((table, prefix)) if Arc::ptr_eq(table, &record.table) => prefix,
                        _ => {
                            let table = format!("{}.{}", record.table.db, record.table.table);
                            let prefix = JobPlace::read_header_prefix(job, &table);
                            &read_prefix.insert((record.table.clone(), prefix)).1
                        }
                    };
                    Some(JobPlace::read_header_from(prefix, key))
                }
                _ => None,
            };
            let snapshot = match &read_header {
                Some(header) => Some(JobPlace::Read(header)),
                None => job_header.as_deref().map(JobPlace::Progress),
            };
            let origin = Origin {
                position: &txn.position,
                position_text: &position_text,
                index: u32::try_from(index).context("more than 2^32 records in a transaction")?,
                snapshot,
            };
            while progress.tracker.in_flight() >= *max_in_flight {
                tokio::select! {
                    biased;
                    ack = acks.recv() => progress.apply_waiting(ack, acks)?,
                    _ = &mut *signal => return Ok(Published::Interrupted),
                }
            }
            let sent = sink
                .send(record, origin, records_ticket)
                .await
                .with_context(context)?;
            if sent == Sent::Queued {
                progress.sent(records_ticket)?;
            }
        }
        // Only after the sink's commit may the units complete: before, an acknowledgement
        // applied while waiting for room in flight could complete a unit whose remaining
        // records were not sent (or, in a Kafka transaction, not committed).
        let mut units = vec![records_ticket];
        if records_ticket != ticket {
            units.push(ticket);
        }
        Ok(Published::Done(units))
    }

    /// Commits what the sink was sent since its last commit (a Kafka transaction), then
    /// closes the units of the transactions it held: the checkpoint may now cover them.
    async fn commit(&mut self, progress: &mut Progress) -> Result<()> {
        if progress.batch.is_empty() {
            return Ok(());
        }
        self.sink.commit().await.context(
            "the Kafka transaction could not be committed; the checkpoint stays before it",
        )?;
        for unit in progress.batch.take() {
            progress.close(unit)?;
        }
        progress.advance();
        Ok(())
    }

    /// Writes the checkpoint covering `c` ([`write_checkpoint`]); the write borrows nothing
    /// of the pipeline while it waits.
    fn save(&self, c: &Covered, complete: bool) -> impl Future<Output = Result<()>> + Send {
        write_checkpoint(
            self.store.clone(),
            checkpoint_at(&self.name, &self.settings, c),
            self.metrics.clone(),
            complete,
        )
    }

    /// Waits up to [`DRAIN_TIMEOUT`] for the records in flight; an error is the delivery
    /// failure or internal error that ended the wait (already logged).
    async fn drain(
        &mut self,
        progress: &mut Progress,
        acks: &mut mpsc::UnboundedReceiver<Ack>,
    ) -> Result<()> {
        let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
        if let Err(e) = self.sink.flush(Duration::ZERO).await {
            // Zero timeout only starts the flush; acknowledgements arrive below.
            tracing::debug!(%e, "flush started");
        }
        while progress.tracker.in_flight() > 0 {
            match tokio::time::timeout_at(deadline, acks.recv()).await {
                Ok(ack @ Some(_)) => {
                    if let Err(e) = progress.apply(ack) {
                        error!(error = %format!("{e:#}"), "delivery failed during shutdown");
                        return Err(e);
                    }
                }
                Ok(None) | Err(_) => {
                    warn!(in_flight = progress.tracker.in_flight(), "records still unacknowledged at shutdown; they will be produced again after a restart");
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// Writes `checkpoint` to `store` and reports it; `complete` when it covers every
/// transaction read. The write and its fsync run on a blocking thread, not on the runtime's.
async fn write_checkpoint(
    store: Arc<CheckpointStore>,
    checkpoint: Checkpoint,
    metrics: Arc<Metrics>,
    complete: bool,
) -> Result<()> {
    let (gtid, commit_ts) = (checkpoint.position.to_string(), checkpoint.commit_ts);
    let snapshot = checkpoint.snapshot.clone();
    tokio::task::spawn_blocking(move || store.save(&checkpoint))
        .await
        .map_err(|e| anyhow!("internal error: the checkpoint write task failed: {e}"))?
        .context("writing the checkpoint")?;
    metrics.checkpoint_saved(&gtid, commit_ts, snapshot.as_ref(), complete);
    tracing::debug!(%gtid, "checkpoint written");
    Ok(())
}

/// The error for a source task that did not return: it panicked (with its message) or was
/// cancelled. Either is a bug of mwcdc, not a binlog problem.
fn source_task_failed(e: tokio::task::JoinError) -> anyhow::Error {
    if !e.is_panic() {
        return anyhow!("internal error: the source task was cancelled");
    }
    let payload = e.into_panic();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    anyhow!("internal error: the source task panicked: {message}")
}

/// Whether `e` is a bug of the pipeline's own bookkeeping rather than a failure outside.
fn is_internal(e: &anyhow::Error) -> bool {
    e.downcast_ref::<TrackerError>().is_some()
}

/// The checkpoint of connector `name` that covers `c`, written under `settings`.
pub fn checkpoint_at(name: &str, settings: &serde_json::Value, c: &Covered) -> Checkpoint {
    Checkpoint {
        name: name.to_string(),
        position: c.position.clone(),
        file: c.file.clone(),
        pos: c.pos,
        commit_ts: c
            .commit_ts
            .and_then(|t| chrono::DateTime::from_timestamp(i64::from(t), 0)),
        updated_at: chrono::Utc::now(),
        settings: Some(settings.clone()),
        snapshot: c.snapshot.as_deref().cloned(),
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;

/// The `mwcdc.snapshot` header of a stream record sent after the chunks of `job` so far.
fn progress_header(job: &SnapshotProgress) -> String {
    let progress = match job.lanes.first() {
        _ if job.is_done() => JobProgress::Done,
        Some(lane) => JobProgress::Reading {
            table: &lane.table,
            after: &lane.after,
        },
        None => JobProgress::NotBegun,
    };
    JobPlace::progress_header(&job.job, progress)
}

/// Sleeps until `at`, or forever without one.
async fn sleep_until(at: Option<std::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}
