//! The Kafka sink: librdkafka's idempotent producer with `acks=all`, deliveries reported
//! from its delivery callback. Every record carries the headers `mwcdc.id`,
//! `mwcdc.position` and `mwcdc.index`; in both exactly-once modes the sink also sets each
//! record's partition and skips, during a replay, the records a partition already holds; in
//! transactional mode its records go in Kafka transactions that the pipeline commits.

use std::collections::BTreeMap;
use std::time::Duration;

use mwcdc_record::{Record, ID_HEADER};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::metadata::Metadata;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext};
use tracing::{debug, error, info, warn};

use crate::headers::{message_bytes, with_headers};
use crate::metrics::{count_delivery_error, OVERSIZE_SKIPPED};
use crate::oversize::{key_text, marker};
use crate::partition_ends::{Isolation, PartitionEnds, Placement};
use crate::transaction::{is_fenced, transactional_id, Transactions};
use crate::{
    Ack, AckSender, Delivery, JobPlace, Origin, Oversize, Sent, Sink, SinkError, TooLargeRecord,
};

/// librdkafka's default `message.max.bytes`.
const DEFAULT_MESSAGE_MAX_BYTES: usize = 1_000_000;

/// How long reading a partition's end may take in exactly-once mode.
const END_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// mwcdc's `transaction.timeout.ms` in transactional mode: 5 minutes, what the longest
/// transaction may take from its first record to its commit before the broker aborts it
/// (at most the broker's `transaction.max.timeout.ms`, 15 minutes by default).
pub const DEFAULT_TRANSACTION_TIMEOUT_MS: u64 = 300_000;

/// Settings of the Kafka sink.
#[derive(Debug, Clone)]
pub struct KafkaSinkConfig {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// librdkafka properties, passed as they are (they override the defaults below).
    pub properties: BTreeMap<String, String>,
    /// The delivery guarantee.
    pub delivery: Delivery,
    /// What to do with a record larger than `message.max.bytes`.
    pub oversize: Oversize,
    /// The connector's name: the `transactional.id` derives from it.
    pub name: String,
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
            // A record for a topic the brokers have not created yet (auto-creation, while
            // they are away) is failed as "unknown topic" after this long, whatever
            // message.timeout.ms says: 30 minutes, not 30 s, so that an outage of the
            // brokers does not fail it. (librdkafka 2.12 multiplies the value by 1000 in a
            // 32-bit int: above 2,147,483 it overflows and fails every new topic at once.)
            ("topic.metadata.propagation.max.ms", "1800000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        match self.delivery {
            Delivery::AtLeastOnce => {}
            // A batch that fails for good stops the producer instead of leaving a gap that
            // a later record of the partition would hide from the next run.
            Delivery::ExactlyOnce => {
                props.insert("enable.gapless.guarantee".into(), "true".into());
            }
            // librdkafka needs message.timeout.ms <= transaction.timeout.ms: a record is
            // retried for as long as its transaction may stay open.
            Delivery::Transactional => {
                let timeout = self.transaction_timeout_ms().to_string();
                props.insert("transactional.id".into(), transactional_id(&self.name));
                props.insert("transaction.timeout.ms".into(), timeout.clone());
                props.insert("message.timeout.ms".into(), timeout);
            }
        }
        props.extend(self.properties.clone());
        props
    }

    /// The `transaction.timeout.ms` of transactional mode.
    fn transaction_timeout_ms(&self) -> u64 {
        self.properties
            .get("transaction.timeout.ms")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_TRANSACTION_TIMEOUT_MS)
    }

    /// Properties that exactly-once delivery needs with the values it needs, which the
    /// user's properties must not change: `(property, required value, why)`. Transactional
    /// delivery needs the first two.
    pub const EXACTLY_ONCE_REQUIRES: [(&'static str, &'static str, &'static str); 4] = [
        (
            "enable.idempotence",
            "true",
            "each partition must be an ordered, gap-free prefix of what was sent",
        ),
        (
            "acks",
            "all",
            "a record acknowledged by one broker only can be lost",
        ),
        (
            "message.timeout.ms",
            "0",
            "a record given up after a timeout leaves a gap that a later record hides",
        ),
        (
            "enable.gapless.guarantee",
            "true",
            "a batch that fails for good must stop the producer",
        ),
    ];

    /// The first user property that conflicts with the delivery mode: its name and what is
    /// wrong with it.
    pub fn delivery_conflict(&self) -> Option<(String, String)> {
        if self.properties.contains_key("transactional.id") {
            return Some((
                "transactional.id".into(),
                "must not be set: transactional delivery derives it from the connector's name \
                 (\"mwcdc-<name>\"), and the other modes produce without transactions"
                    .into(),
            ));
        }
        let required = match self.delivery {
            Delivery::AtLeastOnce => return None,
            Delivery::ExactlyOnce => &Self::EXACTLY_ONCE_REQUIRES[..],
            Delivery::Transactional => &Self::EXACTLY_ONCE_REQUIRES[..2],
        };
        let mode = match self.delivery {
            Delivery::ExactlyOnce => "exactly-once",
            _ => "transactional",
        };
        let conflict = required.iter().find_map(|&(name, needed, why)| {
            let value = self.properties.get(name)?;
            let same =
                value.eq_ignore_ascii_case(needed) || (name == "acks" && value.trim() == "-1");
            (!same).then(|| {
                let message =
                    format!("must be {needed} (or left unset) with delivery = \"{mode}\": {why}");
                (name.to_string(), message)
            })
        });
        conflict.or_else(|| self.transaction_timeout_conflict())
    }

    /// In transactional mode, a `message.timeout.ms` that librdkafka would refuse.
    fn transaction_timeout_conflict(&self) -> Option<(String, String)> {
        if self.delivery != Delivery::Transactional {
            return None;
        }
        let limit = self.transaction_timeout_ms();
        let value = self.properties.get("message.timeout.ms")?;
        let ok = value
            .trim()
            .parse::<u64>()
            .is_ok_and(|ms| ms > 0 && ms <= limit);
        (!ok).then(|| {
            (
                "message.timeout.ms".into(),
                format!(
                    "must be between 1 and transaction.timeout.ms ({limit}) with delivery = \
                     \"transactional\", or left unset (it then equals transaction.timeout.ms)"
                ),
            )
        })
    }

    /// The producer's `message.max.bytes`.
    fn message_max_bytes(&self) -> usize {
        self.properties
            .get("message.max.bytes")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_MESSAGE_MAX_BYTES)
    }
}

