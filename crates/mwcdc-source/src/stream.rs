//! Opening a binlog dump as a replica, and the raw bytes of each event it yields.

use std::time::Duration;

use mwcdc_position::{GtidSet, Position};
use mysql_async::binlog::events::Event as DriverEvent;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStream, BinlogStreamRequest, Conn, Sid};

use crate::server::driver_error;
use crate::SourceError;

/// MariaDB's replica capability level that makes the server send GTID events.
const MARIADB_SLAVE_CAPABILITY_GTID: u32 = 4;

/// Sets up the session and requests the binlog from `position` on; with the stream, the
/// `@@server_id` of the server it reads.
pub async fn open(
    mut conn: Conn,
    position: &Position,
    server_id: u32,
    heartbeat: Duration,
) -> Result<(BinlogStream, u32), SourceError> {
    let setup = |what: &'static str| move |e| driver_error(what, "the source server", e);
    let source_id: Option<u32> = conn
        .query_first("SELECT @@GLOBAL.server_id")
        .await
        .map_err(setup("@@server_id"))?;
    conn.query_drop(format!(
        "SET @master_heartbeat_period = {}",
        heartbeat.as_nanos()
    ))
    .await
    .map_err(setup("heartbeat period"))?;
    let request = match position {
        Position::MariaDb(p) => {
            conn.query_drop(format!(
                "SET @mariadb_slave_capability = {MARIADB_SLAVE_CAPABILITY_GTID}"
            ))
            .await
            .map_err(setup("replica capability"))?;
            conn.exec_drop("SET @slave_connect_state = ?", (p.to_string(),))
                .await
                .map_err(setup("GTID start position"))?;
            conn.query_drop("SET @slave_gtid_strict_mode = 1")
                .await
                .map_err(setup("GTID strict mode"))?;
            BinlogStreamRequest::new(server_id)
        }
        Position::MySql(set) => BinlogStreamRequest::new(server_id)
            .with_gtid()
            .with_gtid_set(sids(set)),
    };
    let stream = conn
        .get_binlog_stream(request)
        .await
        .map_err(|e| driver_error("the binlog dump request", "the source server", e))?;
    Ok((stream, source_id.unwrap_or_default()))
}

fn sids(set: &GtidSet) -> Vec<Sid<'static>> {
    let mut out: Vec<Sid<'static>> = Vec::new();
    let mut current: Option<([u8; 16], Vec<mysql_async::GnoInterval>)> = None;
    for (sid, _tag, start, end) in set.iter_intervals() {
        match &mut current {
            Some((uuid, intervals)) if uuid == sid.as_bytes() => {
                intervals.push(mysql_async::GnoInterval::new(start, end))
            }
            _ => {
                if let Some((uuid, intervals)) = current.take() {
                    out.push(Sid::new(uuid).with_intervals(intervals));
                }
                current = Some((
                    *sid.as_bytes(),
                    vec![mysql_async::GnoInterval::new(start, end)],
                ));
            }
        }
    }
    if let Some((uuid, intervals)) = current {
        out.push(Sid::new(uuid).with_intervals(intervals));
    }
    out
}

/// Writes the bytes of an event as the server sent it (header, body, checksum) into `buf`,
/// so that our decoder verifies the server's checksum, not a recomputed one.
pub fn event_bytes(event: &DriverEvent, buf: &mut Vec<u8>) {
    let h = event.header();
    buf.clear();
    buf.extend_from_slice(&h.timestamp().to_le_bytes());
    buf.push(h.event_type_raw());
    buf.extend_from_slice(&h.server_id().to_le_bytes());
    buf.extend_from_slice(&h.event_size().to_le_bytes());
    buf.extend_from_slice(&h.log_pos().to_le_bytes());
    buf.extend_from_slice(&h.flags_raw().to_le_bytes());
    buf.extend_from_slice(event.data());
    let is_fde = h.event_type_raw() == mwcdc_binlog::header::event_type::FORMAT_DESCRIPTION;
    if is_fde {
        if let Ok(Some(alg)) = event.footer().get_checksum_alg() {
            buf.push(alg as u8);
        }
    }
    if let Some(checksum) = event.checksum() {
        // The driver keeps the checksum bytes only when the binlog is checksummed.
        if buf.len() + checksum.len() <= h.event_size() as usize {
            buf.extend_from_slice(&checksum);
        }
    }
}
