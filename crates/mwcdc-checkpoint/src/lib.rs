//! The durable checkpoint store of mwcdc connectors.
//!
//! A [`Checkpoint`] records, per connector name, the replication position up to which every
//! transaction has been delivered to Kafka. The [`CheckpointStore`] keeps them in one redb file,
//! `<state dir>/checkpoint.redb`, table `checkpoints`: connector name -> the JSON of its
//! checkpoint. Every save is one write transaction committed durably (fsync) before it returns.
//!
//! # Exclusive access
//!
//! The file is locked by the process that opens it: a running connector holds it for its whole
//! life, so `mwcdc checkpoint set|reset` fails with [`CheckpointError::InUse`] until the
//! connector is stopped.
//!
//! # Error handling
//!
//! A stored value that cannot be read is reported ([`CheckpointError::Corrupt`]) with the
//! connector name and the file, never skipped.

#![warn(missing_docs)]

mod checkpoint;
mod error;
mod store;

pub use checkpoint::Checkpoint;
pub use error::CheckpointError;
pub use store::{CheckpointStore, FILE_NAME};
