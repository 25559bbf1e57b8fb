//! The change model: transactions of row changes as the pipeline carries them, from the
//! binlog source (or a snapshot producer) to the record encoders, with the buffer that spills a
//! large transaction's changes to disk.

#![warn(missing_docs)]

mod buffer;
pub mod cursor;
mod row;
mod transaction;

pub use buffer::{ChangeBuffer, ChangeIter, SpillError, SpillPolicy, TableOpCount};
pub use row::{key_text, Op, RowChange, TableSchema};
pub use transaction::{SnapshotChunk, Transaction, XaStep};
