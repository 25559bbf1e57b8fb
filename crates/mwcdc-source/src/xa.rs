//! Reading an XA PREPARE's group again: a run that started between an XA PREPARE and its XA
//! COMMIT sees the commit, but the rows are in the prepare's group, before the start.
//!
//! MariaDB names the XA transaction in the prepare's GTID event (`SHOW BINLOG EVENTS` shows
//! `XA START X'..',X'..',1 GTID 0-1-8`) and `BINLOG_GTID_POS` gives the position just before
//! it, so the group can be streamed again over a second connection and its rows held for
//! the commit. MySQL's GTID events carry no xid: there the source stops and says how to start
//! before the prepare.

use futures_util::StreamExt;
use mwcdc_change::{ChangeBuffer, XaStep};
use mwcdc_position::{MariaPosition, Position};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use tracing::info;

use crate::assembler::Assembler;
use crate::config::SourceConfig;
use crate::server::ServerLookup;
use crate::{stream, DefiniteError, SourceError, TransientError};

/// Events asked for per `SHOW BINLOG EVENTS` page while searching.
const PAGE: u64 = 10_000;

/// Where an XA transaction's prepare group is in the binlog.
#[derive(Debug, Clone, PartialEq)]
pub struct PrepareGroup {
    /// The prepare's GTID.
    pub gtid: String,
    /// Its binlog file.
    pub file: String,
    /// The offset of its GTID event.
    pub pos: u64,
    /// The position just before it (`BINLOG_GTID_POS`).
    pub before: Position,
}

/// The GTID of a `SHOW BINLOG EVENTS` row when it is the GTID event that opens the prepare
/// group of `xid`: its Info reads `XA START <xid> GTID <gtid>`.
fn prepare_gtid<'a>(event_type: &str, info: &'a str, xid: &str) -> Option<&'a str> {
    if event_type != "Gtid" {
        return None;
    }
    info.strip_prefix("XA START ")?
        .strip_prefix(xid)?
        .strip_prefix(" GTID ")
}

/// Finds the last prepare group of `xid` before `file`:`before_pos` (the commit), newest binlog
/// first; `None` when no binlog the server still has holds it.
pub async fn find_prepare(
    conn: &mut Conn,
    xid: &str,
    file: &str,
    before_pos: u64,
) -> Result<Option<PrepareGroup>, SourceError> {
    let query = |what: &'static str| {
        move |e| {
            SourceError::Definite(DefiniteError::Query {
                what: what.into(),
                message: format!("{e}"),
            })
        }
    };
    let logs: Vec<mysql_async::Row> = conn
        .query("SHOW BINARY LOGS")
        .await
        .map_err(query("SHOW BINARY LOGS"))?;
    let mut files: Vec<String> = logs.iter().filter_map(|r| r.get::<String, _>(0)).collect();
    files.retain(|f| f.as_str() <= file);
    for name in files.iter().rev() {
        let mut found: Option<(String, u64)> = None;
        let mut offset = 0;
        let mut passed = false;
        while !passed {
            let rows: Vec<mysql_async::Row> = conn
                .query(format!(
                    "SHOW BINLOG EVENTS IN '{}' LIMIT {offset}, {PAGE}",
                    name.replace('\'', "''")
                ))
                .await
                .map_err(query("SHOW BINLOG EVENTS"))?;
            let n = rows.len() as u64;
            for row in rows {
                // Pos, Event_type and Info; Info may hold any bytes (Annotate_rows).
                let (Some(Ok(pos)), Some(Ok(event_type)), Some(Ok(info))) = (
                    row.get_opt::<u64, _>(1),
                    row.get_opt::<Vec<u8>, _>(2),
                    row.get_opt::<Vec<u8>, _>(5),
                ) else {
                    return Err(SourceError::Definite(DefiniteError::Query {
                        what: format!("SHOW BINLOG EVENTS IN '{name}'"),
                        message: "a row without Pos, Event_type and Info".into(),
                    }));
                };
                let (event_type, info) = (
                    String::from_utf8_lossy(&event_type),
                    String::from_utf8_lossy(&info),
                );
                if name == file && pos >= before_pos {
                    passed = true;
                    break;
                }
                if let Some(gtid) = prepare_gtid(&event_type, &info, xid) {
                    found = Some((gtid.to_string(), pos));
                }
            }
            passed |= n < PAGE;
            offset += PAGE;
        }
        if let Some((gtid, pos)) = found {
            let before: Option<Option<String>> = conn
                .exec_first("SELECT BINLOG_GTID_POS(?, ?)", (name.clone(), pos))
                .await
                .map_err(query("BINLOG_GTID_POS"))?;
            let before = before.flatten().unwrap_or_default();
            return Ok(Some(PrepareGroup {
                gtid,
                file: name.clone(),
                pos,
                before: Position::MariaDb(before.parse::<MariaPosition>()?),
            }));
        }
    }
    Ok(None)
}

