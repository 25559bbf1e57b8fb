//! Acknowledgements: how a sink reports each record's delivery to the pipeline.

use tokio::sync::mpsc;

use crate::error::SinkError;
use crate::sink::Sent;

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
pub(crate) fn delivered_now(acks: &AckSender, ticket: usize) -> Sent {
    // The receiver is gone only when the pipeline is shutting down.
    let _ = acks.send(Ack {
        ticket,
        result: Ok(()),
    });
    Sent::Queued
}
