//! Why a configuration cannot be used (exit code 2): every error names its key.

use std::path::PathBuf;

use thiserror::Error;

/// A configuration that cannot be used; exit code 2.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{path} is not valid TOML: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A key is unknown, has the wrong type or an impossible value.
    #[error("configuration key `{key}`: {message}")]
    Key {
        /// The key's path, e.g. `source.server_id`.
        key: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// Settings that decide the records and their indexes changed since the checkpoint was
    /// written, in the exactly-once modes (exactly-once, transactional).
    #[error(
        "{changed} changed since the checkpoint of `{name}` was written: in the exactly-once \
         modes the record indexes that tell what the partitions already hold would shift, and records \
         could be skipped or written twice. Restore the settings, or start over: a new \
         sink.topic_prefix (new topics), or `mwcdc checkpoint reset` (then source.start decides \
         where the run begins)"
    )]
    SettingsChanged {
        /// The connector.
        name: String,
        /// The keys that changed, comma-separated.
        changed: String,
    },
}

/// A [`ConfigError::Key`] about `key`.
pub fn key_error(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Key {
        key: key.to_string(),
        message: message.into(),
    }
}
