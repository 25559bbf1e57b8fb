//! The Kafka sink against librdkafka's mock cluster: its partitions agree with librdkafka's
//! partitioner, and in exactly-once mode a replay after a crash writes every record once.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mwcdc_change::TableSchema;
use mwcdc_position::Position;
use mwcdc_record::{KeyEncoding, Record};
use mwcdc_sink::{
    partition_for, Delivery, KafkaSink, KafkaSinkConfig, Origin, Oversize, Sent, Sink,
};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, DefaultProducerContext, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio::sync::mpsc;

const TOPIC: &str = "p.wiki.revision";
const PARTITIONS: i32 = 3;

type Mock = MockCluster<'static, DefaultProducerContext>;

fn sink(mock: &Mock, delivery: Delivery) -> (KafkaSink, mpsc::UnboundedReceiver<mwcdc_sink::Ack>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let config = KafkaSinkConfig {
        brokers: mock.bootstrap_servers(),
        properties: [("linger.ms".to_string(), "0".to_string())].into(),
        delivery,
        oversize: Oversize::Fail,
        name: "exactly-once-test".into(),
    };
    (KafkaSink::new(&config, tx).expect("sink"), rx)
}

/// Transaction `seq`'s records: keys 1 (twice), 2 and one that varies, and one without a key.
fn transaction(seq: u64) -> (Position, Vec<Record>) {
    let table = Arc::new(TableSchema::new(
        "wiki".into(),
        "revision".into(),
        vec!["rev_id".into()],
        vec![0],
    ));
    let keys = [Some(1), Some(2), Some(seq % 7), None, Some(1)];
    let records = keys
        .iter()
        .enumerate()
        .map(|(i, k)| Record {
            topic: TOPIC.into(),
            key: k.map(|k| format!("{{\"rev_id\":{k}}}").into_bytes()),
            key_encoding: KeyEncoding::Json,
            value: Some(b"{}".to_vec()),
            id: format!("0-1-{seq}/0/{i}"),
            table: table.clone(),
            snapshot_key: None,
        })
        .collect();
    let position = Position::parse_any(&format!("0-1-{seq}")).expect("position");
    (position, records)
}

/// One run of an exactly-once sink: sends the records of transactions `seqs`, stopping
/// after `limit` records if given (a crash), and waits for their acknowledgements. Returns
/// how many records were already written.
async fn run(mock: &Mock, seqs: std::ops::RangeInclusive<u64>, limit: Option<usize>) -> usize {
    let (mut sink, mut acks) = sink(mock, Delivery::ExactlyOnce);
    let (mut queued, mut skipped) = (0, 0);
    'all: for seq in seqs {
        let (position, records) = transaction(seq);
        let text = position.to_string();
        for (index, record) in records.into_iter().enumerate() {
            if limit.is_some_and(|l| queued + skipped == l) {
                break 'all;
            }
            let origin = Origin {
                position: &position,
                position_text: &text,
                index: index as u32,
                snapshot: None,
            };
            match sink.send(record, origin, 0).await.expect("send") {
                Sent::Queued => queued += 1,
                Sent::AlreadyWritten => skipped += 1,
            }
        }
    }
    for _ in 0..queued {
        let ack = tokio::time::timeout(Duration::from_secs(20), acks.recv())
            .await
            .expect("acknowledged in time")
            .expect("ack");
        ack.result.expect("delivered");
    }
    skipped
}

