//! The replication loop: connect, stream, hand transactions on, reconnect with backoff.
//!
//! # Resumption
//! Every reconnect resumes from the position after the last transaction that was handed
//! on in full; a transaction cut by the disconnect is read again from its start.
//!
//! # Error handling
//! A broken connection, a read timeout and a position the server has not reached yet (a
//! lagging replica) are retried with exponential backoff and logged. A purged position, a
//! wrong setting, an event that does not decode and incomplete row data stop the source.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};
use mwcdc_binlog::{Collations, EventDecoder};
use mwcdc_position::{Flavor, Position};
use mwcdc_record::{SpillPolicy, Transaction};
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use crate::assembler::Assembler;
use crate::filter::TableFilter;
use crate::schema::SchemaMode;
use crate::server::{self, ConnectOptions, ServerLookup};
use crate::status::SourceStatus;
use crate::stream;
use crate::SourceError;

/// MySQL/MariaDB error code for binlog dump failures (`ER_MASTER_FATAL_ERROR_READING_BINLOG`).
const ER_MASTER_FATAL_ERROR_READING_BINLOG: u16 = 1236;

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
    pub status: Arc<SourceStatus>,
}

/// A transaction as the source hands it on.
#[derive(Debug)]
pub struct Received {
    /// The transaction.
    pub transaction: Transaction,
    /// When the event that completed it (its commit) was received.
    pub at: Instant,
}

/// A connected, checked source.
pub struct Replicator {
    config: SourceConfig,
    flavor: Flavor,
    collations: Collations,
}

impl Replicator {
    /// Connects, detects the flavor and checks the server settings.
    pub async fn connect(config: SourceConfig) -> Result<Self, SourceError> {
        let mut conn = config.connect.connect().await?;
        let (flavor, version) = server::detect_flavor(&mut conn).await?;
        server::check_settings(&mut conn, flavor, config.schema).await?;
        let collations = server::collations(&mut conn).await?;
        let _ = conn.disconnect().await;
        info!(%version, ?flavor, host = %config.connect.host(), "connected to the source server");
        Ok(Self {
            config,
            flavor,
            collations,
        })
    }

    /// The server's flavor.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// Resolves a start setting to a position on this server.
    pub async fn resolve(&self, start: &StartPosition) -> Result<Position, SourceError> {
        let mut conn = self.config.connect.connect().await?;
        let pos = match start {
            StartPosition::Latest => server::latest_position(&mut conn, self.flavor).await?,
            StartPosition::Earliest => server::earliest_position(&mut conn, self.flavor).await?,
            StartPosition::At(p) => {
                if p.flavor() != self.flavor {
                    return Err(SourceError::PositionRefused {
                        position: p.to_string(),
                        message: format!(
                            "a {} position, but the server is {}",
                            p.flavor(),
                            self.flavor
                        ),
                    });
                }
                p.clone()
            }
        };
        let _ = conn.disconnect().await;
        Ok(pos)
    }

