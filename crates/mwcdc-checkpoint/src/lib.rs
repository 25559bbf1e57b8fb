//! The durable checkpoint store of mwcdc connectors.
//!
//! A [`Checkpoint`] records, per connector name, the replication position up to which every
//! transaction has been delivered to Kafka, and the progress of a snapshot job up to there. The [`CheckpointStore`] keeps them in one redb file,
//! `<state dir>/checkpoint.redb`, table `checkpoints`: connector name -> its checkpoint,
//! encoded by the format version that table `meta` records. A store of an earlier version
//! (mwcdc 0.1 wrote version 1, without recording it) is upgraded in place when opened; one of
//! a newer version is refused with [`CheckpointError::NewerFormat`]. Every save is one write
//! transaction committed durably (fsync) before it returns.
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
mod format;
mod snapshot;
mod store;

pub use checkpoint::{Checkpoint, CheckpointJson};
pub use error::CheckpointError;
pub use snapshot::{LaneCursor, SnapshotProgress};
pub use store::{CheckpointStore, FILE_NAME};
