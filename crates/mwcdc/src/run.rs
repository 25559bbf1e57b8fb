//! `mwcdc run`: the source, the pipeline and the sink, from the checkpoint (or `source.start`)
//! until stopped.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use mwcdc_checkpoint::{CheckpointStore, SnapshotProgress};
use mwcdc_position::{Flavor, Position};
use mwcdc_snapshot::coordinates::Coordinates;
use mwcdc_snapshot::{ChunkReader, SnapshotStats};
use mwcdc_source::{Replicator, SourceError, StartPosition, StreamProgress, UnusableError};
use tokio::sync::{mpsc, watch};
use tracing::info;

use crate::config::{Config, SinkType, SnapshotMode};
use crate::http::Endpoints;
use crate::metrics::Metrics;
use crate::pipeline::{checkpoint_at, Pipeline};
use crate::setup;
use crate::snapshot::Plan;
use crate::tracker::Covered;

/// `mwcdc run`.
pub fn run(path: &Path, stop_at: Option<String>) -> Result<()> {
    let (mut config, password) = setup::load_with_password(path)?;
    if let Some(stop_at) = stop_at {
        config.set_stop(&stop_at)?;
    }
    setup::runtime()?.block_on(run_async(config, password))
}

async fn run_async(config: Config, password: Option<String>) -> Result<()> {
    let store = Arc::new(setup::open_store(&config)?);
    let progress = Arc::new(StreamProgress::default());
    let stats = Arc::new(SnapshotStats::default());
    let metrics = Arc::new(Metrics::new(
        progress.clone(),
        stats.clone(),
        config.http.per_database_metrics,
    ));
    if let Some(address) = config.http.listen {
        crate::http::start(
            address,
            Endpoints {
                metrics: metrics.clone(),
                ready_max_lag: config.http.ready_max_lag,
            },
        )
        .await?;
    }
    let replicator = setup::source(&config, password.clone(), progress.clone()).await?;
    let settings = crate::settings::of(&config);
    let Start {
        position: start,
        job: stored_job,
        at: start_at,
    } = start_position(&config, password.clone(), &store, &settings, &replicator).await?;
    let job = match crate::snapshot::plan(config.snapshot.mode, stored_job.as_ref())? {
        Plan::Finished => return Ok(()),
        Plan::Stream => None,
        Plan::Read(job) => Some(job),
    };
    let encoders = setup::encoders(&config);
    let (ack_tx, acks) = mpsc::unbounded_channel();
    let sink = setup::sink(&config, ack_tx).await?;
    metrics.checkpoint_saved(&start.to_string(), None, stored_job.as_ref(), true);
    let pipeline = Pipeline {
        stop_at: config.source.stop.clone(),
        start: start.clone(),
        metrics,
        name: config.name.clone(),
        sink,
        encoders,
        store,
        interval: config.checkpoint.interval,
        max_in_flight: config.sink.max_in_flight,
        settings,
        snapshot: stored_job.map(Arc::new),
        until_snapshot_done: config.snapshot.mode == SnapshotMode::InitialOnly,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let (source, txn_rx) = crate::snapshot::spawn(
        &config, password, replicator, start, start_at, job, progress, stats, stop_rx,
    );
    let signal = Box::pin(async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = term.recv() => info!("SIGTERM received"),
            _ = tokio::signal::ctrl_c() => info!("SIGINT received"),
        }
    });
    let result = pipeline.run(txn_rx, acks, source, stop_tx, signal).await;
    if config.sink.kind == SinkType::Null {
        info!(
            records = mwcdc_sink::NULL_RECORDS_DROPPED.get(),
            bytes = mwcdc_sink::NULL_BYTES_DROPPED.get(),
            "null sink: records built and dropped"
        );
    }
    result
}

/// Where reading starts: the position, the snapshot job as of there, and the binlog
/// coordinates of the position when known.
struct Start {
    position: Position,
    job: Option<SnapshotProgress>,
    at: Option<Coordinates>,
}

/// Where reading starts: after the checkpoint, or at `source.start` resolved once and stored
/// (a restart before the first transaction must not resolve "latest" again and skip what was
/// written meanwhile). Without a checkpoint, a snapshot mode other than `never` starts a new
/// job and the stream at the server's latest position, where the snapshot begins, with its
/// binlog coordinates (MariaDB).
async fn start_position(
    config: &Config,
    password: Option<String>,
    store: &CheckpointStore,
    settings: &serde_json::Value,
    replicator: &Replicator,
) -> Result<Start> {
    match store.load(&config.name)? {
        Some(cp) => {
            crate::settings::check(&cp, settings, config.sink.delivery)?;
            let position = cp.position.clone();
            if position.flavor() != replicator.flavor() {
                return Err(SourceError::Unusable(UnusableError::PositionRefused {
                    position: position.to_string(),
                    message: format!(
                        "the checkpoint of `{}` is a {} position but the server is {}; use `mwcdc checkpoint set` or `reset`",
                        config.name,
                        position.flavor(),
                        replicator.flavor()
                    ),
                })
                .into());
            }
            info!(gtid = %position, "resuming from the checkpoint");
            // The checkpoint's coordinates place a resumed job's chunks, if they are of this
            // server's binlog (after a failover they are not: a heartbeat places them).
            let resumed_job = cp.snapshot.as_ref().is_some_and(|job| !job.is_done());
            let at = Coordinates {
                file: cp.file.as_str().into(),
                pos: cp.pos,
            };
            let usable = resumed_job
                && !cp.file.is_empty()
                && ChunkReader::new(setup::connect_options(config, password))
                    .holds(&at, &position)
                    .await?;
            if resumed_job && !usable {
                info!(checkpoint_at = %at, "the checkpoint's binlog coordinates are not where this server's binlog has its position (another server, or a purged file): the stream and the server's heartbeats place the first chunks");
            }
            let at = usable.then_some(at);
            Ok(Start {
                position,
                job: cp.snapshot,
                at,
            })
        }
        None if config.snapshot.mode != SnapshotMode::Never => {
            let (position, at) = match replicator.flavor() {
                Flavor::MariaDb => {
                    let mut reader = ChunkReader::new(setup::connect_options(config, password));
                    let (at, position) = reader.start_point().await?;
                    (position, Some(at))
                }
                Flavor::MySql => (replicator.resolve(&StartPosition::Latest).await?, None),
            };
            info!(%position, "no checkpoint: a snapshot begins, and the stream from the server's latest position");
            let job = crate::snapshot::new_job();
            let covered = Covered {
                snapshot: Some(Arc::new(job.clone())),
                file: at.as_ref().map(|a| a.file.to_string()).unwrap_or_default(),
                pos: at.as_ref().map_or(0, |a| a.pos),
                ..Covered::start(position.clone())
            };
            store.save(&checkpoint_at(&config.name, settings, &covered))?;
            Ok(Start {
                position,
                job: Some(job),
                at,
            })
        }
        None => {
            let start = &config.source.start;
            let position = replicator.resolve(start).await?;
            info!(?start, %position, "no checkpoint: starting from source.start");
            store.save(&checkpoint_at(
                &config.name,
                settings,
                &Covered::start(position.clone()),
            ))?;
            Ok(Start {
                position,
                job: None,
                at: None,
            })
        }
    }
}
