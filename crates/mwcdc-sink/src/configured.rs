//! The sink a configuration chooses, as one value that is a [`Sink`].

use std::time::Duration;

use mwcdc_record::Record;

use crate::{KafkaSink, NullSink, Origin, Sent, Sink, SinkError, StdoutSink};

/// One of the sinks (`[sink] type`): the pipeline takes it as it takes any sink.
pub enum ConfiguredSink {
    /// Kafka.
    Kafka(KafkaSink),
    /// One JSON line per record on stdout.
    Stdout(StdoutSink),
    /// Records built and dropped.
    Null(NullSink),
}

impl Sink for ConfiguredSink {
    async fn send(
        &mut self,
        record: Record,
        origin: Origin<'_>,
        ticket: usize,
    ) -> Result<Sent, SinkError> {
        match self {
            ConfiguredSink::Kafka(sink) => sink.send(record, origin, ticket).await,
            ConfiguredSink::Stdout(sink) => sink.send(record, origin, ticket).await,
            ConfiguredSink::Null(sink) => sink.send(record, origin, ticket).await,
        }
    }

    async fn flush(&mut self, timeout: Duration) -> Result<(), SinkError> {
        match self {
            ConfiguredSink::Kafka(sink) => sink.flush(timeout).await,
            ConfiguredSink::Stdout(sink) => sink.flush(timeout).await,
            ConfiguredSink::Null(sink) => sink.flush(timeout).await,
        }
    }

    fn transactional(&self) -> bool {
        matches!(self, ConfiguredSink::Kafka(sink) if sink.transactional())
    }

    async fn commit(&mut self) -> Result<(), SinkError> {
        match self {
            ConfiguredSink::Kafka(sink) => sink.commit().await,
            ConfiguredSink::Stdout(_) | ConfiguredSink::Null(_) => Ok(()),
        }
    }

    async fn abort(&mut self) -> Result<(), SinkError> {
        match self {
            ConfiguredSink::Kafka(sink) => sink.abort().await,
            ConfiguredSink::Stdout(_) | ConfiguredSink::Null(_) => Ok(()),
        }
    }
}
