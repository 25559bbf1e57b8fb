//! Queries against the server: flavor, settings, positions, collations, schema lookups.

use mwcdc_binlog::Collations;
use mwcdc_position::{Flavor, GtidSet, MariaPosition, Position};
use mysql_async::prelude::Queryable;
pub use mysql_async::Conn;
use mysql_async::{Opts, OptsBuilder};

use crate::grants::Grants;
use crate::schema::{ColumnInfo, SchemaLookup, SchemaMode};
use crate::tls::TlsOptions;
use crate::{DefiniteError, SourceError, TransientError, UnusableError};

/// How to reach the server.
#[derive(Clone)]
pub struct ConnectOptions {
    /// `mysql://user@host:port` without a password.
    pub url: String,
    /// The password, kept out of the URL so that it never reaches a log line.
    pub password: Option<String>,
    /// Connection timeout.
    pub connect_timeout: std::time::Duration,
    /// TLS to the server.
    pub tls: TlsOptions,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("url", &self.url)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
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
        let base = Opts::from_url(&self.url).map_err(|e| {
            SourceError::Transient(TransientError::Connection {
                host: "<invalid url>".into(),
                message: e.to_string(),
            })
        })?;
        // The driver would move a connection to 127.0.0.1 onto the server's unix socket once
        // logged in: mwcdc talks to the address it was given (a proxy, a virtual IP after a
        // failover), or to a socket named with `?socket=` in the URL.
        let mut builder = OptsBuilder::from_opts(base)
            .wait_timeout(Some(28_800))
            .stmt_cache_size(0)
            .prefer_socket(false)
            .ssl_opts(self.tls.ssl_opts());
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
            Ok(Err(e)) if self.tls.enabled() && is_tls_failure(&e) => {
                Err(SourceError::Unusable(UnusableError::Tls {
                    host: self.host(),
                    mode: self.tls.mode.to_string(),
                    message: e.to_string(),
                }))
            }
            Ok(Err(e)) => Err(driver_error("the login", &self.host(), e)),
            Err(_) => Err(SourceError::Transient(TransientError::Connection {
                host: self.host(),
                message: format!("no answer within {:?}", self.connect_timeout),
            })),
        }
    }
}

/// Whether a login error is the TLS handshake's: a certificate that does not verify, a
/// server without TLS, a CA or key file that cannot be read. A broken connection is not.
fn is_tls_failure(e: &mysql_async::Error) -> bool {
    match e {
        mysql_async::Error::Io(mysql_async::IoError::Tls(_)) => true,
        // tokio-rustls reports handshake failures as I/O errors of this kind.
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) => {
            io.kind() == std::io::ErrorKind::InvalidData
                || io.kind() == std::io::ErrorKind::NotFound
        }
        mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer) => true,
        _ => false,
    }
}

/// Server error codes that mean a refused login or a missing privilege.
const ACCESS_DENIED: [u16; 4] = [1044, 1045, 1142, 1227];

/// Sorts a driver error: a refused login or privilege, another server error (definite), or
/// trouble with the connection itself (transient: reconnect).
pub fn driver_error(what: &str, host: &str, e: mysql_async::Error) -> SourceError {
    match e {
        mysql_async::Error::Server(s) if ACCESS_DENIED.contains(&s.code) => {
            SourceError::Unusable(UnusableError::Access {
                what: what.to_string(),
                message: format!("{} ({})", s.message, s.code),
            })
        }
        mysql_async::Error::Server(s) => SourceError::Definite(DefiniteError::Query {
            what: what.to_string(),
            message: format!("{} ({})", s.message, s.code),
        }),
        other => SourceError::Transient(TransientError::Connection {
            host: host.to_string(),
            message: format!("{what}: {other}"),
        }),
    }
}

fn query_error(what: &str) -> impl Fn(mysql_async::Error) -> SourceError + '_ {
    move |e| driver_error(what, "the source server", e)
}

/// A global variable of the server, `None` when the server does not have it.
pub async fn variable(conn: &mut Conn, name: &str) -> Result<Option<String>, SourceError> {
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

/// A server setting mwcdc needs, with the value the server has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The variable.
    pub name: &'static str,
    /// The value mwcdc needs.
    pub expected: &'static str,
    /// The server's value (`unset` when the server does not have the variable).
    pub actual: String,
    /// How to change it.
    pub fix: &'static str,
}

