//! Row changes as the pipeline carries them ([`Transaction`], [`RowChange`]) and their
//! encoding as Kafka records in Debezium's change-event envelope ([`RecordEncoder`]).

#![warn(missing_docs)]

mod buffer;
mod change;
mod envelope;
mod event_parts;
mod json;
mod topic;

pub use buffer::{ChangeBuffer, ChangeIter, SpillError, SpillPolicy, TableOpCount};
pub use change::{Op, RowChange, TableSchema, Transaction, XaStep};
pub use envelope::{
    BinaryMode, EncoderConfig, KeyEncoding, Record, RecordEncoder, TransactionRecords, ID_HEADER,
};
pub use json::{
    write_bytes as write_json_bytes, write_str as write_json_str, write_value as write_json_value,
};
pub use topic::{sanitize_topic_part, TopicTemplate, TopicTemplateError};
