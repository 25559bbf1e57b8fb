//! Errors of the checkpoint store, naming the file they concern.

use std::path::PathBuf;

/// Why the checkpoint store could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The state directory could not be created.
    #[error("cannot create the state directory {dir}: {source}")]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// Another process has the database open.
    #[error(
        "the checkpoint database {path} is in use: another mwcdc process (the running connector) \
         holds the state directory; stop the connector before running `mwcdc checkpoint set` or \
         `mwcdc checkpoint reset`"
    )]
    InUse {
        /// The database file.
        path: PathBuf,
    },

    /// The database file could not be opened (other than being in use).
    #[error("cannot open the checkpoint database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// redb's error (boxed: it is large).
        #[source]
        source: Box<redb::DatabaseError>,
    },

    /// A read or write of the database failed.
    #[error("checkpoint database {path}: cannot {action}: {source}")]
    Storage {
        /// The database file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// redb's error (boxed: it is large).
        #[source]
        source: Box<redb::Error>,
    },

    /// A stored checkpoint cannot be decoded (by the store's format version).
    #[error("the stored checkpoint of connector {name:?} in {path} cannot be read: {source}")]
    Corrupt {
        /// The connector name (the key).
        name: String,
        /// The database file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },

    /// A stored checkpoint names a different connector than its key.
    #[error("the checkpoint stored under connector {name:?} in {path} names connector {stored:?}")]
    NameMismatch {
        /// The connector name (the key).
        name: String,
        /// The name inside the stored value.
        stored: String,
        /// The database file.
        path: PathBuf,
    },

    /// The store was written by a newer mwcdc, in a format this one cannot read.
    #[error(
        "the checkpoint database {path} has format version {found}, written by a newer mwcdc; \
         this mwcdc reads format versions up to {supported}: run the newer mwcdc, or restore \
         the state directory's backup"
    )]
    NewerFormat {
        /// The database file.
        path: PathBuf,
        /// The version the store records.
        found: u64,
        /// The newest version this build reads.
        supported: u64,
    },

    /// A checkpoint could not be encoded as JSON.
    #[error("cannot encode the checkpoint of connector {name:?}: {source}")]
    Encode {
        /// The connector name.
        name: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
}