    /// Streams from `start` until `shutdown` turns true or an error that reconnecting cannot
    /// fix. Transactions go to `out` in binlog order.
    pub async fn run(
        self,
        start: Position,
        out: mpsc::Sender<Received>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), SourceError> {
        let mut assembler = Assembler::new(
            EventDecoder::new(self.collations.clone()),
            self.config.filter.clone(),
            self.config.schema,
            ServerLookup::new(self.config.connect.clone()),
            start,
        )
        .with_spill(self.config.spill.clone());
        let mut delay = self.config.reconnect_min;
        let mut unparsed_attempts = 0;
        loop {
            let before = assembler.position().clone();
            let streamed = self.stream(&mut assembler, &out, &mut shutdown).await;
            self.config.status.set_connected(false);
            match streamed {
                Ok(()) => return Ok(()),
                // An event the driver cannot parse may be a connection cut in the middle of
                // a packet: read it again over a new connection, a few times, before
                // concluding that the event itself is bad.
                Err(e)
                    if e.is_transient()
                        || (matches!(e, SourceError::Unparsed { .. })
                            && unparsed_attempts + 1 < UNPARSED_ATTEMPTS) =>
                {
                    if *assembler.position() != before {
                        delay = self.config.reconnect_min;
                        unparsed_attempts = 0;
                    }
                    if matches!(e, SourceError::Unparsed { .. }) {
                        unparsed_attempts += 1;
                    }
                    warn!(error = %e, retry_in = ?delay, position = %assembler.position(), "binlog stream interrupted; reconnecting");
                    self.config.status.reconnecting();
                    assembler.reconnect();
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.changed() => return Ok(()),
                    }
                    delay = (delay * 2).min(self.config.reconnect_max);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Streams over one connection; `Ok` means shutdown was asked for.
    async fn stream(
        &self,
        assembler: &mut Assembler<ServerLookup>,
        out: &mpsc::Sender<Received>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), SourceError> {
        let conn = self.config.connect.connect().await?;
        let position = assembler.position().clone();
        let mut events = stream::open(
            conn,
            &position,
            self.config.server_id,
            self.config.heartbeat,
        )
        .await?;
        info!(%position, "streaming the binlog");
        self.config.status.set_connected(true);
        let mut buf = Vec::new();
        let mut done = Vec::new();
        loop {
            let next = tokio::select! {
                biased;
                _ = shutdown.changed() => return Ok(()),
                next = tokio::time::timeout(
                    self.config.read_timeout,
                    std::panic::AssertUnwindSafe(events.next()).catch_unwind(),
                ) => next,
            };
            // The driver's event framing panics on some malformed events; that must stop
            // the source with the position, not kill its task silently.
            let next = match next {
                Ok(Err(_panic)) => {
                    return Err(unparsed(assembler, "the driver's event parser panicked"));
                }
                Ok(Ok(next)) => Ok(next),
                Err(elapsed) => Err(elapsed),
            };
            let event = match next {
                Err(_) => {
                    return Err(SourceError::Connection {
                        host: self.config.connect.host(),
                        message: format!(
                            "no event or heartbeat for {:?}",
                            self.config.read_timeout
                        ),
                    })
                }
                Ok(None) => {
                    return Err(SourceError::Connection {
                        host: self.config.connect.host(),
                        message: "the server closed the binlog stream".into(),
                    })
                }
                Ok(Some(Err(e))) => return Err(self.stream_error(e, assembler).await),
                Ok(Some(Ok(event))) => event,
            };
            let received = Instant::now();
            let header = event.header();
            self.config.status.event(
                header.event_type_raw(),
                header.timestamp(),
                header.event_size(),
            );
            stream::event_bytes(&event, &mut buf);
            let handled = assembler.handle(&buf, &mut done).await;
            // Transactions completed before an error are behind the position already: hand
            // them on before the error ends this connection.
            for transaction in done.drain(..) {
                let txn = Received {
                    transaction,
                    at: received,
                };
                if out.send(txn).await.is_err() {
                    return Ok(());
                }
            }
            handled?;
        }
    }

    async fn stream_error(
        &self,
        e: mysql_async::Error,
        assembler: &Assembler<ServerLookup>,
    ) -> SourceError {
        let position = assembler.position().to_string();
        match e {
            mysql_async::Error::Server(s) if s.code == ER_MASTER_FATAL_ERROR_READING_BINLOG => {
                match classify_dump_refusal(&s.message) {
                    DumpRefusal::Purged => {
                        let oldest = match self.resolve(&StartPosition::Earliest).await {
                            Ok(p) => p.to_string(),
                            Err(e) => format!("unknown ({e})"),
                        };
                        SourceError::Purged {
                            position,
                            oldest,
                            server_message: s.message,
                        }
                    }
                    // A replica that has not caught up with the position yet: wait for it.
                    DumpRefusal::NotReached => SourceError::Connection {
                        host: self.config.connect.host(),
                        message: format!(
                            "the server has not reached position {position} yet (a lagging replica?): {}",
                            s.message
                        ),
                    },
                    DumpRefusal::Other => SourceError::PositionRefused {
                        position,
                        message: s.message,
                    },
                }
            }
            mysql_async::Error::Io(mysql_async::IoError::Io(io))
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::Other
                ) =>
            {
                unparsed(assembler, &io.to_string())
            }
            other => SourceError::Connection {
                host: self.config.connect.host(),
                message: other.to_string(),
            },
        }
    }
}

/// Attempts, on fresh connections, to read an event the driver cannot parse.
const UNPARSED_ATTEMPTS: u32 = 3;

/// The driver could not parse the event after the last one the assembler took.
fn unparsed(assembler: &Assembler<ServerLookup>, message: &str) -> SourceError {
    SourceError::Unparsed {
        file: assembler.file().to_string(),
        pos: assembler.next_event_pos(),
        position: assembler.position().to_string(),
        message: message.to_string(),
        attempts: UNPARSED_ATTEMPTS,
    }
}

/// Why the server refused a binlog dump with error 1236.
#[derive(Debug, PartialEq, Eq)]
enum DumpRefusal {
    /// The binlogs holding the position were purged.
    Purged,
    /// The server has not reached the position yet (a lagging replica).
    NotReached,
    /// Anything else, divergence included.
    Other,
}

/// Sorts error 1236 by its message; the texts are MariaDB's and MySQL's own.
fn classify_dump_refusal(message: &str) -> DumpRefusal {
    if message.contains("Could not find GTID state requested by slave in any binlog files")
        || message.contains("purged binary logs containing GTIDs that the slave requires")
        || message.contains("purged")
    {
        DumpRefusal::Purged
    } else if (message.contains("which is not in the master's binlog")
        && !message.contains("diverged"))
        || message.contains("more GTIDs than the master has")
        || message.contains("more GTIDs than the source has")
    {
        DumpRefusal::NotReached
    } else {
        DumpRefusal::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_mariadb_and_mysql_refusals() {
        assert_eq!(
            classify_dump_refusal("Could not find GTID state requested by slave in any binlog files. Probably the slave state is too old and required binlog files have been purged."),
            DumpRefusal::Purged
        );
        assert_eq!(
            classify_dump_refusal("Error: connecting slave requested to start from GTID 0-1-1000, which is not in the master's binlog"),
            DumpRefusal::NotReached
        );
        assert_eq!(
            classify_dump_refusal("Error: connecting slave requested to start from GTID 0-2-37, which is not in the master's binlog. Since the master's binlog contains GTIDs with higher sequence numbers, it probably means that the slave has diverged due to executing extra erroneous transactions"),
            DumpRefusal::Other
        );
        assert_eq!(
            classify_dump_refusal("Cannot replicate because the master purged required binary logs. Replicate the missing transactions from elsewhere, or provision a new slave from backup. Consider increasing the master's binary log expiration period. The GTID set sent by the slave is '...', and the missing transactions are '...'"),
            DumpRefusal::Purged
        );
        assert_eq!(
            classify_dump_refusal("Slave has more GTIDs than the master has, using the master's SERVER_UUID. This may indicate that the end of the binary log was truncated or that the last binary log file was lost, e.g., after a power or disk failure when sync_binlog != 1."),
            DumpRefusal::NotReached
        );
        assert_eq!(
            classify_dump_refusal("binlog truncated in the middle of event"),
            DumpRefusal::Other
        );
    }
}
