//! `mwcdc run`: the source, the pipeline and the sink, from the checkpoint (or `source.start`)
//! until stopped.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use mwcdc_checkpoint::CheckpointStore;
use mwcdc_position::Position;
use mwcdc_source::{Replicator, SourceError, StreamProgress, UnusableError};
use tokio::sync::{mpsc, watch};
use tracing::info;

use crate::config::{Config, SinkType};
use crate::http::Endpoints;
use crate::metrics::Metrics;
use crate::pipeline::{checkpoint_at, Pipeline};
use crate::setup;
use crate::tracker::Covered;

/// Transactions buffered between the source and the pipeline.
const SOURCE_CHANNEL: usize = 64;

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
    let metrics = Arc::new(Metrics::new(
        progress.clone(),
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
    let replicator = setup::source(&config, password, progress).await?;
    let settings = crate::settings::of(&config);
    let start = start_position(&config, &store, &settings, &replicator).await?;
    let encoders = setup::encoders(&config);
    let (ack_tx, acks) = mpsc::unbounded_channel();
    let sink = setup::sink(&config, ack_tx).await?;
    metrics.checkpoint_saved(&start.to_string(), None, true);
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
    };
    let (txn_tx, txn_rx) = mpsc::channel(SOURCE_CHANNEL);
    let (stop_tx, stop_rx) = watch::channel(false);
    let source = tokio::spawn(replicator.run(start, txn_tx, stop_rx));
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

/// Where reading starts: after the checkpoint, or at `source.start` resolved once and stored
/// (a restart before the first transaction must not resolve "latest" again and skip what was
/// written meanwhile).
async fn start_position(
    config: &Config,
    store: &CheckpointStore,
    settings: &serde_json::Value,
    replicator: &Replicator,
) -> Result<Position> {
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
            Ok(position)
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
            Ok(position)
        }
    }
}
