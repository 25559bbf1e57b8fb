//! What the source is configured with: how to reach the server, what to capture, how to
//! reconnect, and where to start without a checkpoint.

use std::sync::Arc;
use std::time::Duration;

use mwcdc_change::SpillPolicy;
use mwcdc_position::Position;

use crate::filter::TableFilter;
use crate::progress::StreamProgress;
use crate::schema::SchemaMode;
use crate::server::ConnectOptions;

/// Where to start without a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum StartPosition {
    /// The start of the oldest binlog the server still has.
    Earliest,
    /// The server's current position: only changes from now on.
    Latest,
    /// A given GTID position.
    At(Position),
}

/// As `source.start` is written: `earliest`, `latest` or the position.
impl std::fmt::Display for StartPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartPosition::Earliest => f.write_str("earliest"),
            StartPosition::Latest => f.write_str("latest"),
            StartPosition::At(position) => position.fmt(f),
        }
    }
}

/// Settings of the source.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// How to connect.
    pub connect: ConnectOptions,
    /// The replica server id mwcdc registers with.
    pub server_id: u32,
    /// Captured tables.
    pub filter: TableFilter,
    /// Where column names come from.
    pub schema: SchemaMode,
    /// Heartbeat period the server is asked for.
    pub heartbeat: Duration,
    /// How long without any event before the connection is considered dead.
    pub read_timeout: Duration,
    /// First reconnect delay.
    pub reconnect_min: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// How much of the transactions read is held in memory before they spill to disk.
    pub spill: Arc<SpillPolicy>,
    /// Where the stream's progress is reported.
    pub progress: Arc<StreamProgress>,
}