/// Every record of the topic: (partition, key, `mwcdc.id`), in partition order.
fn read_all(mock: &Mock, partitions: i32) -> Vec<(i32, Option<Vec<u8>>, String)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", mock.bootstrap_servers())
        .set("group.id", "reader")
        .set("enable.partition.eof", "true")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(TOPIC, p, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let mut ended = HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while ended.len() < partitions as usize && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let id = m
                    .headers()
                    .and_then(|h| h.iter().find(|h| h.key == "mwcdc.id").and_then(|h| h.value))
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .expect("id header");
                out.push((m.partition(), m.key().map(<[u8]>::to_vec), id));
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                ended.insert(p);
            }
            _ => {}
        }
    }
    assert_eq!(ended.len(), partitions as usize, "read to the end in time");
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn records_go_where_librdkafkas_partitioner_puts_them() {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic(TOPIC, PARTITIONS, 1).expect("topic");
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", mock.bootstrap_servers())
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "0")
        .create()
        .expect("producer");
    let keys: Vec<String> = (0..200).map(|n| format!("{{\"rev_id\":{n}}}")).collect();
    for key in &keys {
        let headers = OwnedHeaders::new().insert(Header {
            key: "mwcdc.id",
            value: Some(key.as_bytes()),
        });
        producer
            .send(
                BaseRecord::<[u8], [u8]>::to(TOPIC)
                    .key(key.as_bytes())
                    .payload(b"x")
                    .headers(headers),
            )
            .expect("queued");
    }
    producer.flush(Duration::from_secs(10)).expect("flushed");
    let read = read_all(&mock, PARTITIONS);
    assert_eq!(read.len(), keys.len());
    let mut used = HashSet::new();
    for (partition, key, _) in read {
        let key = key.expect("keyed");
        assert_eq!(
            partition as usize,
            partition_for(Some(&key), PARTITIONS as usize),
            "{}",
            String::from_utf8_lossy(&key)
        );
        used.insert(partition);
    }
    assert_eq!(used.len(), PARTITIONS as usize, "every partition was used");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_after_a_crash_writes_every_record_exactly_once_in_order() {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic(TOPIC, PARTITIONS, 1).expect("topic");
    // A first run writes transactions 1-6 and dies after 17 records, in transaction 4.
    assert_eq!(run(&mock, 1..=6, Some(17)).await, 0);
    // Its checkpoint covered transaction 1: the next run replays from 2 and goes on to 9.
    let skipped = run(&mock, 2..=9, None).await;
    assert_eq!(
        skipped,
        17 - 5,
        "transactions 2, 3 and two records of 4 were there"
    );
    // A run from the very start (a reset checkpoint) finds everything written.
    assert_eq!(run(&mock, 1..=9, None).await, 9 * 5);

    let read = read_all(&mock, PARTITIONS);
    let ids: Vec<&str> = read.iter().map(|(_, _, id)| id.as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no duplicates: {ids:?}");
    assert_eq!(ids.len(), 9 * 5, "nothing lost");
    // Each partition holds its records in production order.
    let mut per_partition: BTreeMap<i32, Vec<(u64, u64)>> = BTreeMap::new();
    for (partition, key, id) in &read {
        let mut parts = id.trim_start_matches("0-1-").split('/');
        let seq: u64 = parts.next().expect("seq").parse().expect("number");
        let index: u64 = parts.nth(1).expect("index").parse().expect("number");
        assert_eq!(
            *partition as usize,
            partition_for(key.as_deref(), PARTITIONS as usize)
        );
        per_partition
            .entry(*partition)
            .or_default()
            .push((seq, index));
    }
    for (partition, order) in per_partition {
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "partition {partition} in order");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partition_ending_with_a_foreign_record_stops_exactly_once_mode() {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic(TOPIC, 1, 1).expect("topic");
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", mock.bootstrap_servers())
        .create()
        .expect("producer");
    producer
        .send(BaseRecord::<[u8], [u8]>::to(TOPIC).key(b"k").payload(b"v"))
        .expect("queued");
    producer.flush(Duration::from_secs(10)).expect("flushed");
    let (mut sink, _acks) = sink(&mock, Delivery::ExactlyOnce);
    let (position, records) = transaction(1);
    let origin = Origin {
        position: &position,
        position_text: "0-1-1",
        index: 0,
        snapshot: None,
    };
    let err = sink
        .send(records[0].clone(), origin, 0)
        .await
        .expect_err("unknown partition contents");
    let message = err.to_string();
    assert!(message.contains("partition 0"), "{message}");
    assert!(message.contains("mwcdc.position"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_topic_that_gets_row_and_entity_records_of_a_snapshot_stops_exactly_once_mode() {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic(TOPIC, 1, 1).expect("topic");
    let (mut sink, _acks) = sink(&mock, Delivery::ExactlyOnce);
    let (position, records) = transaction(1);
    let header = mwcdc_sink::JobPlace::read_header("initial-1", "wiki.revision", "[1]");
    let origin = Origin {
        position: &position,
        position_text: "0-1-1",
        index: 0,
        snapshot: Some(mwcdc_sink::JobPlace::Read(&header)),
    };
    let row = records[0].clone();
    assert_eq!(
        sink.send(row.clone(), origin, 0)
            .await
            .expect("a row record"),
        Sent::Queued
    );
    assert_eq!(
        sink.send(row.clone(), origin, 0)
            .await
            .expect("another one"),
        Sent::Queued
    );
    // The entity record of the same row, in the same topic.
    let entity = Record {
        key: Some(b"wiki:1".to_vec()),
        key_encoding: KeyEncoding::Text,
        ..row
    };
    let err = sink
        .send(entity, origin, 0)
        .await
        .expect_err("row and entity records of a snapshot in one topic");
    assert!(err.to_string().contains("output.entity_topic"), "{err}");
}
