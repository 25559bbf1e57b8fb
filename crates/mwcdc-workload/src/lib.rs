//! The MediaWiki workload generator: writes the row changes MediaWiki writes (page creations,
//! edits, deletions in batches, undeletions, revision deletion and suppression, moves, user
//! group changes, purges) into N wiki databases, one seeded run at a time, and the entity
//! changes they cause as a JSON-lines ground truth. Used by the `mwcdc-workload` binary and,
//! as a library, by the connector's integration tests.

#![warn(missing_docs)]

mod binary;
mod cli;
mod clock;
mod names;
mod ops;
mod php;
mod runner;
mod schema;
mod sql;
mod state;
mod truth;
mod txn;
mod workload;

pub use cli::Args;
pub use runner::{run, Summary};
pub use schema::create_statement;
