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

#![warn(missing_docs)]

mod configured;
mod headers;
mod kafka;
mod metrics;
mod null;
mod oversize;
mod partition;
mod stdout;
#[cfg(test)]
mod test_record;
mod written;

use std::time::Duration;

use mwcdc_record::Record;
use thiserror::Error;
use tokio::sync::mpsc;

pub use configured::ConfiguredSink;
pub use headers::{INDEX_HEADER, POSITION_HEADER};
pub use kafka::{KafkaSink, KafkaSinkConfig, TopicHealth};
pub use metrics::{DELIVERY_ERRORS, NULL_BYTES_DROPPED, NULL_RECORDS_DROPPED, OVERSIZE_SKIPPED};
pub use null::NullSink;
pub use oversize::marker as oversize_marker;
pub use partition::{murmur2, partition_for};
pub use stdout::StdoutSink;

use mwcdc_position::Position;
use serde::Deserialize;

/// Where a record comes from: what a replay compares to recognise it.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The position after the record's transaction (what a checkpoint after it holds).
    pub position: &'a Position,
    /// The same position as text, as the header carries it.
    pub position_text: &'a str,
    /// The record's index among its transaction's records.
    pub index: u32,
}

/// What [`Sink::send`] did with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Handed to the client; its acknowledgement follows.
    Queued,
    /// Already in its partition (exactly-once replay): nothing is sent or acknowledged.
    AlreadyWritten,
}

/// The delivery guarantee (`[sink] delivery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Delivery {
    /// Every change at least once; a restart may write some records again.
    #[default]
    AtLeastOnce,
    /// Every change exactly once: a restart skips what the partitions already hold.
    ExactlyOnce,
}

/// What happens to a record larger than the producer may send (`[sink] oversize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Oversize {
    /// Stop with an error that names the row, before the checkpoint passes it.
    #[default]
    Fail,
    /// Write a small marker record in its place and count it.
    Skip,
}

/// The outcome of one record's delivery.
#[derive(Debug)]
pub struct Ack {
    /// The ticket the record was sent with.
    pub ticket: usize,
    /// `Err` when the record was not delivered and will not be.
    pub result: Result<(), SinkError>,
}

/// Sender half of the acknowledgement channel.
pub type AckSender = mpsc::UnboundedSender<Ack>;

/// Acknowledges `ticket` at once, for sinks whose records are done when handed over.
fn delivered_now(acks: &AckSender, ticket: usize) -> Sent {
    // The receiver is gone only when the pipeline is shutting down.
    let _ = acks.send(Ack {
        ticket,
        result: Ok(()),
    });
    Sent::Queued
}

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
    Written {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// What went wrong, and what to do.
        message: String,
    },
    /// Writing to stdout failed.
    #[error("writing to stdout failed: {0}")]
    Io(#[from] std::io::Error),
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

/// A destination for records.
pub trait Sink: Send {
    /// Hands a record over; its delivery is reported later on the acknowledgement channel,
    /// unless it is [`Sent::AlreadyWritten`]. Blocks (asynchronously) while the client's own
    /// queue is full.
    fn send(
        &mut self,
        record: Record,
        origin: Origin<'_>,
        ticket: usize,
    ) -> impl std::future::Future<Output = Result<Sent, SinkError>> + Send;

    /// Waits until every record handed over is acknowledged, up to `timeout`.
    fn flush(
        &mut self,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Result<(), SinkError>> + Send;
}
