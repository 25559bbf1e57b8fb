//! The entity encoder: a transaction's entity change records, by the two passes over it.

use std::collections::HashSet;
use std::sync::Arc;

use mwcdc_change::{SpillError, TableSchema, Transaction};
use tracing::warn;

use crate::config::EntityConfig;
use crate::encode::EntityRecords;
use crate::entity::Entity;
use crate::fold;
use crate::fold::table::{table_of, NotFolded, Table};

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
        let mut known: Vec<(Arc<TableSchema>, Option<Table>)> = Vec::new();
        let warned = &mut self.warned;
        let tables = |schema: &Arc<TableSchema>| {
            if let Some((_, t)) = known.iter().find(|(s, _)| Arc::ptr_eq(s, schema)) {
                return *t;
            }
            let prefix = (self.config.table_prefix)(&schema.db);
            let table = match table_of(schema, &prefix) {
                Ok(t) => t,
                Err(NotFolded::MissingColumn(column)) => {
                    if warned.insert((schema.db.clone(), schema.table.clone(), column)) {
                        warn!(db = %schema.db, table = %schema.table, column, "a MediaWiki table without a column entity changes need: its rows are in the row stream only");
                    }
                    None
                }
                Err(NotFolded::Prefixed(name)) => {
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
        Ok(EntityRecords::new(
            &self.topics,
            self.config.binary,
            txn,
            plan,
        ))
    }
}
