//! The Kafka sink: librdkafka's idempotent producer with `acks=all`, deliveries reported
//! from its delivery callback.

use std::collections::BTreeMap;
use std::time::Duration;

use mwcdc_record::{Record, ID_HEADER};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext};
use tracing::{debug, error, info, warn};

use crate::{Ack, AckSender, Sink, SinkError};

/// Settings of the Kafka sink.
#[derive(Debug, Clone)]
pub struct KafkaSinkConfig {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// librdkafka properties, passed as they are (they override the defaults below).
    pub properties: BTreeMap<String, String>,
}

impl KafkaSinkConfig {
    /// The properties the producer is created with: mwcdc's defaults, then the user's.
    pub fn client_properties(&self) -> BTreeMap<String, String> {
        let mut props: BTreeMap<String, String> = [
            ("bootstrap.servers", self.brokers.as_str()),
            ("enable.idempotence", "true"),
            ("acks", "all"),
            // The partitioner of the Java client, so keys land where Kafka Streams expects.
            ("partitioner", "murmur2_random"),
            ("compression.type", "zstd"),
            ("linger.ms", "5"),
            ("queue.buffering.max.messages", "1000000"),
            // Retry deliveries for as long as Kafka is away: reading pauses at the in-flight
            // limit meanwhile, and nothing is given up. A finite value makes a longer outage
            // stop the connector (its checkpoint stays before the undelivered records).
            ("message.timeout.ms", "0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        props.extend(self.properties.clone());
        props
    }
}

/// Routes librdkafka's logs to `tracing` and its deliveries to the acknowledgement channel.
struct AckContext {
    acks: AckSender,
}

impl ClientContext for AckContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => error!(target: "librdkafka", fac, "{message}"),
            RDKafkaLogLevel::Warning => warn!(target: "librdkafka", fac, "{message}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                info!(target: "librdkafka", fac, "{message}")
            }
            RDKafkaLogLevel::Debug => debug!(target: "librdkafka", fac, "{message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        warn!(target: "librdkafka", %error, "{reason}");
    }
}

impl ProducerContext for AckContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, ticket: usize) {
        let result = match result {
            Ok(_) => Ok(()),
            Err((e, msg)) => Err(SinkError::Delivery {
                topic: msg.topic().to_string(),
                id: msg
                    .headers()
                    .and_then(|h| {
                        use rdkafka::message::Headers;
                        h.iter()
                            .find(|h| h.key == ID_HEADER)
                            .and_then(|h| h.value)
                            .map(|v| String::from_utf8_lossy(v).into_owned())
                    })
                    .unwrap_or_default(),
                message: e.to_string(),
            }),
        };
        // The receiver is gone only when the pipeline is shutting down.
        let _ = self.acks.send(Ack { ticket, result });
    }
}

/// Produces records to Kafka.
pub struct KafkaSink {
    producer: ThreadedProducer<AckContext>,
}

impl KafkaSink {
    /// Creates the producer. Fails on an invalid property.
    pub fn new(config: &KafkaSinkConfig, acks: AckSender) -> Result<Self, SinkError> {
        let mut client = ClientConfig::new();
        for (k, v) in config.client_properties() {
            client.set(k, v);
        }
        let producer = client
            .create_with_context(AckContext { acks })
            .map_err(|e| SinkError::Setup {
                sink: "kafka",
                message: e.to_string(),
            })?;
        Ok(Self { producer })
    }

    /// Checks that the brokers answer, within `timeout`.
    pub fn check_connection(&self, timeout: Duration) -> Result<(), SinkError> {
        self.producer
            .client()
            .fetch_metadata(None, timeout)
            .map(|_| ())
            .map_err(|e| SinkError::Setup {
                sink: "kafka",
                message: format!("the brokers did not answer a metadata request: {e}"),
            })
    }
}

impl Sink for KafkaSink {
    async fn send(&mut self, record: Record, ticket: usize) -> Result<(), SinkError> {
        let headers = OwnedHeaders::new().insert(Header {
            key: ID_HEADER,
            value: Some(record.id.as_bytes()),
        });
        let mut base = BaseRecord::with_opaque_to(&record.topic, ticket).headers(headers);
        if let Some(key) = &record.key {
            base = base.key(key.as_slice());
        }
        if let Some(value) = &record.value {
            base = base.payload(value.as_slice());
        }
        loop {
            match self.producer.send(base) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    base = back;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge), _)) => {
                    return Err(SinkError::TooLarge {
                        topic: record.topic.to_string(),
                        id: record.id.clone(),
                        size: record.key.as_ref().map_or(0, Vec::len)
                            + record.value.as_ref().map_or(0, Vec::len),
                    })
                }
                Err((e, _)) => {
                    return Err(SinkError::Delivery {
                        topic: record.topic.to_string(),
                        id: record.id.clone(),
                        message: e.to_string(),
                    })
                }
            }
        }
    }

    async fn flush(&mut self, timeout: Duration) -> Result<(), SinkError> {
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || producer.flush(timeout))
            .await
            .map_err(|e| SinkError::Setup {
                sink: "kafka",
                message: e.to_string(),
            })?
            .map_err(|_| SinkError::FlushTimeout(self.producer.in_flight_count().max(0) as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_properties_override_defaults() {
        let config = KafkaSinkConfig {
            brokers: "127.0.0.1:9092".into(),
            properties: [("compression.type".to_string(), "lz4".to_string())].into(),
        };
        let props = config.client_properties();
        assert_eq!(props["compression.type"], "lz4");
        assert_eq!(props["enable.idempotence"], "true");
        assert_eq!(props["acks"], "all");
        assert_eq!(props["partitioner"], "murmur2_random");
        assert_eq!(props["bootstrap.servers"], "127.0.0.1:9092");
        assert_eq!(props["message.timeout.ms"], "0");
    }
}
