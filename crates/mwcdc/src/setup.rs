//! What the commands build from the configuration: the configuration itself and the source
//! password, the async runtime, the source, the encoders, the sink and the checkpoint store.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use mwcdc_backoff::{retry, Backoff};
use mwcdc_checkpoint::CheckpointStore;
use mwcdc_mediawiki::{EntityConfig, EntityEncoder};
use mwcdc_record::{RowEncoder, RowEncoderConfig};
use mwcdc_sink::{AckSender, ConfiguredSink, KafkaSink, NullSink, StdoutSink};
use mwcdc_source::{
    ConnectOptions, Replicator, SourceConfig, SourceError, StreamProgress, TableFilter,
};

use crate::config::{source_password, Config, SinkType};
use crate::encoders::Encoders;

/// The first wait before connecting again to the source or the brokers.
const RECONNECT_MIN: Duration = Duration::from_secs(1);

/// The process environment, read once per command: overrides and the password come from it.
fn environment() -> BTreeMap<String, String> {
    std::env::vars().collect()
}

/// The configuration, read from the file and the environment.
pub fn load(path: &Path) -> Result<Config> {
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

/// The checkpoint store of `checkpoint.dir`.
pub fn open_store(config: &Config) -> Result<CheckpointStore> {
    Ok(CheckpointStore::open(&config.checkpoint.dir)?)
}

/// The source, connected: a server that cannot be reached yet is waited for.
pub async fn source(
    config: &Config,
    password: Option<String>,
    progress: Arc<StreamProgress>,
) -> Result<Replicator> {
    let source_config = SourceConfig {
        connect: connect_options(config, password),
        server_id: config.source.server_id,
        filter: TableFilter::new(config.source.include.clone(), config.source.exclude.clone()),
        schema: config.source.schema,
        heartbeat: config.source.heartbeat,
        read_timeout: config.source.read_timeout,
        reconnect_min: RECONNECT_MIN,
        reconnect_max: config.source.reconnect_max,
        spill: Arc::new(config.spill_policy()),
        progress,
    };
    Ok(retry(
        "the source server cannot be reached; waiting for it",
        start_backoff(config),
        |e: &SourceError| matches!(e, SourceError::Transient(_)),
        async || Replicator::connect(source_config.clone()).await,
    )
    .await?)
}

/// The sink of `sink.type`, acknowledging on `acks`. Brokers that do not answer yet are
/// waited for; in transactional mode the producer's transactions are initialised.
pub async fn sink(config: &Config, acks: AckSender) -> Result<ConfiguredSink> {
    Ok(match config.sink.kind {
        SinkType::Kafka => {
            let sink = KafkaSink::new(&config.kafka_sink(), acks)?;
            // Every failure is waited out: a wrong address shows in the log at once.
            retry(
                "the Kafka brokers do not answer; waiting for them",
                start_backoff(config),
                |_| true,
                async || {
                    tokio::task::block_in_place(|| sink.check_connection(Duration::from_secs(10)))
                },
            )
            .await?;
            // Transactional mode: fences a previous instance before anything is read back.
            tokio::task::block_in_place(|| sink.init_transactions())?;
            ConfiguredSink::Kafka(sink)
        }
        SinkType::Stdout => ConfiguredSink::Stdout(StdoutSink::new(acks)),
        SinkType::Null => ConfiguredSink::Null(NullSink::new(acks)),
    })
}

/// The waits at start: mwcdc waits for its source server and its brokers as it does once
/// streaming (a connector started while its database restarts does not exit).
fn start_backoff(config: &Config) -> Backoff {
    Backoff::new(RECONNECT_MIN, config.source.reconnect_max)
}

/// The encoders of the record streams the configuration enables.
pub fn encoders(config: &Config) -> Encoders {
    let entities = config.output.entities.then(|| {
        let filter = TableFilter::new(config.source.include.clone(), config.source.exclude.clone());
        let prefixes = config.source.table_prefix.clone();
        let prefix_of = move |db: &str| Config::table_prefix_of(&prefixes, db);
        let table_prefix = Arc::new(prefix_of.clone());
        EntityEncoder::new(EntityConfig {
            topic_prefix: config.sink.topic_prefix.clone(),
            topic: config.output.entity_topic.clone(),
            binary: config.output.binary,
            captured: Arc::new(move |db: &str, table: &str| {
                filter.captures(db, &format!("{}{table}", prefix_of(db)))
            }),
            table_prefix,
        })
    });
    let rows = config.output.rows.then(|| {
        let mut rows = RowEncoder::new(RowEncoderConfig {
            connector_name: config.name.clone(),
            topic_prefix: config.sink.topic_prefix.clone(),
            topic: config.output.topic.clone(),
            binary: config.output.binary,
            tombstones: config.output.tombstones,
        });
        if let Some(e) = &entities {
            rows.reserve_topics(e.topics().map(|(_, t)| t.to_string()));
        }
        rows
    });
    Encoders { rows, entities }
}
