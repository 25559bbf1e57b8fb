//! Sinks: where encoded records go, and how their deliveries are acknowledged.
//!
//! A sink takes each record with a *ticket* (the pipeline's number for the unit the record
//! belongs to) and later reports the ticket's delivery on the acknowledgement channel. The
//! pipeline moves the checkpoint only over units whose every record was acknowledged.
//!
//! Every record goes with its [`Origin`]: the position after its transaction and its place
//! among that transaction's records. The Kafka sink writes both as headers, and in
//! exactly-once mode compares them with the last record of each partition to skip, during a
//! replay, what is already written (see `docs/adr/0005-exactly-once-without-broker-transactions.md`).
//! In transactional mode the records go in Kafka transactions, which the pipeline commits
//! between binlog transactions ([`Sink::commit`]); the partition ends are then read
//! `read_committed` (see `docs/adr/0007-transactional-delivery.md`).

#![warn(missing_docs)]

mod ack;
mod configured;
mod error;
mod headers;
mod job_place;
mod kafka;
mod metrics;
mod null;
mod options;
mod oversize;
mod partition;
mod partition_ends;
mod sink;
mod stdout;
#[cfg(test)]
mod test_record;
mod transaction;

pub use ack::{Ack, AckSender};
pub use configured::ConfiguredSink;
pub use error::{SinkError, TooLargeRecord};
pub use headers::{INDEX_HEADER, POSITION_HEADER, SNAPSHOT_HEADER};
pub use job_place::{JobPlace, JobProgress, Mark};
pub use kafka::{KafkaSink, KafkaSinkConfig, TopicHealth};
pub use metrics::{
    DELIVERY_ERRORS, NULL_BYTES_DROPPED, NULL_RECORDS_DROPPED, OVERSIZE_SKIPPED,
    TRANSACTIONS_ABORTED, TRANSACTIONS_COMMITTED, TRANSACTION_COMMIT_SECONDS,
};
pub use null::NullSink;
pub use options::{Delivery, Oversize};
pub use oversize::marker as oversize_marker;
pub use partition::{murmur2, partition_for};
pub use sink::{Origin, Sent, Sink};
pub use stdout::StdoutSink;
pub use transaction::transactional_id;
