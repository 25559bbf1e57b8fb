//! The replication source: connects to MariaDB or MySQL as a replica, reads the binlog and
//! turns it into [`mwcdc_change::Transaction`]s of captured row changes, in binlog order.
//!
//! This module only wires the parts together; the work is in:
//! - [`server`]: queries (flavor, settings, positions, collations, schema lookups);
//! - [`stream`]: the binlog dump request and the bytes of each event;
//! - [`assembler`]: events to transactions (GTID groups, XA, DDL, completeness checks);
//! - [`replicator`]: the loop with reconnects and backoff;
//! - [`filter`], [`statement`], [`schema`]: table selection, statement reading, column names
//!   and keys.

#![warn(missing_docs)]

pub mod assembler;
mod config;
mod error;
pub mod filter;
mod grants;
mod progress;
pub mod replicator;
pub mod schema;
pub mod server;
pub mod statement;
pub mod stream;
mod tls;
pub mod xa;

pub use config::{SourceConfig, StartPosition};
pub use error::{DefiniteError, SourceError, TransientError, UnusableError};
pub use filter::TableFilter;
pub use grants::Grants;
pub use progress::StreamProgress;
pub use replicator::{Received, Replicator};
pub use schema::SchemaMode;
pub use server::ConnectOptions;
pub use tls::{TlsMode, TlsOptions};
