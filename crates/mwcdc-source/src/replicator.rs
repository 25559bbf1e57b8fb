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
use std::time::Instant;

use futures_util::{FutureExt, StreamExt};
use mwcdc_backoff::Backoff;
use mwcdc_binlog::{Collations, EventDecoder};
use mwcdc_change::{ChangeBuffer, Transaction};
use mwcdc_position::{Flavor, Position};
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use crate::assembler::Assembler;
use crate::config::{SourceConfig, StartPosition};
use crate::server::{self, ServerLookup};
use crate::stream;
use crate::{DefiniteError, SourceError, TransientError, UnusableError};

/// MySQL/MariaDB error code for binlog dump failures (`ER_MASTER_FATAL_ERROR_READING_BINLOG`).
const ER_MASTER_FATAL_ERROR_READING_BINLOG: u16 = 1236;

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
                    return Err(SourceError::Unusable(UnusableError::PositionRefused {
                        position: p.to_string(),
                        message: format!(
                            "a {} position, but the server is {}",
                            p.flavor(),
                            self.flavor
                        ),
                    }));
                }
                p.clone()
            }
        };
        let _ = conn.disconnect().await;
        Ok(pos)
    }

    /// Streams from `start` until `shutdown` turns true or an error that reconnecting cannot
    /// fix. Transactions go to `out` in binlog order, as whatever the receiver takes them as.
    pub async fn run<T: From<Received>>(
        self,
        start: Position,
        out: mpsc::Sender<T>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), SourceError> {
        let mut assembler = self.assembler(start);
        let mut backoff = Backoff::new(self.config.reconnect_min, self.config.reconnect_max);
        let mut unparsed_attempts = 0;
        loop {
            let before = assembler.position().clone();
            let streamed = self.stream(&mut assembler, &out, &mut shutdown).await;
            self.config.progress.set_connected(false);
            match streamed {
                Ok(()) => return Ok(()),
                // An event the driver cannot parse may be a connection cut in the middle of
                // a packet: read it again over a new connection, a few times, before
                // concluding that the event itself is bad.
                Err(e)
                    if matches!(e, SourceError::Transient(_))
                        || (matches!(e, SourceError::Definite(DefiniteError::Unparsed { .. }))
                            && unparsed_attempts + 1 < UNPARSED_ATTEMPTS) =>
                {
                    if *assembler.position() != before {
                        backoff.reset();
                        unparsed_attempts = 0;
                    }
                    if matches!(e, SourceError::Definite(DefiniteError::Unparsed { .. })) {
                        unparsed_attempts += 1;
                    }
                    warn!(error = %e, retry_in = ?backoff.delay(), position = %assembler.position(), "binlog stream interrupted; reconnecting");
                    self.config.progress.reconnecting();
                    assembler.reconnect();
                    if !back_off(&mut backoff, &mut shutdown).await {
                        return Ok(());
                    }
                }
                Err(SourceError::Unusable(UnusableError::XaPrepareMissing {
                    xid, gtid, ..
                })) => {
                    assembler.reconnect();
                    match self.reread_prepare(&xid, &gtid, &assembler).await {
                        Ok(rows) => {
                            info!(%xid, commit = %gtid, rows = rows.len(), "the XA PREPARE group before the start position was read again; its rows are published with the XA COMMIT");
                            assembler.hold_prepared(xid, rows);
                        }
                        // The commit is read again after the wait, and the prepare with it.
                        Err(e) if matches!(e, SourceError::Transient(_)) => {
                            warn!(error = %e, retry_in = ?backoff.delay(), "reading the XA PREPARE group again was interrupted; retrying");
                            if !back_off(&mut backoff, &mut shutdown).await {
                                return Ok(());
                            }
                        }
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// An assembler of this source's settings, starting at `start`.
    /// The memory budget the source's transactions spill by, for others to share.
    pub fn spill_policy(&self) -> Arc<mwcdc_change::SpillPolicy> {
        self.config.spill.clone()
    }

    fn assembler(&self, start: Position) -> Assembler<ServerLookup> {
        Assembler::new(
            EventDecoder::new(self.collations.clone()),
            self.config.filter.clone(),
            self.config.schema,
            ServerLookup::new(self.config.connect.clone()),
            start,
        )
        .with_spill(self.config.spill.clone())
    }

    /// The rows of the prepared XA transaction `xid`, whose XA COMMIT `commit` the assembler
    /// met at its current file and event: its prepare group is found by its xid and read
    /// again over a second connection (MariaDB). When it cannot be (MySQL, a purged binlog),
    /// the error says how to start before the prepare.
    async fn reread_prepare(
        &self,
        xid: &str,
        commit: &str,
        assembler: &Assembler<ServerLookup>,
    ) -> Result<ChangeBuffer, SourceError> {
        let missing = |why: String| {
            SourceError::Unusable(UnusableError::XaPrepareMissing {
                xid: xid.to_string(),
                gtid: commit.to_string(),
                why,
            })
        };
        if self.flavor != Flavor::MariaDb {
            return Err(missing(format!(
                "on MySQL the XA transaction is not named in GTID events, so mwcdc cannot find its \
                 prepare by itself: find the group with SHOW BINLOG EVENTS (its `XA START {xid}` \
                 query) and run `mwcdc checkpoint set --gtid <the GTID set before it>`"
            )));
        }
        let mut conn = self.config.connect.connect().await?;
        let group =
            crate::xa::find_prepare(&mut conn, xid, assembler.file(), assembler.next_event_pos())
                .await?;
        let Some(group) = group else {
            let _ = conn.disconnect().await;
            let oldest = self
                .resolve(&StartPosition::Earliest)
                .await
                .map_or_else(|e| format!("unknown ({e})"), |p| p.to_string());
            return Err(missing(format!(
                "no binlog the server still has holds that XA PREPARE (the oldest position is \
                 {oldest}), so its rows cannot be read from the binlog: take them from a \
                 snapshot of the tables, or accept the loss and start elsewhere with `mwcdc \
                 checkpoint set --gtid <position>`"
            )));
        };
        crate::xa::read_prepared_rows(
            conn,
            &self.config,
            self.assembler(group.before.clone()),
            &group,
            xid,
        )
        .await
    }

    /// Streams over one connection; `Ok` means shutdown was asked for.
    async fn stream<T: From<Received>>(
        &self,
        assembler: &mut Assembler<ServerLookup>,
        out: &mpsc::Sender<T>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), SourceError> {
        let conn = self.config.connect.connect().await?;
        let position = assembler.position().clone();
        let (mut events, source_id) = stream::open(
            conn,
            &position,
            self.config.server_id,
            self.config.heartbeat,
        )
        .await?;
        self.config.progress.set_server_id(source_id);
        info!(%position, source_id, "streaming the binlog");
        self.config.progress.set_connected(true);
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
                    return Err(SourceError::Transient(TransientError::Connection {
                        host: self.config.connect.host(),
                        message: format!(
                            "no event or heartbeat for {:?}",
                            self.config.read_timeout
                        ),
                    }))
                }
                Ok(None) => {
                    return Err(SourceError::Transient(TransientError::Connection {
                        host: self.config.connect.host(),
                        message: "the server closed the binlog stream".into(),
                    }))
                }
                Ok(Some(Err(e))) => return Err(self.stream_error(e, assembler).await),
                Ok(Some(Ok(event))) => event,
            };
            let received = Instant::now();
            let header = event.header();
            self.config.progress.event(
                header.event_type_raw(),
                header.timestamp(),
                header.event_size(),
            );
            if header.event_type_raw() == mwcdc_binlog::header::event_type::HEARTBEAT {
                self.config
                    .progress
                    .heartbeat(event.data(), header.log_pos());
            }
            stream::event_bytes(&event, &mut buf);
            let handled = assembler.handle(&buf, &mut done).await;
            // Transactions completed before an error are behind the position already: hand
            // them on before the error ends this connection.
            for transaction in done.drain(..) {
                let txn = Received {
                    transaction,
                    at: received,
                };
                if out.send(txn.into()).await.is_err() {
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
                        SourceError::Unusable(UnusableError::Purged {
                            position,
                            oldest,
                            server_message: s.message,
                        })
                    }
                    // A replica that has not caught up with the position yet: wait for it.
                    DumpRefusal::NotReached => SourceError::Transient(TransientError::Connection {
                        host: self.config.connect.host(),
                        message: format!(
                            "the server has not reached position {position} yet (a lagging replica?): {}",
                            s.message
                        ),
                    }),
                    DumpRefusal::Truncated => SourceError::Unusable(UnusableError::PositionRefused {
                        position,
                        message: format!(
                            "{}: the server's binlog ends before transactions mwcdc has already \
                             read (its last binlog was truncated or lost, or this is another \
                             server). Waiting cannot help: point source.url at a server that \
                             has the position, or move the checkpoint with `mwcdc checkpoint \
                             set --gtid <position>` to one this server has (`SELECT \
                             @@gtid_executed`), accepting that records after it may describe \
                             transactions this server does not have",
                            s.message
                        ),
                    }),
                    DumpRefusal::Other => SourceError::Unusable(UnusableError::PositionRefused {
                        position,
                        message: s.message,
                    }),
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
            other => SourceError::Transient(TransientError::Connection {
                host: self.config.connect.host(),
                message: other.to_string(),
            }),
        }
    }
}

/// Attempts, on fresh connections, to read an event the driver cannot parse.
const UNPARSED_ATTEMPTS: u32 = 3;

/// The driver could not parse the event after the last one the assembler took.
fn unparsed(assembler: &Assembler<ServerLookup>, message: &str) -> SourceError {
    SourceError::Definite(DefiniteError::Unparsed {
        file: assembler.file().to_string(),
        pos: assembler.next_event_pos(),
        position: assembler.position().to_string(),
        message: message.to_string(),
        attempts: UNPARSED_ATTEMPTS,
    })
}

/// Why the server refused a binlog dump with error 1236.
#[derive(Debug, PartialEq, Eq)]
enum DumpRefusal {
    /// The binlogs holding the position were purged.
    Purged,
    /// The server has not reached the position yet (a lagging replica): retried.
    NotReached,
    /// The server's binlog ends before what mwcdc already read: truncated or lost.
    Truncated,
    /// Anything else: divergence, a hole in the binlog, a message not known here.
    Other,
}

/// MariaDB's `gtid_find_binlog_file` when no binlog holds the position.
const MARIADB_PURGED: &str = "Could not find GTID state requested by slave in any binlog files. \
     Probably the slave state is too old and required binlog files have been purged.";
/// MySQL's ER_MASTER_HAS_PURGED_REQUIRED_GTIDS (ER_SOURCE_HAS_PURGED_REQUIRED_GTIDS from
/// 8.0.26), which goes on with the GTID sets.
const MYSQL_PURGED: [&str; 2] = [
    "Cannot replicate because the master purged required binary logs.",
    "Cannot replicate because the source purged required binary logs.",
];
/// MySQL 5.6's wording of the same.
const MYSQL_PURGED_OLD: [&str; 2] = [
    "the master has purged binary logs containing GTIDs that the slave requires",
    "the source has purged binary logs containing GTIDs that the replica requires",
];
/// MySQL's ER_SLAVE_HAS_MORE_GTIDS_THAN_MASTER (ER_REPLICA_HAS_MORE_GTIDS_THAN_SOURCE).
const MYSQL_MORE_GTIDS: [&str; 2] = [
    "Slave has more GTIDs than the master has, using the master's SERVER_UUID.",
    "Replica has more GTIDs than the source has, using the source's SERVER_UUID.",
];
/// MariaDB's ER_GTID_POSITION_NOT_FOUND_IN_BINLOG, around the GTID:
/// `Error: connecting slave requested to start from GTID 0-1-1000, which is not in the
/// master's binlog` (exactly, with nothing after it; ER_GTID_POSITION_NOT_FOUND_IN_BINLOG2
/// goes on to say the slave diverged).
const MARIADB_NOT_IN_BINLOG: (&str, &str) = (
    "onnecting slave requested to start from GTID ",
    ", which is not in the master's binlog",
);

/// Sorts error 1236 by the server's exact message (MariaDB's and MySQL's own texts).
fn classify_dump_refusal(message: &str) -> DumpRefusal {
    let message = message.trim();
    if message.starts_with(MARIADB_PURGED)
        || MYSQL_PURGED.iter().any(|m| message.starts_with(m))
        || MYSQL_PURGED_OLD.iter().any(|m| message.contains(m))
    {
        DumpRefusal::Purged
    } else if MYSQL_MORE_GTIDS.iter().any(|m| message.starts_with(m)) {
        DumpRefusal::Truncated
    } else if is_mariadb_not_in_binlog(message) {
        DumpRefusal::NotReached
    } else {
        DumpRefusal::Other
    }
}

/// Whether `message` is MariaDB's "not in the master's binlog" and nothing more: the GTID
/// asked for is past the server's end in its domain.
fn is_mariadb_not_in_binlog(message: &str) -> bool {
    let (head, tail) = MARIADB_NOT_IN_BINLOG;
    let Some(start) = message.find(head) else {
        return false;
    };
    let Some(gtid) = message[start + head.len()..].strip_suffix(tail) else {
        return false;
    };
    let prefix = &message[..start];
    matches!(prefix, "C" | "c" | "Error: c" | "Error: C")
        && gtid.split('-').count() == 3
        && gtid
            .split('-')
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Waits by `backoff` before the next attempt; `false` when shutdown was asked for meanwhile.
async fn back_off(backoff: &mut Backoff, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(backoff.advance()) => true,
        _ = shutdown.changed() => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_mariadb_and_mysql_refusals() {
        let cases = [
            (
                "Could not find GTID state requested by slave in any binlog files. Probably the slave state is too old and required binlog files have been purged.",
                DumpRefusal::Purged,
            ),
            (
                "Error: connecting slave requested to start from GTID 0-1-1000, which is not in the master's binlog",
                DumpRefusal::NotReached,
            ),
            (
                "Error: connecting slave requested to start from GTID 0-2-37, which is not in the master's binlog. Since the master's binlog contains GTIDs with higher sequence numbers, it probably means that the slave has diverged due to executing extra erroneous transactions",
                DumpRefusal::Other,
            ),
            (
                "The binlog on the master is missing the GTID 0-1-5 requested by the slave (even though a subsequent sequence number does exist), and GTID strict mode is enabled",
                DumpRefusal::Other,
            ),
            (
                "Cannot replicate because the master purged required binary logs. Replicate the missing transactions from elsewhere, or provision a new slave from backup. Consider increasing the master's binary log expiration period. The GTID set sent by the slave is '...', and the missing transactions are '...'",
                DumpRefusal::Purged,
            ),
            (
                "Cannot replicate because the source purged required binary logs. Replicate the missing transactions from elsewhere, or provision a new replica from backup. Consider increasing the source's binary log expiration period. The GTID set sent by the replica is '...', and the missing transactions are '...'.",
                DumpRefusal::Purged,
            ),
            (
                "The slave is connecting using CHANGE MASTER TO MASTER_AUTO_POSITION = 1, but the master has purged binary logs containing GTIDs that the slave requires.",
                DumpRefusal::Purged,
            ),
            (
                "Slave has more GTIDs than the master has, using the master's SERVER_UUID. This may indicate that the end of the binary log was truncated or that the last binary log file was lost, e.g., after a power or disk failure when sync_binlog != 1.",
                DumpRefusal::Truncated,
            ),
            (
                "Replica has more GTIDs than the source has, using the source's SERVER_UUID. This may indicate that the end of the binary log was truncated or that the last binary log file was lost, e.g., after a power or disk failure when sync_binlog != 1.",
                DumpRefusal::Truncated,
            ),
            // Messages that only mention a purge or a missing GTID are not one of these.
            (
                "log event entry exceeded max_allowed_packet; the binlog was purged of nothing",
                DumpRefusal::Other,
            ),
            ("binlog truncated in the middle of event", DumpRefusal::Other),
            (
                "Error: connecting slave requested to start from GTID 0-1-x, which is not in the master's binlog",
                DumpRefusal::Other,
            ),
        ];
        for (message, class) in cases {
            assert_eq!(classify_dump_refusal(message), class, "{message}");
        }
    }
}