/// Routes librdkafka's logs to `tracing` and its deliveries to the acknowledgement channel.
struct AckContext {
    acks: AckSender,
    /// Transactional mode: the producer's `transactional.id`, named when it is fenced.
    transactional_id: Option<String>,
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
        count_delivery_error(&error);
        warn!(target: "librdkafka", %error, "{reason}");
    }
}

impl ProducerContext for AckContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, ticket: usize) {
        let result = match result {
            Ok(_) => Ok(()),
            Err((e, msg)) => Err({
                count_delivery_error(e);
                SinkError::Delivery {
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
                    message: match &self.transactional_id {
                        Some(id) if e.rdkafka_error_code().is_some_and(is_fenced) => {
                            format!("{e}: another instance with transactional.id {id} took over")
                        }
                        _ => e.to_string(),
                    },
                }
            }),
        };
        // The receiver is gone only when the pipeline is shutting down.
        let _ = self.acks.send(Ack { ticket, result });
    }
}

/// Produces records to Kafka.
pub struct KafkaSink {
    producer: ThreadedProducer<AckContext>,
    oversize: Oversize,
    limit: usize,
    /// Both exactly-once modes: what the partitions already hold (boxed: the sink's other
    /// modes need none of its room).
    partition_ends: Option<Box<PartitionEnds>>,
    /// Transactional mode: the open Kafka transaction.
    transactions: Option<Transactions>,
}

impl KafkaSink {
    /// Creates the producer. Fails on an invalid property.
    pub fn new(config: &KafkaSinkConfig, acks: AckSender) -> Result<Self, SinkError> {
        let mut client = ClientConfig::new();
        for (k, v) in config.client_properties() {
            client.set(k, v);
        }
        let transactional_id =
            (config.delivery == Delivery::Transactional).then(|| transactional_id(&config.name));
        let context = AckContext {
            acks,
            transactional_id: transactional_id.clone(),
        };
        let producer = client
            .create_with_context(context)
            .map_err(|e| SinkError::Setup {
                sink: "kafka",
                message: e.to_string(),
            })?;
        let isolation = match config.delivery {
            Delivery::AtLeastOnce => None,
            Delivery::ExactlyOnce => Some(Isolation::ReadUncommitted),
            // Only committed transactions count: an aborted one is written again.
            Delivery::Transactional => Some(Isolation::ReadCommitted),
        };
        let partition_ends = match isolation {
            None => None,
            Some(isolation) => {
                let mut reader = ClientConfig::new();
                // The connection settings (security included), not the producer's own.
                for (k, v) in config.client_properties() {
                    if !is_producer_only(&k) {
                        reader.set(k, v);
                    }
                }
                Some(Box::new(PartitionEnds::new(
                    &reader,
                    END_READ_TIMEOUT,
                    isolation,
                )?))
            }
        };
        Ok(Self {
            producer,
            oversize: config.oversize,
            limit: config.message_max_bytes(),
            partition_ends,
            transactions: transactional_id.map(Transactions::new),
        })
    }

