//! Reading one chunk: a short read-only REPEATABLE READ transaction with a consistent
//! snapshot, its exact binlog position (`Binlog_snapshot_file`, `Binlog_snapshot_position`),
//! and the next rows of a table by key, over the binary protocol.

use mwcdc_binlog::Value;
use mwcdc_position::{Flavor, Position};
use mwcdc_source::server::{driver_error, Conn};
use mwcdc_source::ConnectOptions;
use mysql_async::prelude::Queryable;
use mysql_async::{Row, Statement};

use crate::coordinates::Coordinates;
use crate::tables::SnapshotTable;
use crate::values::convert;
use crate::SnapshotError;

/// Server errors after which the chunk is read again in a new transaction, over a new
/// connection: the table was rebuilt after the read view was made (1412), a lock wait timed
/// out (1205), a deadlock (1213), a prepared statement the server wants prepared again after
/// a DDL (1615).
const RETRIED: [u16; 4] = [1412, 1205, 1213, 1615];

/// The rows of one chunk and where the binlog stood when they were read.
#[derive(Debug)]
pub struct Chunk {
    /// The rows, in key order, each with every column in table order.
    pub rows: Vec<Vec<Value>>,
    /// The binlog position of the snapshot: the read saw exactly the transactions that end
    /// at or before it.
    pub at: Coordinates,
    /// `@@server_id` of the server read.
    pub server_id: u32,
    /// When the chunk was read, seconds since the epoch.
    pub read_ts: u32,
}

/// `ER_NO_SUCH_TABLE`: the table was dropped (or renamed) since the job listed it.
const NO_SUCH_TABLE: u16 = 1146;

/// Why a chunk was not read.
#[derive(Debug)]
pub enum ReadFailure {
    /// The table no longer exists.
    Gone,
    /// The table's columns are not those it was described with (an `ALTER TABLE` since):
    /// describe it again and read the chunk again.
    Changed,
    /// Read it again: the table changed under the read view, a lock wait or a deadlock, or
    /// the connection broke (the next read reconnects).
    Retry(SnapshotError),
    /// Stop the job.
    Fatal(SnapshotError),
}

/// Reads chunks over a connection of its own, opened when first needed and again after it
/// broke.
pub struct ChunkReader {
    options: ConnectOptions,
    session: Option<Session>,
    /// `@@server_id` of the first session: the chunks of one run come from one server.
    server_id: Option<u32>,
}

/// An open connection, set up for snapshot reads, with the statements of one table.
struct Session {
    conn: Conn,
    server_id: u32,
    /// The table whose statements are prepared, and the statements (first chunk, next ones).
    prepared: Option<(String, Statement, Statement)>,
}

impl ChunkReader {
    /// A reader of the server `options` reach.
    pub fn new(options: ConnectOptions) -> Self {
        Self {
            options,
            session: None,
            server_id: None,
        }
    }

    /// Reads the first `limit` rows of `table` after `after` (from its start with `None`).
    pub async fn read(
        &mut self,
        table: &SnapshotTable,
        after: Option<&[Value]>,
        limit: u64,
    ) -> Result<Chunk, ReadFailure> {
        let host = self.options.host();
        let session = self.session().await.map_err(classify_open)?;
        let result = session.read(table, after, limit, &host).await;
        self.forget_broken(&result);
        result
    }

    /// `db`.`table` as the server describes it now ([`SnapshotTable::describe`]).
    pub async fn describe(&mut self, db: &str, table: &str) -> Result<SnapshotTable, ReadFailure> {
        let session = self.session().await.map_err(classify_open)?;
        let result = match SnapshotTable::describe(&mut session.conn, db, table).await {
            Ok(t) if t.schema.columns.is_empty() => Err(ReadFailure::Gone),
            Ok(t) => Ok(t),
            Err(e @ SnapshotError::Source(mwcdc_source::SourceError::Transient(_))) => {
                Err(ReadFailure::Retry(e))
            }
            Err(e) => Err(ReadFailure::Fatal(e)),
        };
        self.forget_broken(&result);
        result
    }

