//! Row changes as the pipeline carries them ([`Transaction`], [`RowChange`]) and their
//! encoding as Kafka records in Debezium's change-event envelope ([`RecordEncoder`]).

#![warn(missing_docs)]

mod change;
mod envelope;
mod json;
mod topic;

pub use change::{Op, RowChange, TableSchema, Transaction, XaStep};
pub use envelope::{
    BinaryMode, EncoderConfig, Record, RecordEncoder, TransactionRecords, ID_HEADER,
};
pub use topic::{sanitize_topic_part, TopicTemplate, TopicTemplateError};