impl Setting {
    /// Whether the server's value is the one mwcdc needs.
    pub fn is_ok(&self) -> bool {
        self.actual.eq_ignore_ascii_case(self.expected)
            || (self.expected == "1" && self.actual.eq_ignore_ascii_case("ON"))
    }

    /// The error that stops the connector when the value is wrong.
    pub fn error(&self) -> SourceError {
        SourceError::Unusable(UnusableError::ServerSetting {
            setting: self.name.into(),
            actual: self.actual.clone(),
            expected: self.expected.into(),
            fix: self.fix.into(),
        })
    }
}

/// The settings mwcdc needs on a server of `flavor` read with `schema`, in the order they
/// are checked: the variable, the value needed and the fix.
fn requirements(
    flavor: Flavor,
    schema: SchemaMode,
) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut reqs = vec![
        ("log_bin", "1", "enable the binary log: add log_bin (and a server_id) to the server configuration and restart it"),
        ("binlog_format", "ROW", "SET GLOBAL binlog_format = ROW and add binlog_format=ROW to the server configuration"),
        ("binlog_row_image", "FULL", "SET GLOBAL binlog_row_image = FULL and add binlog_row_image=FULL to the server configuration"),
        ("binlog_checksum", "CRC32", "SET GLOBAL binlog_checksum = CRC32 and add binlog_checksum=CRC32 to the server configuration: mwcdc verifies every event's checksum"),
    ];
    if schema == SchemaMode::Binlog {
        reqs.push(("binlog_row_metadata", "FULL", "SET GLOBAL binlog_row_metadata = FULL and add binlog_row_metadata=FULL to the server configuration (or set source.schema = \"information_schema\" to look columns up instead)"));
    }
    if flavor == Flavor::MySql {
        reqs.push(("gtid_mode", "ON", "enable GTIDs: gtid_mode=ON and enforce_gtid_consistency=ON in the server configuration"));
    }
    reqs
}

/// The settings mwcdc needs, with the server's values.
pub async fn settings(
    conn: &mut Conn,
    flavor: Flavor,
    schema: SchemaMode,
) -> Result<Vec<Setting>, SourceError> {
    let mut out = Vec::new();
    for (name, expected, fix) in requirements(flavor, schema) {
        let actual = variable(conn, name)
            .await?
            .unwrap_or_else(|| "unset".into());
        out.push(Setting {
            name,
            expected,
            actual,
            fix,
        });
    }
    Ok(out)
}

/// How many databases the user can see in `information_schema` (0 without SELECT).
pub async fn visible_databases(conn: &mut Conn) -> Result<u64, SourceError> {
    let visible: Option<u64> = conn
        .query_first(
            "SELECT COUNT(*) FROM information_schema.SCHEMATA \
             WHERE SCHEMA_NAME <> 'information_schema'",
        )
        .await
        .map_err(query_error("information_schema.SCHEMATA"))?;
    Ok(visible.unwrap_or(0))
}

/// Checks the settings mwcdc depends on, returning the first that is wrong.
pub async fn check_settings(
    conn: &mut Conn,
    flavor: Flavor,
    schema: SchemaMode,
) -> Result<(), SourceError> {
    if visible_databases(conn).await? == 0 {
        return Err(SourceError::Unusable(UnusableError::Access {
            what: "reading table definitions".into(),
            message: "the user can see no database in information_schema (no SELECT privilege)"
                .into(),
        }));
    }
    match settings(conn, flavor, schema)
        .await?
        .into_iter()
        .find(|s| !s.is_ok())
    {
        Some(wrong) => Err(wrong.error()),
        None => Ok(()),
    }
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

/// The account the server logged the user in as (`CURRENT_USER()`, `name@host`) and what
/// `SHOW GRANTS` says it may do.
pub async fn grants(conn: &mut Conn) -> Result<(String, Grants), SourceError> {
    let user: Option<String> = conn
        .query_first("SELECT CURRENT_USER()")
        .await
        .map_err(query_error("CURRENT_USER()"))?;
    let lines: Vec<String> = conn
        .query("SHOW GRANTS")
        .await
        .map_err(query_error("SHOW GRANTS"))?;
    Ok((
        user.unwrap_or_default(),
        Grants::parse(lines.iter().map(String::as_str)),
    ))
}

/// The TLS protocol of this connection (`TLSv1.3`), `None` when it is not encrypted.
pub async fn tls_version(conn: &mut Conn) -> Result<Option<String>, SourceError> {
    let row: Option<(String, String)> = conn
        .query_first("SHOW SESSION STATUS LIKE 'Ssl_version'")
        .await
        .map_err(query_error("Ssl_version"))?;
    Ok(row.map(|(_, v)| v).filter(|v| !v.is_empty()))
}

/// A replica registered with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredReplica {
    /// Its server id.
    pub server_id: u32,
    /// The host and port it reported (often empty).
    pub address: String,
}

