//! Queries against the server: flavor, settings, positions, collations, schema lookups.

use mwcdc_binlog::Collations;
use mwcdc_position::{Flavor, GtidSet, MariaPosition, Position};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};

use crate::schema::{ColumnInfo, SchemaLookup, SchemaMode};
use crate::SourceError;

/// How to reach the server.
#[derive(Clone)]
pub struct ConnectOptions {
    /// `mysql://user@host:port` without a password.
    pub url: String,
    /// The password, kept out of the URL so that it never reaches a log line.
    pub password: Option<String>,
    /// Connection timeout.
    pub connect_timeout: std::time::Duration,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("url", &self.url)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ConnectOptions {
    /// `host:port` for messages.
    pub fn host(&self) -> String {
        Opts::from_url(&self.url)
            .map(|o| format!("{}:{}", o.ip_or_hostname(), o.tcp_port()))
            .unwrap_or_else(|_| "<invalid url>".into())
    }

    fn opts(&self) -> Result<Opts, SourceError> {
        let base = Opts::from_url(&self.url).map_err(|e| SourceError::Connection {
            host: "<invalid url>".into(),
            message: e.to_string(),
        })?;
        // The driver would move a connection to 127.0.0.1 onto the server's unix socket once
        // logged in: mwcdc talks to the address it was given (a proxy, a virtual IP after a
        // failover), or to a socket named with `?socket=` in the URL.
        let mut builder = OptsBuilder::from_opts(base)
            .wait_timeout(Some(28_800))
            .stmt_cache_size(0)
            .prefer_socket(false);
        if let Some(p) = &self.password {
            builder = builder.pass(Some(p.clone()));
        }
        Ok(builder.into())
    }

    /// Opens a connection.
    pub async fn connect(&self) -> Result<Conn, SourceError> {
        let opts = self.opts()?;
        match tokio::time::timeout(self.connect_timeout, Conn::new(opts)).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(driver_error("the login", &self.host(), e)),
            Err(_) => Err(SourceError::Connection {
                host: self.host(),
                message: format!("no answer within {:?}", self.connect_timeout),
            }),
        }
    }
}

/// Server error codes that mean a refused login or a missing privilege.
const ACCESS_DENIED: [u16; 4] = [1044, 1045, 1142, 1227];

/// Sorts a driver error: a refused login or privilege, another server error (definite), or
/// trouble with the connection itself (transient: reconnect).
pub(crate) fn driver_error(what: &str, host: &str, e: mysql_async::Error) -> SourceError {
    match e {
        mysql_async::Error::Server(s) if ACCESS_DENIED.contains(&s.code) => SourceError::Access {
            what: what.to_string(),
            message: format!("{} ({})", s.message, s.code),
        },
        mysql_async::Error::Server(s) => SourceError::Query {
            what: what.to_string(),
            message: format!("{} ({})", s.message, s.code),
        },
        other => SourceError::Connection {
            host: host.to_string(),
            message: format!("{what}: {other}"),
        },
    }
}

fn query_error(what: &str) -> impl Fn(mysql_async::Error) -> SourceError + '_ {
    move |e| driver_error(what, "the source server", e)
}

async fn variable(conn: &mut Conn, name: &str) -> Result<Option<String>, SourceError> {
    conn.query_first::<Option<String>, _>(format!("SELECT @@GLOBAL.{name}"))
        .await
        .map(Option::flatten)
        .or_else(|e| match e {
            // Unknown system variable: the server does not have the setting.
            mysql_async::Error::Server(ref s) if s.code == 1193 => Ok(None),
            e => Err(query_error(name)(e)),
        })
}

/// The server's flavor and version string.
pub async fn detect_flavor(conn: &mut Conn) -> Result<(Flavor, String), SourceError> {
    let version = variable(conn, "version").await?.unwrap_or_default();
    let flavor = if version.contains("MariaDB") {
        Flavor::MariaDb
    } else {
        Flavor::MySql
    };
    Ok((flavor, version))
}

/// One required setting and its check.
struct Requirement {
    name: &'static str,
    expected: &'static str,
    fix: &'static str,
}

