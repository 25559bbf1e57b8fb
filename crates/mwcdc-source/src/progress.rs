//! What the source knows about its progress, shared with the metrics and health endpoints.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mwcdc_binlog::header::event_type;

/// Progress of the binlog stream, updated by the replicator and read by anyone.
#[derive(Debug, Default)]
pub struct StreamProgress {
    connected: AtomicBool,
    caught_up: AtomicBool,
    last_event_time: AtomicU32,
    bytes_read: AtomicU64,
    reconnects: AtomicU64,
    /// `@@server_id` of the server the dump connection reads, 0 before one is open.
    server_id: AtomicU32,
    /// Where the server's last heartbeat said its binlog stood (file, offset).
    heartbeat_at: Mutex<Option<(Arc<str>, u64)>>,
}

impl StreamProgress {
    /// Whether a binlog dump connection is open.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Seconds behind the server at `now` (seconds since the epoch): 0 when the server's
    /// heartbeat said that everything it has written was read, otherwise `now` minus the
    /// binlog time of the last event read (the oldest event not yet read is not older).
    /// `None` before any event was read.
    pub fn lag(&self, now: u64) -> Option<u64> {
        if self.caught_up.load(Ordering::Relaxed) {
            return Some(0);
        }
        match self.last_event_time.load(Ordering::Relaxed) {
            0 => None,
            t => Some(now.saturating_sub(u64::from(t))),
        }
    }

    /// Bytes of binlog events read.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Times the stream was re-established after an interruption.
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    /// `@@server_id` of the server the binlog is read from (the last one, between
    /// connections); `None` before the first connection.
    pub fn server_id(&self) -> Option<u32> {
        match self.server_id.load(Ordering::Relaxed) {
            0 => None,
            id => Some(id),
        }
    }

    /// Records the server a dump connection reads, before any of its events is handed on.
    pub fn set_server_id(&self, id: u32) {
        self.server_id.store(id, Ordering::Relaxed);
    }

    /// Records a dump connection opened (`true`) or lost (`false`).
    pub(crate) fn set_connected(&self, connected: bool) {
        self.connected.store(connected, Ordering::Relaxed);
        if !connected {
            self.caught_up.store(false, Ordering::Relaxed);
        }
    }

    /// The binlog file and offset the server's last heartbeat named: every transaction that
    /// ends there or before was read, and handed on before the heartbeat was read. `None`
    /// before a heartbeat, or after one that names no file (MySQL's version 2).
    pub fn heartbeat_at(&self) -> Option<(Arc<str>, u64)> {
        self.heartbeat_at.lock().ok().and_then(|h| h.clone())
    }

    /// Records a MariaDB or MySQL version 1 heartbeat: its body is the binlog file's name,
    /// its header's position the offset the server's binlog stands at.
    pub fn heartbeat(&self, file: &[u8], pos: u32) {
        if let Ok(mut at) = self.heartbeat_at.lock() {
            *at = Some((String::from_utf8_lossy(file).into(), u64::from(pos)));
        }
    }

    /// Counts a reconnect.
    pub(crate) fn reconnecting(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    /// Records an event read: its type, binlog time and size.
    pub(crate) fn event(&self, kind: u8, timestamp: u32, size: u32) {
        self.bytes_read
            .fetch_add(u64::from(size), Ordering::Relaxed);
        match kind {
            // The server sends a heartbeat only when it has nothing else to send.
            event_type::HEARTBEAT | event_type::HEARTBEAT_V2 => {
                self.caught_up.store(true, Ordering::Relaxed)
            }
            // Sent at every connect, with the time of the file or none: not progress.
            event_type::FORMAT_DESCRIPTION
            | event_type::ROTATE
            | event_type::PREVIOUS_GTIDS
            | event_type::MARIA_GTID_LIST
            | event_type::MARIA_BINLOG_CHECKPOINT => {}
            _ if timestamp == 0 => {}
            _ => {
                self.caught_up.store(false, Ordering::Relaxed);
                self.last_event_time.store(timestamp, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_the_age_of_the_last_event_until_a_heartbeat() {
        let progress = StreamProgress::default();
        assert_eq!(progress.lag(1_000), None);
        progress.event(event_type::FORMAT_DESCRIPTION, 10, 100);
        assert_eq!(
            progress.lag(1_000),
            None,
            "a format description is not progress"
        );
        progress.event(event_type::MARIA_GTID, 990, 40);
        progress.event(event_type::WRITE_ROWS, 990, 60);
        assert_eq!(progress.lag(1_000), Some(10));
        assert_eq!(progress.lag(1_005), Some(15));
        progress.event(event_type::HEARTBEAT, 0, 30);
        assert_eq!(progress.lag(1_005), Some(0));
        progress.event(event_type::QUERY, 1_006, 50);
        assert_eq!(progress.lag(1_007), Some(1));
        progress.event(event_type::HEARTBEAT, 0, 30);
        progress.set_connected(false);
        assert_eq!(
            progress.lag(1_020),
            Some(14),
            "a lost connection is not caught up"
        );
        assert_eq!(progress.bytes_read(), 100 + 40 + 60 + 30 + 50 + 30);
        assert_eq!(progress.heartbeat_at(), None);
        progress.heartbeat(b"mariadb-bin.000002", 385);
        assert_eq!(
            progress.heartbeat_at(),
            Some(("mariadb-bin.000002".into(), 385))
        );
    }
}
