//! The pipeline: source transactions -> records -> sink -> acknowledgements -> checkpoint.
//!
//! # Resumption
//! The checkpoint holds the position after the last transaction whose records are all
//! acknowledged, in binlog order, with no gaps. It is written at most every
//! `checkpoint.interval` and at shutdown, and once at the start (so that `start = "latest"`
//! is resolved only once). A restart replays from it: records after it may be produced
//! again, and their `mwcdc.id` headers let consumers drop the duplicates.
//!
//! # Back-pressure
//! Reading pauses while `sink.max_in_flight` records are unacknowledged; the source's own
//! channel holds a few transactions more. When Kafka is slow or down, memory stays bounded.
//!
//! # Shutdown
//! SIGTERM or SIGINT: the source stops, in-flight records get up to 8 s to be acknowledged,
//! the checkpoint is written, and the process exits 0.

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use mwcdc_checkpoint::{Checkpoint, CheckpointStore};
use mwcdc_record::{RecordEncoder, Transaction, XaStep};
use mwcdc_sink::{Ack, Sink};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::tracker::{Covered, Tracker};

/// How long shutdown waits for in-flight records.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(8);

/// Everything the loop needs.
pub struct Pipeline<S> {
    /// Connector name (checkpoint key).
    pub name: String,
    /// The sink.
    pub sink: S,
    /// Record encoding.
    pub encoder: RecordEncoder,
    /// Checkpoint storage.
    pub store: CheckpointStore,
    /// Longest time between checkpoint writes.
    pub interval: Duration,
    /// Unacknowledged records before reading pauses.
    pub max_in_flight: usize,
}

/// Why the loop stopped.
enum Stop {
    Shutdown,
    SourceEnded(Result<(), mwcdc_source::SourceError>),
    Failed(anyhow::Error),
}

impl<S: Sink> Pipeline<S> {
    /// Runs until shutdown or a failure. `transactions` come from the source task `source`;
    /// `acks` from the sink; `shutdown` tells the source to stop.
    pub async fn run(
        mut self,
        mut transactions: mpsc::Receiver<Transaction>,
        mut acks: mpsc::UnboundedReceiver<Ack>,
        mut source: JoinHandle<Result<(), mwcdc_source::SourceError>>,
        shutdown: watch::Sender<bool>,
        mut signal: impl std::future::Future<Output = ()> + Unpin,
    ) -> Result<()> {
        let mut tracker = Tracker::default();
        let mut covered: Option<Covered> = None;
        let mut tick = tokio::time::interval(self.interval);
        let stop = loop {
            tokio::select! {
                biased;
                ack = acks.recv() => match ack {
                    Some(Ack { ticket, result: Ok(()) }) => {
                        tracker.acked(ticket);
                        if let Some(c) = tracker.complete_prefix() {
                            covered = Some(c);
                        }
                    }
                    Some(Ack { result: Err(e), .. }) => break Stop::Failed(anyhow!(e).context("a record could not be delivered; the checkpoint stays before it")),
                    None => break Stop::Failed(anyhow!("the sink stopped reporting deliveries")),
                },
                _ = &mut signal => break Stop::Shutdown,
                // The tick limits checkpoint writes to one per interval.
                _ = tick.tick() => {
                    if let Some(c) = covered.take() {
                        self.save(&c)?;
                    }
                },
                txn = transactions.recv(), if tracker.in_flight() < self.max_in_flight => match txn {
                    Some(txn) => {
                        if let Err(e) = self.publish(&mut tracker, &txn).await {
                            break Stop::Failed(e);
                        }
                        if let Some(c) = tracker.complete_prefix() {
                            covered = Some(c);
                        }
                    }
                    // The source ended and every transaction it completed was published: its
                    // task result tells why it ended.
                    None => break Stop::SourceEnded(match (&mut source).await {
                        Ok(r) => r,
                        Err(e) => Err(mwcdc_source::SourceError::Protocol { file: String::new(), pos: 0, message: format!("the source task failed: {e}") }),
                    }),
                },
            }
        };
        let _ = shutdown.send(true);
        drop(transactions);
        let delivery_failed = matches!(stop, Stop::Failed(_));
        if !delivery_failed {
            self.drain(&mut tracker, &mut acks, &mut covered).await;
        }
        if let Some(c) = covered.take().or_else(|| tracker.complete_prefix()) {
            self.save(&c)?;
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
            Stop::SourceEnded(Ok(())) => Ok(()),
            Stop::SourceEnded(Err(e)) => Err(e.into()),
            Stop::Failed(e) => Err(e),
        }
    }

    async fn publish(&mut self, tracker: &mut Tracker, txn: &Transaction) -> Result<()> {
        let ticket = tracker.add(Covered {
            position: txn.position.clone(),
            file: txn.file.to_string(),
            pos: txn.end_pos,
            commit_ts: Some(txn.commit_ts),
        });
        let records_ticket = match &txn.xa {
            Some(XaStep::Prepare(xid)) => {
                tracker.hold(ticket, xid.clone());
                ticket
            }
            Some(XaStep::Resolve(xid)) => tracker.resolve(xid).unwrap_or(ticket),
            None => ticket,
        };
        if txn.changes.is_empty() {
            return Ok(());
        }
        let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
        for record in self.encoder.encode(txn, now_ms) {
            tracker.sent(records_ticket);
            self.sink
                .send(record, records_ticket)
                .await
                .with_context(|| format!("transaction {}", txn.gtid))?;
        }
        Ok(())
    }

    async fn drain(
        &mut self,
        tracker: &mut Tracker,
        acks: &mut mpsc::UnboundedReceiver<Ack>,
        covered: &mut Option<Covered>,
    ) {
        let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
        if let Err(e) = self.sink.flush(Duration::ZERO).await {
            // Zero timeout only starts the flush; acknowledgements arrive below.
            tracing::debug!(%e, "flush started");
        }
        while tracker.in_flight() > 0 {
            match tokio::time::timeout_at(deadline, acks.recv()).await {
                Ok(Some(Ack {
                    ticket,
                    result: Ok(()),
                })) => {
                    tracker.acked(ticket);
                    if let Some(c) = tracker.complete_prefix() {
                        *covered = Some(c);
                    }
                }
                Ok(Some(Ack { result: Err(e), .. })) => {
                    error!(error = %e, "delivery failed during shutdown");
                    return;
                }
                Ok(None) | Err(_) => {
                    warn!(in_flight = tracker.in_flight(), "records still unacknowledged at shutdown; they will be produced again after a restart");
                    return;
                }
            }
        }
    }

    fn save(&self, c: &Covered) -> Result<()> {
        let checkpoint = checkpoint_at(&self.name, c);
        self.store
            .save(&checkpoint)
            .context("writing the checkpoint")?;
        tracing::debug!(gtid = %checkpoint.gtid, "checkpoint written");
        Ok(())
    }
}

/// The checkpoint of connector `name` that covers `c`.
pub fn checkpoint_at(name: &str, c: &Covered) -> Checkpoint {
    Checkpoint {
        name: name.to_string(),
        flavor: c.position.flavor(),
        gtid: c.position.to_string(),
        file: c.file.clone(),
        pos: c.pos,
        commit_ts: c
            .commit_ts
            .and_then(|t| chrono::DateTime::from_timestamp(i64::from(t), 0)),
        updated_at: chrono::Utc::now(),
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
