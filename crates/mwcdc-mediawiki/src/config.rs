//! The entity encoder's settings.

use std::sync::Arc;

use mwcdc_record::BinaryMode;

use crate::topic::EntityTopicTemplate;

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
