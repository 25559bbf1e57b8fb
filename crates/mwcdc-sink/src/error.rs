//! Why a sink failed: its setup, a delivery, a record too large, the exactly-once replay, a
//! Kafka transaction.

use thiserror::Error;

/// Sink failures.
#[derive(Debug, Error)]
pub enum SinkError {
    /// The sink could not be set up (bad property, unreachable broker at start).
    #[error("cannot set up the {sink} sink: {message}")]
    Setup {
        /// Sink type.
        sink: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The broker refused a record or its delivery failed for good.
    #[error("delivery of record {id} to topic {topic} failed: {message}")]
    Delivery {
        /// Topic.
        topic: String,
        /// The record's `mwcdc.id`.
        id: String,
        /// What the client said.
        message: String,
    },
    /// A record is larger than the producer may send.
    #[error(transparent)]
    TooLarge(Box<TooLargeRecord>),
    /// Exactly-once mode cannot tell what a partition already holds.
    #[error("exactly-once delivery: topic {topic} partition {partition}: {message}")]
    ExactlyOnce {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// What went wrong, and what to do.
        message: String,
    },
    /// A topic gets both the row records and the entity records of a snapshot (exactly-once
    /// modes compare a snapshot record by its table and key, which both kinds share).
    #[error(
        "exactly-once delivery: topic {topic} gets both the row records and the entity records \
         of a snapshot, so a replay could not tell which of them a partition holds: set \
         output.topic or output.entity_topic so that no row topic is an entity topic"
    )]
    SharedSnapshotTopic {
        /// Topic.
        topic: String,
    },
    /// Another producer with the same `transactional.id` took over (transactional delivery).
    #[error(
        "another instance with transactional.id {transactional_id} took over (this producer \
         is fenced): this instance stops; run one instance per connector name"
    )]
    Fenced {
        /// The producer's `transactional.id`.
        transactional_id: String,
    },
    /// A Kafka transaction could not be committed (transactional delivery).
    #[error("Kafka transaction of transactional.id {transactional_id}: {message}; its records are not committed and the checkpoint stays before them")]
    Transaction {
        /// The producer's `transactional.id`.
        transactional_id: String,
        /// What went wrong.
        message: String,
    },
    /// Writing to stdout failed.
    #[error("writing to stdout failed: {0}")]
    Io(#[from] std::io::Error),
    /// A task of mwcdc's own failed (panicked or was cancelled): a bug, not a broker problem.
    #[error("internal error: {0}")]
    Internal(String),
    /// Records were still undelivered when the flush timed out.
    #[error("{0} records were not acknowledged within the flush timeout")]
    FlushTimeout(usize),
}

/// A record larger than the producer may send, and the row it comes from.
#[derive(Debug, Error)]
#[error(
    "the record of row {db}.{table} key {key} (id {id}, topic {topic}) is {size} bytes, \
     more than message.max.bytes = {limit}; raise [sink.properties] \"message.max.bytes\" \
     (and the broker's message.max.bytes and the topic's max.message.bytes), or set \
     [sink] oversize = \"skip\" to write a marker record in its place"
)]
pub struct TooLargeRecord {
    /// Database of the row.
    pub db: String,
    /// Table of the row.
    pub table: String,
    /// The record's key as text (`null` for none).
    pub key: String,
    /// Topic.
    pub topic: String,
    /// The record's `mwcdc.id`.
    pub id: String,
    /// Key, value and headers size.
    pub size: usize,
    /// The producer's `message.max.bytes`.
    pub limit: usize,
}
