//! The commands: wiring configuration, source, sink, pipeline and checkpoint store.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use mwcdc_checkpoint::{Checkpoint, CheckpointStore};
use mwcdc_mediawiki::{EntityConfig, EntityEncoder, EntityTopicTemplate};
use mwcdc_position::Position;
use mwcdc_record::{EncoderConfig, RecordEncoder, TopicTemplate};
use mwcdc_sink::{KafkaSink, NullSink, Sink, StdoutSink};
use mwcdc_source::{
    ConnectOptions, Replicator, SourceConfig, SourceError, SourceStatus, TableFilter,
};
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use crate::config::{source_password, Config, ConfigError, SinkType};
use crate::http::Endpoints;
use crate::metrics::Metrics;
use crate::pipeline::{checkpoint_at, Pipeline};
use crate::records::Records;
use crate::tracker::Covered;

/// Transactions buffered between the source and the pipeline.
const SOURCE_CHANNEL: usize = 64;

/// The process environment, read once per command: overrides and the password come from it.
fn environment() -> BTreeMap<String, String> {
    std::env::vars().collect()
}

fn load(path: &Path) -> Result<Config> {
    Ok(Config::load(path, &environment())?)
}

/// The configuration and the source password, read from the file and the environment.
pub fn load_with_password(path: &Path) -> Result<(Config, Option<String>)> {
    let env = environment();
    let config = Config::load(path, &env)?;
    let password = source_password(&config, &env)?;
    Ok((config, password))
}

/// How to reach the source server.
pub fn connect_options(config: &Config, password: Option<String>) -> ConnectOptions {
    ConnectOptions {
        url: config.source.url.clone(),
        password,
        connect_timeout: config.source.connect_timeout,
        tls: config.source.tls.options(),
    }
}

/// The async runtime of a command.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// `mwcdc run`.
pub fn run(path: &Path, stop_at: Option<String>) -> Result<()> {
    let (mut config, password) = load_with_password(path)?;
    if stop_at.is_some() {
        config.source.stop = stop_at;
        config.stop()?;
    }
    runtime()?.block_on(run_async(config, password))
}

async fn run_async(config: Config, password: Option<String>) -> Result<()> {
    let store = CheckpointStore::open(&config.checkpoint.dir)?;
    let status = Arc::new(SourceStatus::default());
    let metrics = Arc::new(Metrics::new(
        status.clone(),
        config.http.per_database_metrics,
    ));
    if let Some(address) = config.http.address()? {
        crate::http::start(
            address,
            Endpoints {
                metrics: metrics.clone(),
                ready_max_lag: config.http.ready_max_lag,
            },
        )
        .await?;
    }
    let source_config = SourceConfig {
        connect: connect_options(&config, password),
        server_id: config.source.server_id,
        filter: TableFilter::new(config.source.include.clone(), config.source.exclude.clone()),
        schema: config.source.schema,
        heartbeat: config.source.heartbeat,
        read_timeout: config.source.read_timeout,
        reconnect_min: std::time::Duration::from_secs(1),
        reconnect_max: config.source.reconnect_max,
        spill: Arc::new(config.spill_policy()),
        status,
    };
    let replicator = with_backoff(
        "the source server cannot be reached; waiting for it",
        config.source.reconnect_max,
        SourceError::is_transient,
        async || Replicator::connect(source_config.clone()).await,
    )
    .await?;
    let checkpoint = store.load(&config.name)?;
    let settings = crate::settings::of(&config);
    let start = match &checkpoint {
        Some(cp) => {
            crate::settings::check(cp, &settings, config.sink.delivery)?;
            let position = cp.position()?;
            if position.flavor() != replicator.flavor() {
                return Err(SourceError::PositionRefused {
                    position: cp.gtid.clone(),
                    message: format!(
                        "the checkpoint of `{}` is a {} position but the server is {}; use `mwcdc checkpoint set` or `reset`",
                        config.name,
                        position.flavor(),
                        replicator.flavor()
                    ),
                }
                .into());
            }
            info!(gtid = %cp.gtid, "resuming from the checkpoint");
            position
        }
        None => {
            let start = config.start()?;
            let position = replicator.resolve(&start).await?;
            info!(?start, %position, "no checkpoint: starting from source.start");
            // Resolve `source.start` once: a restart before the first transaction must not
            // resolve "latest" again and skip what was written meanwhile.
            store.save(&checkpoint_at(
                &config.name,
                &settings,
                &Covered::start(position.clone()),
            ))?;
            position
        }
    };
    let records = records(&config)?;
    let (ack_tx, ack_rx) = mpsc::unbounded_channel();
    let (kind, kafka, reconnect_max) = (
        config.sink.kind,
        config.kafka_sink(),
        config.source.reconnect_max,
    );
    let parts = Parts {
        config,
        settings,
        store,
        records,
        metrics,
        replicator,
        start,
    };
    match kind {
        SinkType::Kafka => {
            let sink = KafkaSink::new(&kafka, ack_tx)?;
            // Every failure is waited out: a wrong address shows in the log at once.
            with_backoff(
                "the Kafka brokers do not answer; waiting for them",
                reconnect_max,
                |_| true,
                async || {
                    tokio::task::block_in_place(|| sink.check_connection(Duration::from_secs(10)))
                },
            )
            .await?;
            start_pipeline(parts, sink, ack_rx).await
        }
        SinkType::Stdout => start_pipeline(parts, StdoutSink::new(ack_tx), ack_rx).await,
        SinkType::Null => {
            let result = start_pipeline(parts, NullSink::new(ack_tx), ack_rx).await;
            info!(
                records = mwcdc_sink::NULL_RECORDS_DROPPED.get(),
                bytes = mwcdc_sink::NULL_BYTES_DROPPED.get(),
                "null sink: records built and dropped"
            );
            result
        }
    }
}

