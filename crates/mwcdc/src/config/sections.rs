//! The configuration's sections and keys as types, with their defaults.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use mwcdc_mediawiki::EntityTopicTemplate;
use mwcdc_position::Position;
use mwcdc_record::{BinaryMode, TopicTemplate};
use mwcdc_source::{SchemaMode, StartPosition};
use serde::Deserialize;

use super::values::{byte_size, humantime_serde_compat, parsed};

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Connector name: the checkpoint key and `source.name` in records.
    #[serde(default = "default_name")]
    pub name: String,
    /// The server to read from.
    pub source: SourceSection,
    /// Where records go.
    #[serde(default)]
    pub sink: SinkSection,
    /// The checkpoint store.
    #[serde(default)]
    pub checkpoint: CheckpointSection,
    /// Record format.
    #[serde(default)]
    pub output: OutputSection,
    /// The metrics and health listener.
    #[serde(default)]
    pub http: HttpSection,
    /// Snapshots of the captured tables.
    #[serde(default)]
    pub snapshot: SnapshotSection,
}

fn default_name() -> String {
    "mwcdc".into()
}

/// `[source]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSection {
    /// `mysql://user@host:port`; the password comes from `MWCDC_SOURCE_PASSWORD` or
    /// `password_file`.
    pub url: String,
    /// A file holding the password (trailing newline ignored).
    pub password_file: Option<PathBuf>,
    /// The replica server id mwcdc registers with; unique among the server's replicas.
    #[serde(default = "default_server_id")]
    pub server_id: u32,
    /// `db.table` globs of captured tables.
    #[serde(default = "default_include")]
    pub include: Vec<String>,
    /// `db.table` globs excluded from `include`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// MediaWiki's `$wgDBprefix` per wiki: database glob -> table name prefix. Tables are
    /// recognised by their name without it; the default `include` follows it.
    #[serde(default)]
    pub table_prefix: BTreeMap<String, String>,
    /// Where to start without a checkpoint: `earliest`, `latest` or a GTID position.
    #[serde(default = "default_start", deserialize_with = "parsed::start")]
    pub start: StartPosition,
    /// A GTID position to stop at: once every transaction up to it is delivered and
    /// checkpointed, `run` exits 0.
    #[serde(default, deserialize_with = "parsed::stop")]
    pub stop: Option<Position>,
    /// Where column names come from: `binlog` or `information_schema`.
    #[serde(default)]
    pub schema: SchemaMode,
    /// Heartbeat period the server is asked for.
    #[serde(default = "default_heartbeat", with = "humantime_serde_compat")]
    pub heartbeat: Duration,
    /// Time without any event after which the connection is re-established.
    #[serde(default = "default_read_timeout", with = "humantime_serde_compat")]
    pub read_timeout: Duration,
    /// Connection timeout.
    #[serde(default = "default_connect_timeout", with = "humantime_serde_compat")]
    pub connect_timeout: Duration,
    /// Longest wait between reconnect attempts.
    #[serde(default = "default_reconnect_max", with = "humantime_serde_compat")]
    pub reconnect_max: Duration,
    /// Memory a transaction's changes may take before they spill to disk, e.g. `"64MiB"`.
    #[serde(default = "default_transaction_memory", with = "byte_size")]
    pub transaction_memory: u64,
    /// Directory of spill files; default `<checkpoint.dir>/spill`.
    pub spill_dir: Option<PathBuf>,
    /// TLS to the server.
    #[serde(default)]
    pub tls: TlsSection,
}

/// `[source.tls]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// `disabled`, `required`, `verify-ca` or `verify-identity`.
    #[serde(default)]
    pub mode: mwcdc_source::TlsMode,
    /// PEM file of the CA that signed the server's certificate.
    pub ca: Option<PathBuf>,
    /// PEM file of the client certificate chain.
    pub cert: Option<PathBuf>,
    /// PEM file of the client certificate's private key.
    pub key: Option<PathBuf>,
}

impl TlsSection {
    /// The source's TLS options.
    pub fn options(&self) -> mwcdc_source::TlsOptions {
        mwcdc_source::TlsOptions {
            mode: self.mode,
            ca: self.ca.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
        }
    }
}

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    /// `ip:port` of the listener; `None` (written `""`) disables it.
    #[serde(default = "default_listen", deserialize_with = "parsed::listen")]
    pub listen: Option<SocketAddr>,
    /// Whether row change counters carry a `database` label.
    #[serde(default)]
    pub per_database_metrics: bool,
    /// The source lag beyond which `/readyz` answers 503.
    #[serde(default = "default_ready_max_lag", with = "humantime_serde_compat")]
    pub ready_max_lag: Duration,
}

impl Default for HttpSection {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            per_database_metrics: false,
            ready_max_lag: default_ready_max_lag(),
        }
    }
}

fn default_listen() -> Option<SocketAddr> {
    Some(SocketAddr::from(([127, 0, 0, 1], 9187)))
}
fn default_ready_max_lag() -> Duration {
    Duration::from_secs(60)
}

fn default_server_id() -> u32 {
    8001
}
/// The default `source.include`.
pub(super) fn default_include() -> Vec<String> {
    mwcdc_source::TableFilter::DEFAULT_INCLUDE
        .iter()
        .map(|s| s.to_string())
        .collect()
}
fn default_start() -> StartPosition {
    StartPosition::Latest
}
fn default_heartbeat() -> Duration {
    Duration::from_secs(5)
}
fn default_read_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_connect_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_reconnect_max() -> Duration {
    Duration::from_secs(30)
}
fn default_transaction_memory() -> u64 {
    64 << 20
}

