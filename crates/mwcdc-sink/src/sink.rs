//! What a sink is: the [`Sink`] trait, where a record comes from ([`Origin`]) and what
//! sending did ([`Sent`]).

use std::time::Duration;

use mwcdc_position::Position;
use mwcdc_record::Record;

use crate::error::SinkError;
use crate::JobPlace;

/// Where a record comes from: what a replay compares to recognise it.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The position after the record's transaction (what a checkpoint after it holds).
    pub position: &'a Position,
    /// The same position as text, as the header carries it.
    pub position_text: &'a str,
    /// The record's index among its transaction's records.
    pub index: u32,
    /// Its place in a snapshot job, while one runs (the `mwcdc.snapshot` header).
    pub snapshot: Option<JobPlace<'a>>,
}

/// What [`Sink::send`] did with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Handed to the client; its acknowledgement follows.
    Queued,
    /// Already in its partition (exactly-once replay): nothing is sent or acknowledged.
    AlreadyWritten,
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

    /// Whether records are final only once [`Sink::commit`] returns (Kafka transactions):
    /// the pipeline then lets the checkpoint cover a transaction only after a commit.
    fn transactional(&self) -> bool {
        false
    }

    /// Makes every record sent since the last commit final (commits the Kafka transaction).
    /// Called only between transactions; nothing to do for sinks that are not transactional.
    fn commit(&mut self) -> impl std::future::Future<Output = Result<(), SinkError>> + Send {
        async { Ok(()) }
    }

    /// Drops every record sent since the last commit (aborts the Kafka transaction), at a stop
    /// inside a transaction or after an error; nothing to do for other sinks.
    fn abort(&mut self) -> impl std::future::Future<Output = Result<(), SinkError>> + Send {
        async { Ok(()) }
    }
}
