//! Source errors, sorted by class as types: transient (reconnect), unusable (an operator
//! must change the server or the position), definite (the connector stops).

use thiserror::Error;

/// An error of the replication source, by class: whether retrying helps, and who must act.
#[derive(Debug, Error)]
pub enum SourceError {
    /// Reconnecting may cure it.
    #[error(transparent)]
    Transient(#[from] TransientError),
    /// The server cannot be used as configured.
    #[error(transparent)]
    Unusable(#[from] UnusableError),
    /// Retrying cannot cure it.
    #[error(transparent)]
    Definite(#[from] DefiniteError),
}

/// An error that reconnecting may cure: the connection failed or broke.
#[derive(Debug, Error)]
pub enum TransientError {
    /// The connection failed or broke: reconnect and resume.
    #[error("connection to {host} failed: {message}")]
    Connection {
        /// `host:port`, never with credentials.
        host: String,
        /// What the driver said.
        message: String,
    },
}

/// The server cannot be used as configured (a setting, a grant, TLS, a purged or refused
/// position, sessions writing captured tables without full row images, an XA group that cannot
/// be read): an operator must act; the binary exits with code 3.
#[derive(Debug, Error)]
pub enum UnusableError {
    /// The TLS handshake failed: a certificate that does not verify, a server without TLS.
    #[error(
        "TLS to {host} failed (source.tls.mode = \"{mode}\"): {message}. Fix: check that \
         source.tls.ca is the CA that signed the server's certificate, that the certificate \
         names the host of source.url (verify-identity), and that the server has TLS enabled \
         (ssl_cert, ssl_key)"
    )]
    Tls {
        /// `host:port`.
        host: String,
        /// The configured mode.
        mode: String,
        /// What the TLS layer said.
        message: String,
    },
    /// A server setting prevents capturing changes; an operator must change it.
    #[error("server setting {setting} is {actual}, mwcdc needs {expected}. Fix: {fix}")]
    ServerSetting {
        /// The variable, e.g. `binlog_row_metadata`.
        setting: String,
        /// Its current value.
        actual: String,
        /// What it must be.
        expected: String,
        /// How to change it.
        fix: String,
    },
    /// The server refused the login or an operation for lack of a privilege.
    #[error(
        "the server refused {what}: {message}. mwcdc's user needs exactly REPLICATION SLAVE, \
         REPLICATION CLIENT (shown as BINLOG MONITOR on MariaDB) and SELECT: GRANT REPLICATION \
         SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '<user>'@'<host>', and the right password \
         in MWCDC_SOURCE_PASSWORD or source.password_file"
    )]
    Access {
        /// What mwcdc was doing.
        what: String,
        /// The server's message.
        message: String,
    },
    /// The binlogs holding the start position were purged.
    #[error(
        "the server no longer has the binlogs for position {position}: {server_message}. \
         The oldest position the server still has is {oldest}. Remedies: start elsewhere with \
         `mwcdc checkpoint set --gtid <position>` (for example the oldest one, accepting the \
         gap) or `mwcdc checkpoint reset` with source.start = \"earliest\" or \"latest\"; a \
         bootstrap snapshot will fill gaps once available"
    )]
    Purged {
        /// The position mwcdc asked for.
        position: String,
        /// The oldest position still available.
        oldest: String,
        /// The server's message.
        server_message: String,
    },
    /// The server refused the position for another reason (divergence, unknown GTID).
    #[error("the server refused to stream from position {position}: {message}")]
    PositionRefused {
        /// The position mwcdc asked for.
        position: String,
        /// The server's message.
        message: String,
    },
    /// A captured table's change is not in the binlog as full row images.
    #[error(
        "transaction {gtid} changes captured table {table} {what}; mwcdc needs {setting} so that \
         every change is in the binlog as a full row image. Fix: set {setting} for every \
         session that writes (globally in the server configuration), then restart mwcdc from a \
         position after this transaction with `mwcdc checkpoint set` once the gap is handled"
    )]
    Incomplete {
        /// The transaction's GTID.
        gtid: String,
        /// `db.table`.
        table: String,
        /// What the binlog holds instead.
        what: String,
        /// The setting that must change, with its value.
        setting: String,
    },
    /// An XA COMMIT whose PREPARE (which holds the rows) was before the start position, and
    /// that group could not be read again.
    #[error(
        "the XA COMMIT at {gtid} commits {xid}, which was prepared before the position this run \
         started from: its rows are in the XA PREPARE's group, which this stream did not read; \
         {why}"
    )]
    XaPrepareMissing {
        /// The XA transaction's xid as the binlog writes it.
        xid: String,
        /// The GTID of the XA COMMIT.
        gtid: String,
        /// Why it was not read again, and what to do.
        why: String,
    },
}

/// Any other error that retrying cannot cure: the connector stops here.
#[derive(Debug, Error)]
pub enum DefiniteError {
    /// An event could not be decoded or failed its checksum: the connector stops here.
    #[error("cannot decode the binlog event at {file}:{pos}: {source}")]
    Decode {
        /// Binlog file.
        file: String,
        /// Start position of the event.
        pos: u64,
        /// What was wrong.
        #[source]
        source: mwcdc_binlog::DecodeError,
    },
    /// The driver could not parse an event, on every attempt over a fresh connection.
    #[error(
        "cannot parse the binlog event at {file}:{pos} (after position {position}): {message}; \
         it failed {attempts} times over fresh connections"
    )]
    Unparsed {
        /// Binlog file.
        file: String,
        /// Start position of the event (the end of the last event read).
        pos: u64,
        /// The replication position before it.
        position: String,
        /// The driver's message.
        message: String,
        /// How many times it was tried.
        attempts: u32,
    },
    /// The binlog stream broke its own rules (an event outside a transaction, an incident).
    #[error("unexpected binlog content at {file}:{pos}: {message}")]
    Protocol {
        /// Binlog file.
        file: String,
        /// Event position.
        pos: u64,
        /// What was unexpected.
        message: String,
    },
    /// The looked-up schema does not match the TABLE_MAP (`source.schema = "information_schema"`).
    #[error(
        "the current schema of {table} does not match the binlog event at {file}:{pos}: \
         {detail}. The event was written with another table definition (a backlog across a \
         DDL, or an ALTER run with sql_log_bin=0); use binlog_row_metadata=FULL"
    )]
    SchemaMismatch {
        /// `db.table`.
        table: String,
        /// Binlog file.
        file: String,
        /// Event position.
        pos: u64,
        /// The difference.
        detail: String,
    },
    /// A query mwcdc needs failed.
    #[error("query failed ({what}): {message}")]
    Query {
        /// What mwcdc was asking for.
        what: String,
        /// The server's message.
        message: String,
    },
    /// A large transaction's changes could not be spilled to disk or read back.
    #[error(transparent)]
    Spill(#[from] mwcdc_change::SpillError),
    /// The position in the configuration or checkpoint is invalid or of the other flavor.
    #[error(transparent)]
    Position(#[from] mwcdc_position::PositionError),
}

impl From<mwcdc_change::SpillError> for SourceError {
    fn from(e: mwcdc_change::SpillError) -> Self {
        DefiniteError::Spill(e).into()
    }
}

impl From<mwcdc_position::PositionError> for SourceError {
    fn from(e: mwcdc_position::PositionError) -> Self {
        DefiniteError::Position(e).into()
    }
}