    /// Transactional mode: registers the `transactional.id`, which fences a previous
    /// instance and aborts its open transaction; must come before the first record (whose
    /// topic's partition ends are read only then, once that transaction is resolved).
    /// Nothing to do in the other modes.
    pub fn init_transactions(&self) -> Result<(), SinkError> {
        match &self.transactions {
            Some(t) => {
                t.init(&self.producer)?;
                info!(transactional_id = t.id(), "Kafka transactions initialised: a previous instance with this transactional.id is fenced");
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Checks that the brokers answer, within `timeout`.
    pub fn check_connection(&self, timeout: Duration) -> Result<(), SinkError> {
        self.metadata(timeout).map(|_| ())
    }

    /// The brokers' metadata of every topic, asked for within `timeout`.
    fn metadata(&self, timeout: Duration) -> Result<Metadata, SinkError> {
        self.producer
            .client()
            .fetch_metadata(None, timeout)
            .map_err(|e| SinkError::Setup {
                sink: "kafka",
                message: format!("the brokers did not answer a metadata request: {e}"),
            })
    }
}

/// What the brokers' metadata says about one topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicHealth {
    /// Its partitions.
    pub partitions: usize,
    /// Partitions without a leader, or reported with an error.
    pub unavailable: usize,
}

impl KafkaSink {
    /// Every topic the brokers list, with its partitions. Asking for all topics at once
    /// never creates one (asking for a missing topic by name can, with auto-creation).
    pub fn topics(&self, timeout: Duration) -> Result<BTreeMap<String, TopicHealth>, SinkError> {
        Ok(self
            .metadata(timeout)?
            .topics()
            .iter()
            .map(|t| {
                let unavailable = t
                    .partitions()
                    .iter()
                    .filter(|p| p.leader() < 0 || p.error().is_some())
                    .count();
                let health = TopicHealth {
                    partitions: t.partitions().len(),
                    unavailable,
                };
                (t.name().to_string(), health)
            })
            .collect())
    }
}

/// Properties of the producer that a consumer would warn about.
fn is_producer_only(name: &str) -> bool {
    [
        "enable.idempotence",
        "enable.gapless.guarantee",
        "acks",
        "partitioner",
        "compression.type",
        "linger.ms",
        "queue.buffering.max.messages",
        "message.timeout.ms",
        "transactional.id",
        "transaction.timeout.ms",
    ]
    .contains(&name)
}

impl KafkaSink {
    /// Hands one record to the producer, into `partition` if given.
    async fn produce(
        &self,
        record: &Record,
        origin: &Origin<'_>,
        partition: Option<i32>,
        ticket: usize,
    ) -> Result<(), SinkError> {
        let headers = with_headers(record, origin, |headers| {
            headers.iter().fold(
                OwnedHeaders::new_with_capacity(headers.len()),
                |all, &(key, value)| {
                    all.insert(Header {
                        key,
                        value: Some(value.as_bytes()),
                    })
                },
            )
        });
        let mut base = BaseRecord::with_opaque_to(&record.topic, ticket).headers(headers);
        if let Some(p) = partition {
            base = base.partition(p);
        }
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
                    return Err(SinkError::TooLarge(Box::new(TooLargeRecord {
                        db: record.table.db.clone(),
                        table: record.table.table.clone(),
                        key: key_text(record),
                        topic: record.topic.to_string(),
                        id: record.id.clone(),
                        size: message_bytes(record, origin),
                        limit: self.limit,
                    })))
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
}

impl Sink for KafkaSink {
    async fn send(
        &mut self,
        record: Record,
        origin: Origin<'_>,
        ticket: usize,
    ) -> Result<Sent, SinkError> {
        let mut held = None;
        let partition = match &mut self.partition_ends {
            None => None,
            Some(ends) => {
                let placed = tokio::task::block_in_place(|| {
                    ends.place(
                        self.producer.client(),
                        &record.topic,
                        (record.key.as_deref(), record.key_encoding),
                        &origin,
                    )
                })?;
                match placed {
                    Placement::AlreadyInPartition => return Ok(Sent::AlreadyWritten),
                    Placement::Partition(p) => Some(p),
                    Placement::PartitionAfterRows(p, header) => {
                        held = Some(header);
                        Some(p)
                    }
                }
            }
        };
        let origin = match &held {
            Some(header) => Origin {
                snapshot: Some(JobPlace::Progress(header)),
                ..origin
            },
            None => origin,
        };
        if let Some(transactions) = &mut self.transactions {
            transactions.begin(&self.producer)?;
        }
        match self.produce(&record, &origin, partition, ticket).await {
            Err(SinkError::TooLarge(too_large)) if self.oversize == Oversize::Skip => {
                let TooLargeRecord { size, limit, .. } = *too_large;
                OVERSIZE_SKIPPED.inc();
                warn!(db = %record.table.db, table = %record.table.table, key = %key_text(&record), id = %record.id, size, limit, skipped = OVERSIZE_SKIPPED.get(), "a record larger than message.max.bytes was replaced by an oversize marker");
                self.produce(&marker(&record, size, limit), &origin, partition, ticket)
                    .await?;
                Ok(Sent::Queued)
            }
            result => result.map(|()| Sent::Queued),
        }
    }

    async fn flush(&mut self, timeout: Duration) -> Result<(), SinkError> {
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || producer.flush(timeout))
            .await
            .map_err(|e| SinkError::Internal(format!("the Kafka flush task failed: {e}")))?
            .map_err(|_| SinkError::FlushTimeout(self.producer.in_flight_count().max(0) as usize))
    }

    fn transactional(&self) -> bool {
        self.transactions.is_some()
    }

    async fn commit(&mut self) -> Result<(), SinkError> {
        match &mut self.transactions {
            Some(t) => tokio::task::block_in_place(|| t.commit(&self.producer)),
            None => Ok(()),
        }
    }

    async fn abort(&mut self) -> Result<(), SinkError> {
        match &mut self.transactions {
            Some(t) => tokio::task::block_in_place(|| t.abort(&self.producer)),
            None => Ok(()),
        }
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
            delivery: Delivery::AtLeastOnce,
            oversize: Oversize::Fail,
            name: "c".into(),
        };
        let props = config.client_properties();
        assert_eq!(props["compression.type"], "lz4");
        assert_eq!(props["enable.idempotence"], "true");
        assert_eq!(props["acks"], "all");
        assert_eq!(props["partitioner"], "murmur2_random");
        assert_eq!(props["bootstrap.servers"], "127.0.0.1:9092");
        assert_eq!(props["message.timeout.ms"], "0");
        assert!(!props.contains_key("enable.gapless.guarantee"));
        assert!(!props.contains_key("transactional.id"));
        assert_eq!(config.delivery_conflict(), None);
    }

    fn configured(delivery: Delivery, properties: &[(&str, &str)]) -> KafkaSinkConfig {
        KafkaSinkConfig {
            brokers: "127.0.0.1:9092".into(),
            properties: properties
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            delivery,
            oversize: Oversize::Fail,
            name: "enwiki".into(),
        }
    }

    #[test]
    fn transactional_mode_derives_its_id_and_bounds_message_timeouts_by_the_transactions() {
        let props = configured(Delivery::Transactional, &[]).client_properties();
        assert_eq!(props["transactional.id"], "mwcdc-enwiki");
        assert_eq!(props["transaction.timeout.ms"], "300000");
        assert_eq!(props["message.timeout.ms"], "300000");
        assert!(!props.contains_key("enable.gapless.guarantee"));
        let longer = [("transaction.timeout.ms", "600000")];
        let props = configured(Delivery::Transactional, &longer).client_properties();
        assert_eq!(props["message.timeout.ms"], "600000");
        let conflict = |delivery, props: &[(&str, &str)]| {
            configured(delivery, props).delivery_conflict().map(|c| c.0)
        };
        assert_eq!(conflict(Delivery::Transactional, &longer), None);
        for props in [
            [("message.timeout.ms", "0")],
            [("message.timeout.ms", "300001")],
            [("acks", "1")],
            [("enable.idempotence", "false")],
        ] {
            assert_eq!(
                conflict(Delivery::Transactional, &props),
                Some(props[0].0.to_string()),
                "{props:?}"
            );
        }
        assert_eq!(
            conflict(
                Delivery::Transactional,
                &[("enable.gapless.guarantee", "false")]
            ),
            None
        );
        for delivery in [Delivery::AtLeastOnce, Delivery::Transactional] {
            assert_eq!(
                conflict(delivery, &[("transactional.id", "mine")]),
                Some("transactional.id".to_string())
            );
        }
    }

    #[test]
    fn exactly_once_refuses_properties_that_could_leave_gaps() {
        let with = |k: &str, v: &str| configured(Delivery::ExactlyOnce, &[(k, v)]);
        assert_eq!(
            with("linger.ms", "1").client_properties()["enable.gapless.guarantee"],
            "true"
        );
        assert_eq!(with("acks", "-1").delivery_conflict(), None);
        for (k, v) in [
            ("acks", "1"),
            ("enable.idempotence", "false"),
            ("message.timeout.ms", "30000"),
            ("enable.gapless.guarantee", "false"),
        ] {
            let conflict = with(k, v).delivery_conflict();
            assert_eq!(conflict.map(|c| c.0), Some(k.to_string()), "{k}={v}");
        }
    }
}
