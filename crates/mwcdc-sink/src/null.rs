//! The null sink (`[sink] type = "null"`): every record is built as for Kafka, its headers
//! included, then dropped and counted. For dry runs, and for measuring everything but the
//! network.

use std::time::Duration;

use mwcdc_record::Record;

use crate::ack::delivered_now;
use crate::headers::message_bytes;
use crate::metrics::{NULL_BYTES_DROPPED, NULL_RECORDS_DROPPED};
use crate::{AckSender, Origin, Sent, Sink, SinkError};

/// Drops records and acknowledges each at once.
pub struct NullSink {
    acks: AckSender,
    records: u64,
    bytes: u64,
}

impl NullSink {
    /// A sink that reports acknowledgements on `acks`.
    pub fn new(acks: AckSender) -> Self {
        Self {
            acks,
            records: 0,
            bytes: 0,
        }
    }

    /// Records dropped so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Bytes dropped so far: keys, values and headers, as Kafka would have been given them.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Sink for NullSink {
    async fn send(
        &mut self,
        record: Record,
        origin: Origin<'_>,
        ticket: usize,
    ) -> Result<Sent, SinkError> {
        let bytes = message_bytes(&record, &origin) as u64;
        self.records += 1;
        self.bytes += bytes;
        NULL_RECORDS_DROPPED.inc();
        NULL_BYTES_DROPPED.inc_by(bytes);
        Ok(delivered_now(&self.acks, ticket))
    }

    async fn flush(&mut self, _timeout: Duration) -> Result<(), SinkError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_record;

    #[tokio::test]
    async fn drops_counts_and_acknowledges() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut sink = NullSink::new(tx);
        let record = test_record::record("t", Some(br#"{"op":"c"}"#), "0-1-2/0/0");
        let position = test_record::position();
        let origin = test_record::origin(&position, 12);
        assert_eq!(sink.send(record, origin, 7).await.unwrap(), Sent::Queued);
        assert_eq!(rx.recv().await.map(|a| a.ticket), Some(7));
        assert_eq!(sink.records(), 1);
        // key 8 + value 10 + "mwcdc.id" 8 + 9 + "mwcdc.position" 14 + 5 + "mwcdc.index" 11 + 2
        assert_eq!(sink.bytes(), 8 + 10 + 8 + 9 + 14 + 5 + 11 + 2);
    }
}
