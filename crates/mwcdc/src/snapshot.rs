//! `snapshot.mode` in a run: whether it reads a snapshot job, and the tasks that stream the
//! binlog (and read and merge the job's chunks) into the pipeline.

use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use mwcdc_checkpoint::SnapshotProgress;
use mwcdc_position::Position;
use mwcdc_snapshot::coordinates::Coordinates;
use mwcdc_snapshot::{ChunkReader, Inbound, JobReader, Merger, SnapshotStats};
use mwcdc_source::{Replicator, StreamProgress, TableFilter};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::info;

use crate::config::{Config, SnapshotMode};

/// Transactions buffered between the source and the pipeline (and between the source and
/// the merge).
const SOURCE_CHANNEL: usize = 64;

/// A new job's progress: nothing read yet. Its id, `initial-<UTC time it began>`, tells it
/// from an earlier job of the connector (before a `checkpoint reset`): its records have other
/// ids, and an exactly-once replay does not take the earlier job's rows for its own.
pub fn new_job() -> SnapshotProgress {
    SnapshotProgress {
        job: format!("initial-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")),
        lanes: Vec::new(),
        tables_done: 0,
        rows: 0,
        done_at: None,
    }
}

/// What a run does about the snapshot, by `snapshot.mode` and the job the checkpoint has.
#[derive(Debug, PartialEq)]
pub enum Plan {
    /// Stream only.
    Stream,
    /// Read the job on from where it stands, streaming meanwhile.
    Read(SnapshotProgress),
    /// Nothing to do (`initial_only` with the job delivered).
    Finished,
}

/// The plan for `mode` with the job `stored` in the checkpoint (or just created with it).
pub fn plan(mode: SnapshotMode, stored: Option<&SnapshotProgress>) -> Result<Plan> {
    Ok(match (mode, stored) {
        (SnapshotMode::Never, _) => Plan::Stream,
        (_, Some(job)) if !job.is_done() => Plan::Read(job.clone()),
        (SnapshotMode::Initial, _) => Plan::Stream,
        (SnapshotMode::InitialOnly, Some(job)) => {
            info!(job = %job.job, done_at = job.done_at.as_deref().unwrap_or_default(), "the snapshot job is delivered already: nothing to do in snapshot.mode = \"initial_only\"");
            Plan::Finished
        }
        (SnapshotMode::InitialOnly, None) => bail!(
            "snapshot.mode = \"initial_only\", but the checkpoint has no snapshot job: a connector \
             that streamed before is not snapshotted again. Run `mwcdc checkpoint reset` to \
             start over with a snapshot, or set snapshot.mode = \"never\""
        ),
    })
}

/// The source task: the binlog stream from `start` (at `start_at`, when known) and, with a
/// `job`, its reader and the
/// merge of its chunks. It ends when the stream ends (with the stream's error) or when the
/// job fails (with the job's error); what it hands on goes to the receiver.
#[allow(clippy::too_many_arguments)]
pub fn spawn(
    config: &Config,
    password: Option<String>,
    replicator: Replicator,
    start: Position,
    start_at: Option<Coordinates>,
    job: Option<SnapshotProgress>,
    source_progress: Arc<StreamProgress>,
    stats: Arc<SnapshotStats>,
    stop: watch::Receiver<bool>,
) -> (JoinHandle<Result<()>>, mpsc::Receiver<Inbound>) {
    let (out, inbound) = mpsc::channel(SOURCE_CHANNEL);
    let Some(job) = job else {
        let task = tokio::spawn(async move { Ok(replicator.run(start, out, stop).await?) });
        return (task, inbound);
    };
    let (stream_tx, stream) = mpsc::channel(SOURCE_CHANNEL);
    let (reader_tx, reader) = mpsc::channel(1);
    let spill = replicator.spill_policy();
    let snapshot = &config.snapshot;
    let reader_task = {
        let connect = crate::setup::connect_options(config, password);
        let captured =
            TableFilter::new(config.source.include.clone(), config.source.exclude.clone());
        let globs = snapshot.tables.clone();
        let resume = job.lanes.first().cloned();
        let (chunk_rows, max_rows_per_second) = (snapshot.chunk_rows, snapshot.max_rows_per_second);
        let (stats, id) = (stats.clone(), job.job.clone());
        let ordered_keys = config.sink.delivery.compares_partition_ends();
        tokio::spawn(async move {
            let mut reader = ChunkReader::new(connect);
            let tables = reader.job_tables(&captured, &globs).await?;
            JobReader {
                reader,
                tables,
                resume,
                chunk_rows,
                max_rows_per_second,
                stats,
                job: id,
                ordered_keys,
            }
            .run(reader_tx)
            .await
        })
    };
    let merger = Merger {
        stream,
        reader,
        out,
        progress: job,
        start: start.clone(),
        start_at,
        source: source_progress,
        spill,
        stats,
    };
    let stream_task = tokio::spawn(replicator.run(start, stream_tx, stop));
    let task = tokio::spawn(async move {
        match merger.run(reader_task).await {
            Err(e) => {
                stream_task.abort();
                Err(e.into())
            }
            Ok(()) => match stream_task.await {
                Ok(streamed) => Ok(streamed?),
                Err(e) => Err(anyhow!("internal error: the source task failed: {e}")),
            },
        }
    });
    (task, inbound)
}