/// Sink type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SinkType {
    /// Kafka.
    #[default]
    Kafka,
    /// One JSON line per record on stdout.
    Stdout,
    /// Records built as for Kafka, then dropped and counted.
    Null,
}

/// `[sink]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkSection {
    /// `kafka` or `stdout`.
    #[serde(default, rename = "type")]
    pub kind: SinkType,
    /// Kafka bootstrap servers.
    #[serde(default = "default_brokers")]
    pub brokers: String,
    /// `{prefix}` of topic names.
    #[serde(default = "default_prefix")]
    pub topic_prefix: String,
    /// Records sent but not yet acknowledged before reading pauses.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// `at-least-once` or `exactly-once`.
    #[serde(default)]
    pub delivery: mwcdc_sink::Delivery,
    /// `fail` or `skip`: a record larger than `message.max.bytes`.
    #[serde(default)]
    pub oversize: mwcdc_sink::Oversize,
    /// librdkafka properties, passed as they are.
    #[serde(default)]
    pub properties: BTreeMap<String, toml::Value>,
}

/// Property values may be secrets (`sasl.password`): only their names are shown.
impl std::fmt::Debug for SinkSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkSection")
            .field("kind", &self.kind)
            .field("brokers", &self.brokers)
            .field("topic_prefix", &self.topic_prefix)
            .field("max_in_flight", &self.max_in_flight)
            .field("delivery", &self.delivery)
            .field("oversize", &self.oversize)
            .field("properties", &self.properties.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for SinkSection {
    fn default() -> Self {
        Self {
            kind: SinkType::default(),
            brokers: default_brokers(),
            topic_prefix: default_prefix(),
            max_in_flight: default_max_in_flight(),
            delivery: mwcdc_sink::Delivery::default(),
            oversize: mwcdc_sink::Oversize::default(),
            properties: BTreeMap::new(),
        }
    }
}

fn default_brokers() -> String {
    "127.0.0.1:9092".into()
}
fn default_prefix() -> String {
    "mwcdc".into()
}
fn default_max_in_flight() -> usize {
    5_000
}

/// `[checkpoint]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSection {
    /// The state directory.
    #[serde(default = "default_dir")]
    pub dir: PathBuf,
    /// Longest time between checkpoint writes while changes are acknowledged.
    #[serde(default = "default_interval", with = "humantime_serde_compat")]
    pub interval: Duration,
}

impl Default for CheckpointSection {
    fn default() -> Self {
        Self {
            dir: default_dir(),
            interval: default_interval(),
        }
    }
}

fn default_dir() -> PathBuf {
    "./mwcdc-state".into()
}
fn default_interval() -> Duration {
    Duration::from_secs(1)
}

/// `[output]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// Binary values: `utf8`, `base64` or `hex`.
    #[serde(default)]
    pub binary: BinaryMode,
    /// Topic template with `{prefix}`, `{db}`, `{table}`.
    #[serde(default, deserialize_with = "parsed::topic")]
    pub topic: TopicTemplate,
    /// Whether a delete is followed by a tombstone.
    #[serde(default = "default_true")]
    pub tombstones: bool,
    /// Whether row change records are produced.
    #[serde(default = "default_true")]
    pub rows: bool,
    /// Whether MediaWiki entity change records are produced.
    #[serde(default = "default_true")]
    pub entities: bool,
    /// Entity topic template with `{prefix}` and `{entity}`.
    #[serde(default, deserialize_with = "parsed::entity_topic")]
    pub entity_topic: EntityTopicTemplate,
}

impl Default for OutputSection {
    fn default() -> Self {
        Self {
            binary: BinaryMode::default(),
            topic: TopicTemplate::default(),
            tombstones: true,
            rows: true,
            entities: true,
            entity_topic: EntityTopicTemplate::default(),
        }
    }
}

fn default_true() -> bool {
    true
}

/// `[snapshot]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotSection {
    /// `never`, `initial` (no checkpoint yet: snapshot, then stream) or `initial_only` (the
    /// same, then exit once the snapshot is delivered).
    #[serde(default)]
    pub mode: SnapshotMode,
    /// Rows per chunk, each read in a transaction of its own.
    #[serde(default = "default_chunk_rows")]
    pub chunk_rows: u64,
    /// The most rows read per second, 0 for no limit.
    #[serde(default)]
    pub max_rows_per_second: u64,
    /// `db.table` globs of the captured tables a snapshot reads.
    #[serde(default = "default_snapshot_tables")]
    pub tables: Vec<String>,
}

impl Default for SnapshotSection {
    fn default() -> Self {
        Self {
            mode: SnapshotMode::default(),
            chunk_rows: default_chunk_rows(),
            max_rows_per_second: 0,
            tables: default_snapshot_tables(),
        }
    }
}

/// `snapshot.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotMode {
    /// No snapshot: stream only.
    #[default]
    Never,
    /// Without a checkpoint, snapshot every table and stream from where the snapshot began;
    /// later runs resume an unfinished snapshot.
    Initial,
    /// As `initial`, then exit 0 once the snapshot is delivered and checkpointed.
    InitialOnly,
}

fn default_chunk_rows() -> u64 {
    10_000
}
fn default_snapshot_tables() -> Vec<String> {
    vec!["*".into()]
}