    /// The tables of a job ([`crate::tables::job_tables`]).
    pub async fn job_tables(
        &mut self,
        captured: &mwcdc_source::TableFilter,
        globs: &[String],
    ) -> Result<Vec<(String, String)>, SnapshotError> {
        let session = self.session().await?;
        crate::tables::job_tables(&mut session.conn, captured, globs).await
    }

    /// Where a new job's stream starts: the binlog coordinates of a consistent snapshot and
    /// the GTID position there (`BINLOG_GTID_POS`), read in one transaction, so that the
    /// stream starts exactly where the merge knows everything before is handed on (MariaDB;
    /// the chunks of a job on a quiet server need not wait for a heartbeat to be placed).
    pub async fn start_point(&mut self) -> Result<(Coordinates, Position), SnapshotError> {
        let host = self.options.host();
        let session = self.session().await?;
        let err = |what: &'static str| {
            let host = host.clone();
            move |e| SnapshotError::Source(driver_error(what, &host, e))
        };
        let conn = &mut session.conn;
        conn.query_drop("START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT")
            .await
            .map_err(err("starting the snapshot transaction"))?;
        let status: Vec<(String, String)> = conn
            .query("SHOW STATUS LIKE 'binlog_snapshot_%'")
            .await
            .map_err(err("the snapshot position"))?;
        let at = snapshot_position(&status)
            .ok_or_else(|| SnapshotError::NoSnapshotPosition { host: host.clone() })?;
        let gtid: Option<String> = conn
            .exec_first("SELECT BINLOG_GTID_POS(?, ?)", (at.file.as_ref(), at.pos))
            .await
            .map_err(err("BINLOG_GTID_POS"))?;
        conn.query_drop("COMMIT")
            .await
            .map_err(err("ending the snapshot transaction"))?;
        let gtid = gtid.ok_or_else(|| {
            SnapshotError::Internal(format!("BINLOG_GTID_POS gave no position for {at}"))
        })?;
        let position = Position::parse(Flavor::MariaDb, &gtid)
            .map_err(|e| SnapshotError::Internal(format!("BINLOG_GTID_POS gave {gtid:?}: {e}")))?;
        Ok((at, position))
    }

    /// Whether `at` is the place in this server's binlog where its GTID position is
    /// `position`: a resumed job's coordinates are of this server's binlog only then (after a
    /// failover they are not, even where the other server's binlog has the same file names).
    /// Reads the file up to `at` (`BINLOG_GTID_POS`), once per start.
    pub async fn holds(
        &mut self,
        at: &Coordinates,
        position: &Position,
    ) -> Result<bool, SnapshotError> {
        let host = self.options.host();
        let session = self.session().await?;
        let err = |what: &'static str| {
            let host = host.clone();
            move |e| SnapshotError::Source(driver_error(what, &host, e))
        };
        let logs: Vec<mysql_async::Row> = session
            .conn
            .query("SHOW BINARY LOGS")
            .await
            .map_err(err("SHOW BINARY LOGS"))?;
        let has_file = logs.into_iter().any(|row| {
            row.get::<String, _>(0)
                .is_some_and(|name| *name == *at.file)
        });
        if !has_file {
            return Ok(false);
        }
        let gtid: Option<Option<String>> = session
            .conn
            .exec_first("SELECT BINLOG_GTID_POS(?, ?)", (at.file.as_ref(), at.pos))
            .await
            .map_err(err("BINLOG_GTID_POS"))?;
        Ok(gtid
            .flatten()
            .and_then(|gtid| Position::parse(Flavor::MariaDb, &gtid).ok())
            .is_some_and(|here| here == *position))
    }

    /// The server's estimate of the rows of `tables` ([`crate::tables::estimated_rows`]).
    pub async fn estimated_rows(
        &mut self,
        tables: &[(String, String)],
    ) -> Result<u64, SnapshotError> {
        let session = self.session().await?;
        crate::tables::estimated_rows(&mut session.conn, tables).await
    }

    /// The open session, opened (and checked) when there is none.
    async fn session(&mut self) -> Result<&mut Session, SnapshotError> {
        let session = match self.session.take() {
            Some(session) => session,
            None => Session::open(&self.options).await?,
        };
        match self.server_id {
            Some(before) if before != session.server_id => {
                return Err(SnapshotError::ServerChanged {
                    before,
                    now: session.server_id,
                })
            }
            _ => self.server_id = Some(session.server_id),
        }
        Ok(self.session.insert(session))
    }

    /// Drops the session after a failure that is retried (a broken connection, a statement
    /// the DDL made stale): the next read opens a new one, with fresh statements.
    fn forget_broken<T>(&mut self, result: &Result<T, ReadFailure>) {
        if matches!(result, Err(ReadFailure::Retry(_) | ReadFailure::Changed)) {
            self.session = None;
        }
    }
}

