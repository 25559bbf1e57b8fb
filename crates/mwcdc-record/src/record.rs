//! The Kafka record: what every encoder produces and every sink delivers.

use std::sync::Arc;

use mwcdc_change::TableSchema;

/// How a record's key bytes are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEncoding {
    /// A JSON document (row change records).
    Json,
    /// UTF-8 text (entity change records: `<wiki>:<entity id>`).
    Text,
}

/// One Kafka record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Destination topic.
    pub topic: Arc<str>,
    /// Key bytes, `None` for a table without a key.
    pub key: Option<Vec<u8>>,
    /// What the key bytes are.
    pub key_encoding: KeyEncoding,
    /// Value bytes (JSON), `None` for a tombstone.
    pub value: Option<Vec<u8>>,
    /// The `mwcdc.id` header.
    pub id: String,
    /// The table of the row the record comes from (for an entity record, the row that holds
    /// the entity's new state): named in errors about the record.
    pub table: Arc<TableSchema>,
    /// For a record of a row a snapshot read, the row's key as a JSON array in the snapshot
    /// cursor's encoding ([`mwcdc_change::cursor`]): what an exactly-once replay orders it by.
    pub snapshot_key: Option<String>,
}

/// The header that carries a record's deterministic id.
pub const ID_HEADER: &str = "mwcdc.id";