/// The replicas connected to the server (`SHOW SLAVE HOSTS`); `None` when the user may not
/// ask (MariaDB wants REPLICATION MASTER ADMIN).
pub async fn replicas(conn: &mut Conn) -> Result<Option<Vec<RegisteredReplica>>, SourceError> {
    match conn.query::<mysql_async::Row, _>("SHOW SLAVE HOSTS").await {
        Ok(rows) => Ok(Some(
            rows.iter()
                .map(|row| RegisteredReplica {
                    server_id: row.get::<u32, _>(0).unwrap_or_default(),
                    address: format!(
                        "{}:{}",
                        row.get::<String, _>(1).unwrap_or_default(),
                        row.get::<u32, _>(2).unwrap_or_default()
                    ),
                })
                .collect(),
        )),
        Err(mysql_async::Error::Server(s)) if ACCESS_DENIED.contains(&s.code) => Ok(None),
        Err(e) => Err(query_error("SHOW SLAVE HOSTS")(e)),
    }
}

/// Every base table the user can see, as (`db`, `table`).
pub async fn base_tables(conn: &mut Conn) -> Result<Vec<(String, String)>, SourceError> {
    conn.query(
        "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES \
         WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME",
    )
    .await
    .map_err(query_error("information_schema.TABLES"))
}

/// MySQL/MariaDB error code `ER_NO_BINARY_LOGGING`.
const ER_NO_BINARY_LOGGING: u16 = 1381;

/// The name of the oldest binlog file the server still has; `None` with the binlog off.
pub async fn oldest_binlog(conn: &mut Conn) -> Result<Option<String>, SourceError> {
    // The column count differs between versions: take the first by position.
    match conn
        .query_first::<mysql_async::Row, _>("SHOW BINARY LOGS")
        .await
    {
        Ok(row) => Ok(row.and_then(|row| row.get::<String, _>(0))),
        Err(mysql_async::Error::Server(s)) if s.code == ER_NO_BINARY_LOGGING => Ok(None),
        Err(e) => Err(query_error("SHOW BINARY LOGS")(e)),
    }
}

/// The position at the start of the oldest binlog the server still has.
pub async fn earliest_position(conn: &mut Conn, flavor: Flavor) -> Result<Position, SourceError> {
    Ok(match flavor {
        Flavor::MariaDb => {
            let Some(file) = oldest_binlog(conn).await? else {
                return Err(SourceError::Unusable(UnusableError::ServerSetting {
                    setting: "log_bin".into(),
                    actual: "no binary logs".into(),
                    expected: "ON".into(),
                    fix: "enable the binary log".into(),
                }));
            };
            let pos: Option<Option<String>> = conn
                .exec_first("SELECT BINLOG_GTID_POS(?, 4)", (file.clone(),))
                .await
                .map_err(query_error("BINLOG_GTID_POS"))?;
            let pos = pos.flatten().ok_or_else(|| {
                SourceError::Definite(DefiniteError::Query {
                    what: format!("BINLOG_GTID_POS('{file}', 4)"),
                    message: "no position for the oldest binlog".into(),
                })
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
                Err(SourceError::Transient(TransientError::Connection {
                    host: self.options.host(),
                    message: format!(
                        "{what}: no answer within {:?}",
                        self.options.connect_timeout * 3
                    ),
                }))
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