/// Streams from `group.before` until the prepare group of `xid` is read, and returns its
/// rows. `assembler` is a new assembler starting at `group.before`; `config` gives the
/// replica settings of the dump and names the server in errors.
pub async fn read_prepared_rows(
    conn: Conn,
    config: &SourceConfig,
    mut assembler: Assembler<ServerLookup>,
    group: &PrepareGroup,
    xid: &str,
) -> Result<ChangeBuffer, SourceError> {
    let (mut events, _) =
        stream::open(conn, &group.before, config.server_id, config.heartbeat).await?;
    info!(%xid, gtid = %group.gtid, from = %group.before, "reading the XA PREPARE group again");
    let (mut buf, mut done) = (Vec::new(), Vec::new());
    let lost = |message: String| {
        SourceError::Transient(TransientError::Connection {
            host: config.connect.host(),
            message,
        })
    };
    loop {
        let event = match tokio::time::timeout(config.read_timeout, events.next()).await {
            Ok(Some(Ok(event))) => event,
            Ok(Some(Err(e))) => {
                return Err(lost(format!("reading the XA PREPARE group of {xid}: {e}")))
            }
            Ok(None) | Err(_) => {
                return Err(lost(format!(
                    "the stream ended before the XA PREPARE group {} of {xid}",
                    group.gtid
                )))
            }
        };
        stream::event_bytes(&event, &mut buf);
        assembler.handle(&buf, &mut done).await?;
        for txn in done.drain(..) {
            if *txn.gtid == group.gtid {
                return match txn.xa {
                    Some(XaStep::Prepare(x)) if x == xid => {
                        assembler.take_prepared(xid).ok_or_else(|| SourceError::Definite(DefiniteError::Protocol {
                            file: group.file.clone(),
                            pos: group.pos,
                            message: format!("the XA PREPARE group of {xid} held no rows"),
                        }))
                    }
                    _ => Err(SourceError::Definite(DefiniteError::Protocol {
                        file: group.file.clone(),
                        pos: group.pos,
                        message: format!(
                            "the group {} is not the XA PREPARE of {xid} that SHOW BINLOG EVENTS named",
                            group.gtid
                        ),
                    })),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prepare_gtid_event_is_recognised_by_its_info() {
        let xid = "X'70726f626531',X'',1";
        assert_eq!(
            prepare_gtid("Gtid", "XA START X'70726f626531',X'',1 GTID 0-1-11312", xid),
            Some("0-1-11312")
        );
        assert_eq!(prepare_gtid("Gtid", "GTID 0-1-11313", xid), None);
        assert_eq!(
            prepare_gtid("Gtid", "XA START X'70726f626532',X'',1 GTID 0-1-7", xid),
            None
        );
        assert_eq!(
            prepare_gtid("Query", "XA START X'70726f626531',X'',1 GTID 0-1-7", xid),
            None
        );
    }
}
