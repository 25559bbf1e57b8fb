//! Snapshots: the tables as they are, read by primary key in short consistent-snapshot
//! chunks, each placed into the binlog stream at its exact position, resumable from the
//! checkpoint.
//!
//! The data path reads in the order of the modules:
//! - [`tables`]: which tables a job reads, sorted, with their columns and key;
//! - [`reader`]: one chunk: a `START TRANSACTION WITH CONSISTENT SNAPSHOT` read with its
//!   binlog position; [`values`] turns the binary protocol's values into the binlog
//!   decoder's, [`key`] the key into parameters and cursor JSON;
//! - [`job`]: a job's reader task, table after table, chunk after chunk;
//! - [`merge`]: chunks into the stream at their positions ([`coordinates`] orders them),
//!   with the job's progress for the checkpoint;
//! - [`stats`]: the counters the metrics read.

#![warn(missing_docs)]

pub mod coordinates;
mod error;
pub mod job;
pub mod key;
pub mod merge;
pub mod reader;
pub mod stats;
pub mod tables;
mod values;

pub use error::SnapshotError;
pub use job::{FromReader, JobReader};
pub use merge::{Inbound, Merger};
pub use reader::ChunkReader;
pub use stats::{SnapshotStats, StatsView};