/// Checks the settings mwcdc depends on, returning the first that is wrong.
pub async fn check_settings(
    conn: &mut Conn,
    flavor: Flavor,
    schema: SchemaMode,
) -> Result<(), SourceError> {
    let mut reqs = vec![
        Requirement {
            name: "log_bin",
            expected: "1",
            fix: "enable the binary log: add log_bin (and a server_id) to the server configuration and restart it",
        },
        Requirement {
            name: "binlog_format",
            expected: "ROW",
            fix: "SET GLOBAL binlog_format = ROW and add binlog_format=ROW to the server configuration",
        },
        Requirement {
            name: "binlog_row_image",
            expected: "FULL",
            fix: "SET GLOBAL binlog_row_image = FULL and add binlog_row_image=FULL to the server configuration",
        },
    ];
    reqs.push(Requirement {
        name: "binlog_checksum",
        expected: "CRC32",
        fix: "SET GLOBAL binlog_checksum = CRC32 and add binlog_checksum=CRC32 to the server configuration: mwcdc verifies every event's checksum",
    });
    if schema == SchemaMode::Binlog {
        reqs.push(Requirement {
            name: "binlog_row_metadata",
            expected: "FULL",
            fix: "SET GLOBAL binlog_row_metadata = FULL and add binlog_row_metadata=FULL to the server configuration (or set source.schema = \"information_schema\" to look columns up instead)",
        });
    }
    if flavor == Flavor::MySql {
        reqs.push(Requirement {
            name: "gtid_mode",
            expected: "ON",
            fix: "enable GTIDs: gtid_mode=ON and enforce_gtid_consistency=ON in the server configuration",
        });
    }
    let visible: Option<u64> = conn
        .query_first(
            "SELECT COUNT(*) FROM information_schema.SCHEMATA \
             WHERE SCHEMA_NAME <> 'information_schema'",
        )
        .await
        .map_err(query_error("information_schema.SCHEMATA"))?;
    if visible == Some(0) {
        return Err(SourceError::Access {
            what: "reading table definitions".into(),
            message: "the user can see no database in information_schema (no SELECT privilege)"
                .into(),
        });
    }
    for req in reqs {
        let actual = variable(conn, req.name)
            .await?
            .unwrap_or_else(|| "unset".into());
        let ok = actual.eq_ignore_ascii_case(req.expected)
            || (req.expected == "1" && actual.eq_ignore_ascii_case("ON"));
        if !ok {
            return Err(SourceError::ServerSetting {
                setting: req.name.into(),
                actual,
                expected: req.expected.into(),
                fix: req.fix.into(),
            });
        }
    }
    Ok(())
}

/// The position of the newest transaction in the server's binlog.
pub async fn latest_position(conn: &mut Conn, flavor: Flavor) -> Result<Position, SourceError> {
    Ok(match flavor {
        Flavor::MariaDb => {
            let pos = variable(conn, "gtid_binlog_pos").await?.unwrap_or_default();
            Position::MariaDb(pos.parse::<MariaPosition>()?)
        }
        Flavor::MySql => {
            let set = variable(conn, "gtid_executed").await?.unwrap_or_default();
            Position::MySql(set.parse::<GtidSet>()?)
        }
    })
}

/// The position at the start of the oldest binlog the server still has.
pub async fn earliest_position(conn: &mut Conn, flavor: Flavor) -> Result<Position, SourceError> {
    Ok(match flavor {
        Flavor::MariaDb => {
            // The column count differs between versions: take the first by position.
            let oldest: Option<String> = conn
                .query_first::<mysql_async::Row, _>("SHOW BINARY LOGS")
                .await
                .map_err(query_error("SHOW BINARY LOGS"))?
                .and_then(|row| row.get::<String, _>(0));
            let Some(file) = oldest else {
                return Err(SourceError::ServerSetting {
                    setting: "log_bin".into(),
                    actual: "no binary logs".into(),
                    expected: "ON".into(),
                    fix: "enable the binary log".into(),
                });
            };
            let pos: Option<Option<String>> = conn
                .exec_first("SELECT BINLOG_GTID_POS(?, 4)", (file.clone(),))
                .await
                .map_err(query_error("BINLOG_GTID_POS"))?;
            let pos = pos.flatten().ok_or_else(|| SourceError::Query {
                what: format!("BINLOG_GTID_POS('{file}', 4)"),
                message: "no position for the oldest binlog".into(),
            })?;
            Position::MariaDb(pos.parse::<MariaPosition>()?)
        }
        Flavor::MySql => {
            let set = variable(conn, "gtid_purged").await?.unwrap_or_default();
            Position::MySql(set.parse::<GtidSet>()?)
        }
    })
}