impl Session {
    async fn open(options: &ConnectOptions) -> Result<Session, SnapshotError> {
        let mut conn = options.connect().await?;
        let host = options.host();
        let host = host.as_str();
        let err = |what: &'static str| move |e| SnapshotError::Source(driver_error(what, host, e));
        // Forced for the session: under READ COMMITTED a consistent snapshot silently sees
        // later commits while its position stays put.
        for setup in [
            "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
            "SET SESSION time_zone = '+00:00', NAMES utf8mb4",
        ] {
            conn.query_drop(setup)
                .await
                .map_err(err("setting up the snapshot session"))?;
        }
        let server_id: Option<u32> = conn
            .query_first("SELECT @@server_id")
            .await
            .map_err(err("@@server_id"))?;
        let snapshot_status: Vec<(String, String)> = conn
            .query("SHOW STATUS LIKE 'binlog_snapshot_%'")
            .await
            .map_err(err("SHOW STATUS LIKE 'binlog_snapshot_%'"))?;
        if snapshot_status.len() < 2 {
            return Err(SnapshotError::NoSnapshotPosition {
                host: options.host(),
            });
        }
        Ok(Session {
            conn,
            server_id: server_id.unwrap_or(0),
            prepared: None,
        })
    }

    async fn read(
        &mut self,
        table: &SnapshotTable,
        after: Option<&[Value]>,
        limit: u64,
        host: &str,
    ) -> Result<Chunk, ReadFailure> {
        let (first, next) = self.prepare(table, host).await?;
        let (statement, mut params) = match after {
            None => (first, Vec::new()),
            Some(key) => (next, table.predicate_params(key)),
        };
        params.push(mysql_async::Value::UInt(limit));
        let failed = |what: &'static str| {
            let table = table.name();
            move |e: mysql_async::Error| classify(&format!("{what} of {table}"), host, e)
        };
        self.conn
            .query_drop("START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT")
            .await
            .map_err(failed("starting the snapshot transaction"))?;
        let read = async {
            let status: Vec<(String, String)> = self
                .conn
                .query("SHOW STATUS LIKE 'binlog_snapshot_%'")
                .await
                .map_err(failed("the snapshot position"))?;
            let read_ts = unix_now();
            let rows: Vec<Row> = self
                .conn
                .exec(&statement, params)
                .await
                .map_err(failed("reading a chunk"))?;
            Ok::<_, ReadFailure>((status, read_ts, rows))
        }
        .await;
        let end = self
            .conn
            .query_drop(if read.is_ok() { "COMMIT" } else { "ROLLBACK" })
            .await;
        let (status, read_ts, rows) = read?;
        end.map_err(failed("ending the snapshot transaction"))?;
        if let Some(first) = rows.first() {
            let columns = first.columns_ref();
            if columns.len() != table.schema.columns.len()
                || columns
                    .iter()
                    .zip(&table.schema.columns)
                    .any(|(c, name)| c.name_str() != name.as_str())
            {
                return Err(ReadFailure::Changed);
            }
        }
        let at = snapshot_position(&status).ok_or_else(|| {
            ReadFailure::Fatal(SnapshotError::NoSnapshotPosition {
                host: host.to_string(),
            })
        })?;
        let rows = rows
            .into_iter()
            .map(|row| values(table, row))
            .collect::<Result<_, _>>()
            .map_err(ReadFailure::Fatal)?;
        Ok(Chunk {
            rows,
            at,
            server_id: self.server_id,
            read_ts,
        })
    }

    /// `table`'s statements (first chunk, next chunks), prepared once; the previous table's
    /// are closed (a job of thousands of tables must not keep thousands of statements open).
    async fn prepare(
        &mut self,
        table: &SnapshotTable,
        host: &str,
    ) -> Result<(Statement, Statement), ReadFailure> {
        let name = table.name();
        if let Some((n, first, next)) = &self.prepared {
            if *n == name {
                return Ok((first.clone(), next.clone()));
            }
        }
        if let Some((_, first, next)) = self.prepared.take() {
            for statement in [first, next] {
                self.conn
                    .close(statement)
                    .await
                    .map_err(|e| classify("closing a statement", host, e))?;
            }
        }
        let what = format!("preparing the chunk queries of {name}");
        let first = self
            .conn
            .prep(&table.first_chunk)
            .await
            .map_err(|e| classify(&what, host, e))?;
        let next = self
            .conn
            .prep(&table.next_chunk)
            .await
            .map_err(|e| classify(&what, host, e))?;
        self.prepared = Some((name, first.clone(), next.clone()));
        Ok((first, next))
    }
}

