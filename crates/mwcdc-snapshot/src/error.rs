//! Why a snapshot cannot go on.

use mwcdc_source::SourceError;
use thiserror::Error;

/// A snapshot error. [`SnapshotError::is_unusable`] tells the ones that mean the server or a
/// table cannot be snapshotted as configured (exit code 3) from the others (exit code 1).
#[derive(Debug, Error)]
pub enum SnapshotError {
    /// A connection or query error, classified as the source's are.
    #[error("snapshot: {0}")]
    Source(#[from] SourceError),
    /// The server does not say at which binlog position a consistent snapshot is (Oracle
    /// MySQL).
    #[error(
        "snapshot: the server {host} gives no position for a consistent snapshot (SHOW STATUS \
         LIKE 'binlog_snapshot_%' is empty), so a chunk cannot be placed exactly in the binlog \
         stream. MariaDB and Percona Server have it; Oracle MySQL does not. Set snapshot.mode = \
         \"never\" and bootstrap the consumers otherwise"
    )]
    NoSnapshotPosition {
        /// The server.
        host: String,
    },
    /// A table has neither a primary key nor a unique key without NULLs to read it by.
    #[error(
        "snapshot: table `{db}`.`{table}` has no primary key and no unique key over NOT NULL \
         columns, so it cannot be read in chunks: give it a primary key, or leave it out of \
         snapshot.tables"
    )]
    NoKey {
        /// The database.
        db: String,
        /// The table.
        table: String,
    },
    /// A table of a storage engine without consistent reads (MyISAM, Aria, MEMORY): a chunk
    /// of it could show writes after its position.
    #[error(
        "snapshot: table `{db}`.`{table}` is {engine}, which a consistent snapshot does not \
         cover (its chunks could show later writes): convert it to InnoDB, or leave it out of \
         snapshot.tables"
    )]
    NotTransactional {
        /// The database.
        db: String,
        /// The table.
        table: String,
        /// Its storage engine.
        engine: String,
    },
    /// A key column whose order mwcdc cannot reproduce, under a delivery mode that orders
    /// snapshot records by key ([`mwcdc_change::cursor::compare`]).
    #[error(
        "snapshot: the key of `{db}`.`{table}` has column `{column}`, whose values mwcdc cannot \
         order as the server does (text, decimal, temporal, ENUM or SET): sink.delivery = \"exactly-once\" \
         and \"transactional\" recognise snapshot rows a replay already wrote by their keys, \
         which must be integers, floating point or binary strings. Leave the table out of \
         snapshot.tables, or use delivery = \"at-least-once\""
    )]
    UnorderedKey {
        /// The database.
        db: String,
        /// The table.
        table: String,
        /// The key column.
        column: String,
    },
    /// The server the chunks are read from is not the one the job began on.
    #[error(
        "snapshot: the chunks were read from the server with @@server_id {before}, now from \
         {now} (a failover during the snapshot?): stopping; the next run resumes the job from \
         the checkpoint"
    )]
    ServerChanged {
        /// The first server's id.
        before: u32,
        /// The server's id now.
        now: u32,
    },
    /// The binlog stream reads another server than a chunk was read on.
    #[error(
        "snapshot: a chunk was read on the server with @@server_id {chunk}, but the binlog \
         stream now reads the server with @@server_id {stream} (a failover during the \
         snapshot?): stopping; the next run resumes the job from the checkpoint and reads the \
         chunks after it again"
    )]
    StreamServerChanged {
        /// The server the chunk was read on.
        chunk: u32,
        /// The server the stream reads.
        stream: u32,
    },
    /// A value the server sent does not fit its column.
    #[error("snapshot: column `{column}` of `{db}`.`{table}`: {message}")]
    Value {
        /// The database.
        db: String,
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// What does not fit.
        message: String,
    },
    /// The checkpoint's cursor of the job does not decode.
    #[error("snapshot: the checkpoint's cursor of job `{job}` does not decode: {message}; `mwcdc checkpoint reset` starts over")]
    Cursor {
        /// The job.
        job: String,
        /// Why.
        message: String,
    },
    /// The stream and a chunk are in different binlogs (a failover to another server during
    /// the job): the chunk cannot be placed.
    #[error(
        "snapshot: the stream is at {stream} but a chunk was read at {chunk}, of another binlog \
         (a failover during the snapshot?): stopping; the next run resumes the job from the \
         checkpoint and reads the chunks after it again"
    )]
    Diverged {
        /// Where the stream is.
        stream: String,
        /// Where the chunk was read.
        chunk: String,
    },
    /// A bug of the snapshot's own bookkeeping.
    #[error("internal error: {0}")]
    Internal(String),
    /// The spill buffer of a chunk's changes failed.
    #[error("snapshot: {0}")]
    Spill(#[from] mwcdc_change::SpillError),
}

impl SnapshotError {
    /// Whether the server or a table cannot be snapshotted as configured (exit code 3).
    pub fn is_unusable(&self) -> bool {
        matches!(
            self,
            SnapshotError::Source(SourceError::Unusable(_))
                | SnapshotError::NoSnapshotPosition { .. }
                | SnapshotError::NoKey { .. }
                | SnapshotError::NotTransactional { .. }
                | SnapshotError::UnorderedKey { .. }
        )
    }
}
