//! MediaWiki's model: what a transaction's row changes mean for revisions, pages, log entries
//! and user group memberships, written as entity change records.
//!
//! A transaction is folded as a whole, in two passes over its changes (which may be spilled
//! to disk): [`fold`] pairs rows that describe one change (an archive row inserted and a
//! revision row deleted is an archived revision), [`encode`] writes a record at the row that
//! carries each entity's new state. `docs/record-format.md` describes the records.

#![warn(missing_docs)]

mod encode;
mod entity;
mod fold;
mod params;
pub mod php;
mod row;
mod topic;

use std::collections::HashSet;
use std::sync::Arc;

use mwcdc_change::{SpillError, TableSchema, Transaction};
use mwcdc_record::BinaryMode;
use tracing::warn;

pub use encode::EntityRecords;
pub use entity::Entity;
pub use topic::{EntityTopicTemplate, EntityTopicTemplateError};

/// Whether a `db.table` is captured (the source's table filter).
pub type Captured = dyn Fn(&str, &str) -> bool + Send + Sync;

/// What the entity encoder needs to know.
#[derive(Clone)]
pub struct EntityConfig {
    /// `{prefix}` of topic names.
    pub topic_prefix: String,
    /// The entity topic template.
    pub topic: EntityTopicTemplate,
    /// Binary value rendering, as in the row stream.
    pub binary: BinaryMode,
    /// The table filter, by unprefixed table name: an entity comes from a log row alone when
    /// its table is not captured.
    pub captured: Arc<Captured>,
    /// The table name prefix (`$wgDBprefix`) of a wiki database, `""` for none.
    pub table_prefix: Arc<TablePrefix>,
}

/// The table name prefix of a wiki database.
pub type TablePrefix = dyn Fn(&str) -> String + Send + Sync;

/// Turns transactions into entity change records.
pub struct EntityEncoder {
    config: EntityConfig,
    topics: [Arc<str>; 4],
    warned: HashSet<(String, String, &'static str)>,
}

impl EntityEncoder {
    /// An encoder with the given settings.
    pub fn new(config: EntityConfig) -> Self {
        let topics =
            Entity::ALL.map(|e| Arc::from(config.topic.render(&config.topic_prefix, e).as_str()));
        Self {
            config,
            topics,
            warned: HashSet::new(),
        }
    }

    /// The topic of each entity kind.
    pub fn topics(&self) -> impl Iterator<Item = (Entity, &str)> {
        Entity::ALL
            .into_iter()
            .zip(self.topics.iter().map(|t| &**t))
    }

    /// The entity records of a transaction, in binlog order. The transaction's changes are
    /// read once here, and once more as the records are taken.
    pub fn records<'a>(
        &'a mut self,
        txn: &'a Transaction,
    ) -> Result<EntityRecords<'a>, SpillError> {
        let mut known: Vec<(Arc<TableSchema>, Option<fold::table::Table>)> = Vec::new();
        let warned = &mut self.warned;
        let tables = |schema: &Arc<TableSchema>| {
            if let Some((_, t)) = known.iter().find(|(s, _)| Arc::ptr_eq(s, schema)) {
                return *t;
            }
            let prefix = (self.config.table_prefix)(&schema.db);
            let table = match fold::table::table_of(schema, &prefix) {
                Ok(t) => t,
                Err(fold::table::NotFolded::MissingColumn(column)) => {
                    if warned.insert((schema.db.clone(), schema.table.clone(), column)) {
                        warn!(db = %schema.db, table = %schema.table, column, "a MediaWiki table without a column entity changes need: its rows are in the row stream only");
                    }
                    None
                }
                Err(fold::table::NotFolded::Prefixed(name)) => {
                    if warned.insert((schema.db.clone(), schema.table.clone(), name)) {
                        warn!(db = %schema.db, table = %schema.table, "a captured table looks like the MediaWiki table `{name}` with a table prefix ($wgDBprefix) that is not configured: its rows are in the row stream only; set source.table_prefix for this wiki");
                    }
                    None
                }
            };
            known.push((schema.clone(), table));
            table
        };
        let plan = fold::plan(txn, tables, &*self.config.captured)?;
        Ok(EntityRecords {
            topics: &self.topics,
            binary: self.config.binary,
            commit_ts: row::epoch_timestamp(txn.commit_ts),
            plan,
            changes: txn.changes.iter(),
            seq: 0,
            next: 0,
            ready: Default::default(),
            body: Default::default(),
        })
    }
}
