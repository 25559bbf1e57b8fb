//! Row changes encoded as Kafka records: the [`Record`] every encoder produces and every sink
//! delivers, Debezium's change-event envelope ([`RowEncoder`]), the JSON value writer and
//! the topic templates.

#![warn(missing_docs)]

mod envelope;
mod event_parts;
mod json;
mod record;
mod topic;

pub use envelope::{RowEncoder, RowEncoderConfig, RowRecords};
pub use json::{
    binary_json, json_names, write_bytes as write_json_bytes, write_str as write_json_str,
    write_value as write_json_value, BinaryJson, BinaryMode,
};
pub use record::{KeyEncoding, Record, ID_HEADER};
pub use topic::{sanitize_topic_part, TopicTemplate, TopicTemplateError};