/// Runs `attempt` again while it fails with an error `retry` accepts, warning `message` each
/// time and waiting from 1 s, doubling up to `max`: at start, mwcdc waits for its source server
/// and its brokers as it does once streaming (a connector started while its database restarts
/// does not exit). Another error is returned.
async fn with_backoff<T, E: std::fmt::Display>(
    message: &str,
    max: Duration,
    retry: impl Fn(&E) -> bool,
    mut attempt: impl AsyncFnMut() -> Result<T, E>,
) -> Result<T, E> {
    let mut delay = Duration::from_secs(1);
    loop {
        match attempt().await {
            Err(e) if retry(&e) => {
                warn!(error = %e, retry_in = ?delay, "{message}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(max);
            }
            result => return result,
        }
    }
}

/// The encoders of the record streams the configuration enables.
fn records(config: &Config) -> Result<Records, ConfigError> {
    let key = |key: &str, e: &dyn std::fmt::Display| ConfigError::Key {
        key: key.into(),
        message: e.to_string(),
    };
    let entities = config.output.entities.then(|| {
        let filter = TableFilter::new(config.source.include.clone(), config.source.exclude.clone());
        let prefixes = config.source.table_prefix.clone();
        let prefix_of = move |db: &str| Config::table_prefix_of(&prefixes, db);
        let table_prefix = Arc::new(prefix_of.clone());
        EntityTopicTemplate::parse(&config.output.entity_topic)
            .map(|topic| {
                EntityEncoder::new(EntityConfig {
                    topic_prefix: config.sink.topic_prefix.clone(),
                    topic,
                    binary: config.output.binary,
                    captured: Arc::new(move |db: &str, table: &str| {
                        filter.captures(db, &format!("{}{table}", prefix_of(db)))
                    }),
                    table_prefix,
                })
            })
            .map_err(|e| key("output.entity_topic", &e))
    });
    let entities = entities.transpose()?;
    let rows = if config.output.rows {
        let mut rows = RecordEncoder::new(EncoderConfig {
            connector_name: config.name.clone(),
            topic_prefix: config.sink.topic_prefix.clone(),
            topic: TopicTemplate::parse(&config.output.topic)
                .map_err(|e| key("output.topic", &e))?,
            binary: config.output.binary,
            tombstones: config.output.tombstones,
        });
        if let Some(e) = &entities {
            rows.reserve_topics(e.topics().map(|(_, t)| t.to_string()));
        }
        Some(rows)
    } else {
        None
    };
    Ok(Records { rows, entities })
}

/// What a pipeline is built from, besides its sink.
struct Parts {
    config: Config,
    /// The record settings stored with every checkpoint.
    settings: serde_json::Value,
    store: CheckpointStore,
    records: Records,
    metrics: Arc<Metrics>,
    replicator: Replicator,
    start: Position,
}

async fn start_pipeline<S: Sink>(
    parts: Parts,
    sink: S,
    acks: mpsc::UnboundedReceiver<mwcdc_sink::Ack>,
) -> Result<()> {
    let Parts {
        config,
        settings,
        store,
        records,
        metrics,
        replicator,
        start,
    } = parts;
    metrics.checkpoint_saved(&start.to_string(), None, true);
    let stop_at = config.stop()?;
    let pipeline = Pipeline {
        stop_at,
        start: start.clone(),
        metrics,
        name: config.name.clone(),
        sink,
        records,
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
    pipeline.run(txn_rx, acks, source, stop_tx, signal).await
}

fn open_store(config: &Config) -> Result<CheckpointStore> {
    Ok(CheckpointStore::open(&config.checkpoint.dir)?)
}

/// `mwcdc checkpoint show`.
pub fn checkpoint_show(path: &Path) -> Result<()> {
    let config = load(path)?;
    match open_store(&config)?.load(&config.name)? {
        Some(cp) => {
            println!("{}", serde_json::to_string(&cp)?);
            Ok(())
        }
        None => bail!(
            "no checkpoint stored for connector `{}` in {}",
            config.name,
            config.checkpoint.dir.display()
        ),
    }
}

/// `mwcdc checkpoint set`.
pub fn checkpoint_set(path: &Path, gtid: &str) -> Result<()> {
    let config = load(path)?;
    let position = Position::parse_any(gtid).with_context(|| format!("--gtid {gtid:?}"))?;
    let store = open_store(&config)?;
    let checkpoint = Checkpoint {
        name: config.name.clone(),
        flavor: position.flavor(),
        gtid: position.to_string(),
        file: String::new(),
        pos: 0,
        commit_ts: None,
        updated_at: chrono::Utc::now(),
        settings: Some(crate::settings::of(&config)),
    };
    store.save(&checkpoint)?;
    println!("{}", serde_json::to_string(&checkpoint)?);
    Ok(())
}

/// `mwcdc checkpoint reset`.
pub fn checkpoint_reset(path: &Path) -> Result<()> {
    let config = load(path)?;
    if open_store(&config)?.remove(&config.name)? {
        println!(
            "checkpoint of `{}` removed; the next run starts at source.start = {:?}",
            config.name, config.source.start
        );
    } else {
        println!("no checkpoint stored for `{}`", config.name);
    }
    Ok(())
}
