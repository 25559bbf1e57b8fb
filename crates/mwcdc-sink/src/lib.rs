//! Sinks: where encoded records go, and how their deliveries are acknowledged.
//!
//! A sink takes each record with a *ticket* (the pipeline's number for the unit the record
//! belongs to) and later reports the ticket's delivery on the acknowledgement channel. The
//! pipeline moves the checkpoint only over units whose every record was acknowledged.

#![warn(missing_docs)]

mod kafka;
mod stdout;

use std::time::Duration;

use mwcdc_record::Record;
use thiserror::Error;
use tokio::sync::mpsc;

pub use kafka::{KafkaSink, KafkaSinkConfig};
pub use stdout::StdoutSink;

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
    #[error(
        "record {id} for topic {topic} is {size} bytes, more than the producer's \
         message.max.bytes allows; raise [sink.properties] \"message.max.bytes\" and the \
         topic's max.message.bytes"
    )]
    TooLarge {
        /// Topic.
        topic: String,
        /// The record's `mwcdc.id`.
        id: String,
        /// Key plus value size.
        size: usize,
    },
    /// Writing to stdout failed.
    #[error("writing to stdout failed: {0}")]
    Io(#[from] std::io::Error),
    /// Records were still undelivered when the flush timed out.
    #[error("{0} records were not acknowledged within the flush timeout")]
    FlushTimeout(usize),
}

/// A destination for records.
pub trait Sink: Send {
    /// Hands a record over; its delivery is reported later on the acknowledgement channel.
    /// Blocks (asynchronously) while the client's own queue is full.
    fn send(
        &mut self,
        record: Record,
        ticket: usize,
    ) -> impl std::future::Future<Output = Result<(), SinkError>> + Send;

    /// Waits until every record handed over is acknowledged, up to `timeout`.
    fn flush(
        &mut self,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Result<(), SinkError>> + Send;
}
