//! MediaWiki's model: what a transaction's row changes mean for revisions, pages, log entries
//! and user group memberships, written as entity change records.
//!
//! A transaction is folded as a whole, in two passes over its changes (which may be spilled
//! to disk): [`fold`] pairs rows that describe one change (an archive row inserted and a
//! revision row deleted is an archived revision), [`encode`] writes a record at the row that
//! carries each entity's new state. `docs/record-format.md` describes the records.

#![warn(missing_docs)]

mod config;
mod encode;
mod encoder;
mod entity;
mod fold;
mod params;
pub mod php;
mod row;
pub mod tables;
mod topic;

pub use config::{Captured, EntityConfig, TablePrefix};
pub use encode::EntityRecords;
pub use encoder::EntityEncoder;
pub use entity::Entity;
pub use topic::{EntityTopicTemplate, EntityTopicTemplateError};