/// The server's collation ids and their character sets.
pub async fn collations(conn: &mut Conn) -> Result<Collations, SourceError> {
    let rows: Vec<(u16, String)> = conn
        .query(
            "SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS WHERE ID IS NOT NULL",
        )
        .await
        .map_err(query_error("information_schema.COLLATIONS"))?;
    Ok(Collations::with_server_collations(rows))
}

/// Schema lookups over a connection of their own.
pub struct ServerLookup {
    options: ConnectOptions,
    conn: Option<Conn>,
}

impl ServerLookup {
    /// A lookup that connects when first asked.
    pub fn new(options: ConnectOptions) -> Self {
        Self {
            options,
            conn: None,
        }
    }

    /// Runs a lookup query. A failed or timed-out query drops the connection, so that the
    /// next attempt (after the source reconnects) opens a fresh one.
    async fn query<T, P>(&mut self, what: &str, sql: &str, params: P) -> Result<Vec<T>, SourceError>
    where
        T: mysql_async::prelude::FromRow + Send + 'static,
        P: Into<mysql_async::Params> + Send,
    {
        if self.conn.is_none() {
            self.conn = Some(self.options.connect().await?);
        }
        let conn = self.conn.as_mut().expect("connected above");
        let result =
            tokio::time::timeout(self.options.connect_timeout * 3, conn.exec(sql, params)).await;
        match result {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(e)) => {
                self.conn = None;
                Err(driver_error(what, &self.options.host(), e))
            }
            Err(_) => {
                self.conn = None;
                Err(SourceError::Connection {
                    host: self.options.host(),
                    message: format!(
                        "{what}: no answer within {:?}",
                        self.options.connect_timeout * 3
                    ),
                })
            }
        }
    }
}

impl SchemaLookup for ServerLookup {
    async fn key_columns(&mut self, db: &str, table: &str) -> Result<Vec<String>, SourceError> {
        let rows: Vec<(String, String, String)> = self
            .query(
                "key columns from information_schema.STATISTICS",
                "SELECT s.INDEX_NAME, s.COLUMN_NAME, c.IS_NULLABLE \
                 FROM information_schema.STATISTICS s JOIN information_schema.COLUMNS c \
                 ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME \
                 WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0 \
                 ORDER BY s.INDEX_NAME <> 'PRIMARY', s.INDEX_NAME, s.SEQ_IN_INDEX",
                (db, table),
            )
            .await?;
        let mut indexes: Vec<(String, Vec<String>, bool)> = Vec::new();
        for (index, column, nullable) in rows {
            match indexes.last_mut() {
                Some((name, cols, nulls)) if *name == index => {
                    cols.push(column);
                    *nulls |= nullable == "YES";
                }
                _ => indexes.push((index, vec![column], nullable == "YES")),
            }
        }
        Ok(indexes
            .into_iter()
            .find(|(_, _, nulls)| !nulls)
            .map(|(_, cols, _)| cols)
            .unwrap_or_default())
    }

    async fn columns(&mut self, db: &str, table: &str) -> Result<Vec<ColumnInfo>, SourceError> {
        let rows: Vec<(String, String, String, Option<String>)> = self
            .query(
                "columns from information_schema.COLUMNS",
                "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 ORDER BY ORDINAL_POSITION",
                (db, table),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(name, data_type, column_type, charset)| ColumnInfo {
                name,
                data_type,
                column_type,
                charset,
            })
            .collect())
    }
}