/// A row's values in table order, as the binlog decoder gives them.
fn values(table: &SnapshotTable, row: Row) -> Result<Vec<Value>, SnapshotError> {
    let columns = row.columns();
    row.unwrap()
        .into_iter()
        .zip(columns.iter())
        .map(|(value, column)| {
            convert(column, value).map_err(|message| SnapshotError::Value {
                db: table.schema.db.clone(),
                table: table.schema.table.clone(),
                column: column.name_str().into_owned(),
                message,
            })
        })
        .collect()
}

/// `Binlog_snapshot_file` and `Binlog_snapshot_position` from `SHOW STATUS`.
fn snapshot_position(status: &[(String, String)]) -> Option<Coordinates> {
    let get = |name: &str| {
        status
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let file = get("Binlog_snapshot_file").filter(|f| !f.is_empty())?;
    let pos = get("Binlog_snapshot_position")?.parse().ok()?;
    Some(Coordinates {
        file: file.into(),
        pos,
    })
}

/// A driver error as a read failure: a table that is gone, the conflicts in [`RETRIED`] and
/// broken connections (retried), everything else (stops the job).
fn classify(what: &str, host: &str, e: mysql_async::Error) -> ReadFailure {
    if matches!(&e, mysql_async::Error::Server(s) if s.code == NO_SUCH_TABLE) {
        return ReadFailure::Gone;
    }
    let retried = matches!(&e, mysql_async::Error::Server(s) if RETRIED.contains(&s.code));
    let error = driver_error(what, host, e);
    if retried || matches!(error, mwcdc_source::SourceError::Transient(_)) {
        ReadFailure::Retry(SnapshotError::Source(error))
    } else {
        ReadFailure::Fatal(SnapshotError::Source(error))
    }
}

/// A connection that could not be set up: transient trouble is retried.
fn classify_open(e: SnapshotError) -> ReadFailure {
    match e {
        SnapshotError::Source(mwcdc_source::SourceError::Transient(_)) => ReadFailure::Retry(e),
        e => ReadFailure::Fatal(e),
    }
}

/// Seconds since the epoch.
fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_position_comes_from_the_status_variables() {
        let status = |file: &str, pos: &str| {
            vec![
                ("Binlog_snapshot_file".to_string(), file.to_string()),
                ("Binlog_snapshot_position".to_string(), pos.to_string()),
            ]
        };
        assert_eq!(
            snapshot_position(&status("mariadb-bin.000003", "1234")),
            Some(Coordinates {
                file: "mariadb-bin.000003".into(),
                pos: 1234
            })
        );
        assert_eq!(snapshot_position(&status("", "4")), None);
        assert_eq!(snapshot_position(&status("f.000001", "x")), None);
        assert_eq!(snapshot_position(&[]), None);
    }
}
