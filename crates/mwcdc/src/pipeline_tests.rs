//! The pipeline against librdkafka's mock cluster (broker faults, no real broker needed):
//! - a broker outage pauses reading at `max_in_flight` and loses nothing once it ends;
//! - a delivery that fails for good stops the pipeline with the checkpoint before it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mwcdc_binlog::Value;
use mwcdc_change::{Op, RowChange, TableSchema, Transaction};
use mwcdc_checkpoint::CheckpointStore;
use mwcdc_position::Position;
use mwcdc_record::{BinaryMode, RowEncoder, RowEncoderConfig, TopicTemplate};
use mwcdc_sink::{KafkaSink, KafkaSinkConfig, NullSink};
use mwcdc_snapshot::Inbound;
use mwcdc_source::Received;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use tokio::sync::{mpsc, oneshot, watch};

use super::Pipeline;
use crate::encoders::Encoders;
use crate::metrics::Metrics;

const TOPIC: &str = "t.wiki.revision";

fn transaction(seq: u64) -> Transaction {
    let gtid: Arc<str> = format!("0-1-{seq}").into();
    let table = Arc::new(TableSchema::new(
        "wiki".into(),
        "revision".into(),
        vec!["rev_id".into()],
        vec![0],
    ));
    Transaction {
        gtid: gtid.clone(),
        position: Position::parse_any(&gtid).expect("position"),
        file: "bin.000001".into(),
        end_pos: seq * 100,
        commit_ts: 1_795_651_200,
        changes: vec![RowChange {
            table,
            op: Op::Create,
            before: None,
            after: Some(vec![Value::UInt(seq)]),
            gtid,
            event_index: 0,
            row_index: 0,
            file: "bin.000001".into(),
            pos: seq * 100 - 50,
            server_id: 1,
            ts_sec: 1_795_651_200,
        }]
        .into(),
        xa: None,
        snapshot: None,
    }
}

/// A transaction as the source hands it on, received now.
fn received(transaction: Transaction) -> Inbound {
    Inbound::from(Received {
        transaction,
        at: std::time::Instant::now(),
    })
}

struct Harness {
    transactions: mpsc::Sender<Inbound>,
    metrics: Arc<Metrics>,
    stop: oneshot::Sender<()>,
    pipeline: tokio::task::JoinHandle<anyhow::Result<()>>,
    state: tempfile::TempDir,
}

/// Runs a pipeline over `sink` with a stand-in source that ends when the pipeline tells it to.
fn run<S: mwcdc_sink::Sink + 'static>(
    sink: S,
    acks: mpsc::UnboundedReceiver<mwcdc_sink::Ack>,
    max_in_flight: usize,
) -> Harness {
    run_until(sink, acks, max_in_flight, None)
}

/// [`run`], stopping at `stop_at`; the pipeline reads from position `0-1-0`.
fn run_until<S: mwcdc_sink::Sink + 'static>(
    sink: S,
    acks: mpsc::UnboundedReceiver<mwcdc_sink::Ack>,
    max_in_flight: usize,
    stop_at: Option<&str>,
) -> Harness {
    run_with_source(sink, acks, max_in_flight, stop_at, |mut stop| {
        tokio::spawn(async move {
            let _ = stop.changed().await;
            Ok(())
        })
    })
}

/// The source task as the pipeline sees it.
type SourceTask = tokio::task::JoinHandle<anyhow::Result<()>>;

/// [`run_until`] with a stand-in source task made by `source` from the pipeline's stop signal.
fn run_with_source<S: mwcdc_sink::Sink + 'static>(
    sink: S,
    acks: mpsc::UnboundedReceiver<mwcdc_sink::Ack>,
    max_in_flight: usize,
    stop_at: Option<&str>,
    source: impl FnOnce(watch::Receiver<bool>) -> SourceTask,
) -> Harness {
    let state = tempfile::tempdir().expect("temp dir");
    let metrics = Arc::new(Metrics::new(Arc::default(), Arc::default(), false));
    let pipeline = Pipeline {
        metrics: metrics.clone(),
        name: "test".into(),
        sink,
        encoders: Encoders {
            rows: Some(RowEncoder::new(RowEncoderConfig {
                connector_name: "test".into(),
                topic_prefix: "t".into(),
                topic: TopicTemplate::parse(TopicTemplate::DEFAULT).expect("template"),
                binary: BinaryMode::Utf8,
                tombstones: true,
            })),
            entities: None,
        },
        store: Arc::new(CheckpointStore::open(state.path()).expect("store")),
        interval: Duration::from_millis(10),
        max_in_flight,
        stop_at: stop_at.map(|p| Position::parse_any(p).expect("stop position")),
        start: Position::parse_any("0-1-0").expect("start position"),
        settings: serde_json::json!({}),
        snapshot: None,
        until_snapshot_done: false,
    };
    let (txn_tx, txn_rx) = mpsc::channel(4);
    let (stop_source_tx, stop_source_rx) = watch::channel(false);
    let source = source(stop_source_rx);
    let (stop, stop_rx) = oneshot::channel();
    let signal = Box::pin(async move {
        let _ = stop_rx.await;
    });
    let pipeline = tokio::spawn(pipeline.run(txn_rx, acks, source, stop_source_tx, signal));
    Harness {
        transactions: txn_tx,
        metrics,
        stop,
        pipeline,
        state,
    }
}

/// A pipeline producing to the mock cluster.
fn start(
    mock: &MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    max_in_flight: usize,
) -> Harness {
    let (ack_tx, ack_rx) = mpsc::unbounded_channel();
    let sink = KafkaSink::new(
        &KafkaSinkConfig {
            brokers: mock.bootstrap_servers(),
            properties: [("linger.ms".to_string(), "0".to_string())].into(),
            delivery: mwcdc_sink::Delivery::AtLeastOnce,
            oversize: mwcdc_sink::Oversize::Fail,
            name: "pipeline-test".into(),
        },
        ack_tx,
    )
    .expect("sink");
    run(sink, ack_rx, max_in_flight)
}

fn checkpoint_gtid(state: &tempfile::TempDir) -> Option<String> {
    CheckpointStore::open(state.path())
        .expect("store")
        .load("test")
        .expect("load")
        .map(|c| c.position.to_string())
}

fn read_all(
    mock: &MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    want: usize,
) -> Vec<String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", mock.bootstrap_servers())
        .set("group.id", "reader")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(TOPIC, 0, Offset::Beginning)
        .expect("partition");
    consumer.assign(&tpl).expect("assign");
    let mut ids = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while ids.len() < want && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
            ids.push(key);
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broker_outage_pauses_reading_and_loses_nothing() {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic(TOPIC, 1, 1).expect("topic");
    let h = start(&mock, 10);
    mock.broker_down(1).expect("down");
    let sent = Arc::new(AtomicUsize::new(0));
    let feeder = tokio::spawn({
        let (tx, sent) = (h.transactions.clone(), sent.clone());
        async move {
            for seq in 1..=100 {
                tx.send(received(transaction(seq)))
                    .await
                    .expect("pipeline running");
                sent.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let during = sent.load(Ordering::SeqCst);
    // 10 records in flight, 4 transactions in the channel, one being published.
    assert!(
        during <= 10 + 4 + 1,
        "reading must pause while the broker is down: {during} sent"
    );
    assert!(
        during >= 10,
        "reading went on until the in-flight limit: {during} sent"
    );
    assert!(
        h.metrics
            .render()
            .contains("\nmwcdc_records_in_flight 10\n"),
        "{}",
        h.metrics.render()
    );
    mock.broker_up(1).expect("up");
    feeder.await.expect("feeder");
    let ids = read_all(&mock, 100);
    assert_eq!(
        ids.len(),
        100,
        "every record delivered once the broker is back"
    );
    let expected: Vec<String> = (1..=100).map(|n| format!("{{\"rev_id\":{n}}}")).collect();
    assert_eq!(ids, expected, "in order");
    h.stop.send(()).expect("stop");
    h.pipeline.await.expect("join").expect("clean stop");
    assert_eq!(checkpoint_gtid(&h.state).as_deref(), Some("0-1-100"));
    let metrics = h.metrics.render();
    for line in [
        "mwcdc_transactions_total 100",
        "mwcdc_row_changes_total{op=\"insert\",table=\"revision\"} 100",
        "mwcdc_pipeline_latency_seconds_count 100",
        "mwcdc_records_in_flight 0",
        "mwcdc_checkpoint_info{gtid=\"0-1-100\"} 1",
        "mwcdc_checkpoint_age_seconds 0",
    ] {
        assert!(
            metrics.contains(&format!("\n{line}\n")),
            "{line} in {metrics}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_delivery_stops_before_checkpointing_past_it() {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic(TOPIC, 1, 1).expect("topic");
    let h = start(&mock, 10);
    h.transactions
        .send(received(transaction(1)))
        .await
        .expect("send");
    assert_eq!(read_all(&mock, 1).len(), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A non-retriable error for every produce request from now on.
    mock.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 10],
    );
    h.transactions
        .send(received(transaction(2)))
        .await
        .expect("send");
    let result = tokio::time::timeout(Duration::from_secs(20), h.pipeline)
        .await
        .expect("the pipeline stops")
        .expect("join");
    let err = result.expect_err("a failed delivery is an error");
    assert!(
        format!("{err:#}").contains("could not be delivered"),
        "{err:#}"
    );
    let metrics = h.metrics.render();
    assert!(
        metrics.contains("mwcdc_delivery_errors_total{code=\"TopicAuthorizationFailed\"}"),
        "{metrics}"
    );
    assert_eq!(
        checkpoint_gtid(&h.state).as_deref(),
        Some("0-1-1"),
        "not past the failed record"
    );
}

/// A sink that takes records and never acknowledges them, counting what it was given.
struct SilentSink {
    taken: Arc<AtomicUsize>,
}

impl mwcdc_sink::Sink for SilentSink {
    async fn send(
        &mut self,
        _record: mwcdc_record::Record,
        _origin: mwcdc_sink::Origin<'_>,
        _ticket: usize,
    ) -> Result<mwcdc_sink::Sent, mwcdc_sink::SinkError> {
        self.taken.fetch_add(1, Ordering::SeqCst);
        Ok(mwcdc_sink::Sent::Queued)
    }

    async fn flush(&mut self, _timeout: Duration) -> Result<(), mwcdc_sink::SinkError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_transaction_stays_within_the_in_flight_limit_and_a_signal_still_stops_it() {
    let taken = Arc::new(AtomicUsize::new(0));
    let (_ack_tx, ack_rx) = mpsc::unbounded_channel();
    let h = run(
        SilentSink {
            taken: taken.clone(),
        },
        ack_rx,
        10,
    );
    let mut big = transaction(1);
    let change = big.changes.to_vec().expect("changes")[0].clone();
    big.changes = (0..1000)
        .map(|row| RowChange {
            row_index: row,
            ..change.clone()
        })
        .collect::<Vec<_>>()
        .into();
    h.transactions.send(received(big)).await.expect("send");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        taken.load(Ordering::SeqCst),
        10,
        "no more than max_in_flight records out"
    );
    h.stop.send(()).expect("stop");
    let result = tokio::time::timeout(Duration::from_secs(15), h.pipeline)
        .await
        .expect("the signal stops publishing")
        .expect("join");
    result.expect("a clean stop");
    assert_eq!(
        checkpoint_gtid(&h.state),
        None,
        "nothing acknowledged, nothing covered"
    );
}

/// Feeds the transactions `seqs` in the background, ignoring a pipeline that stopped reading.
fn feed(h: &Harness, seqs: Vec<u64>) {
    let tx = h.transactions.clone();
    tokio::spawn(async move {
        for seq in seqs {
            if tx.send(received(transaction(seq))).await.is_err() {
                return;
            }
        }
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pipeline_exits_by_itself_once_the_stop_position_is_delivered() {
    let (ack_tx, ack_rx) = mpsc::unbounded_channel();
    let h = run_until(NullSink::new(ack_tx), ack_rx, 10, Some("0-1-5"));
    feed(&h, (1..=10).collect());
    tokio::time::timeout(Duration::from_secs(10), h.pipeline)
        .await
        .expect("the pipeline stops without a signal")
        .expect("join")
        .expect("a clean stop");
    assert_eq!(checkpoint_gtid(&h.state).as_deref(), Some("0-1-5"));
    assert!(
        h.metrics
            .render()
            .contains("\nmwcdc_transactions_total 5\n"),
        "nothing past the stop position is published"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_past_the_stop_position_ends_the_run_before_it() {
    let (ack_tx, ack_rx) = mpsc::unbounded_channel();
    // 0-1-5 is never written: 0-1-7 is the first transaction past it.
    let h = run_until(NullSink::new(ack_tx), ack_rx, 10, Some("0-1-5"));
    feed(&h, vec![1, 2, 3, 7, 8]);
    tokio::time::timeout(Duration::from_secs(10), h.pipeline)
        .await
        .expect("the pipeline stops without a signal")
        .expect("join")
        .expect("a clean stop");
    assert_eq!(checkpoint_gtid(&h.state).as_deref(), Some("0-1-3"));
}

/// A sink that acknowledges the first `acked` records at once and holds the rest.
struct FirstAckedSink {
    acks: mpsc::UnboundedSender<mwcdc_sink::Ack>,
    acked: usize,
    taken: Arc<AtomicUsize>,
}

impl mwcdc_sink::Sink for FirstAckedSink {
    async fn send(
        &mut self,
        _record: mwcdc_record::Record,
        _origin: mwcdc_sink::Origin<'_>,
        ticket: usize,
    ) -> Result<mwcdc_sink::Sent, mwcdc_sink::SinkError> {
        if self.taken.fetch_add(1, Ordering::SeqCst) < self.acked {
            let _ = self.acks.send(mwcdc_sink::Ack {
                ticket,
                result: Ok(()),
            });
        }
        Ok(mwcdc_sink::Sent::Queued)
    }

    async fn flush(&mut self, _timeout: Duration) -> Result<(), mwcdc_sink::SinkError> {
        Ok(())
    }
}

/// A transaction with `rows` row changes.
fn transaction_of(seq: u64, rows: u32) -> Transaction {
    let mut txn = transaction(seq);
    let change = txn.changes.to_vec().expect("changes")[0].clone();
    txn.changes = (0..rows)
        .map(|row| RowChange {
            row_index: row,
            ..change.clone()
        })
        .collect::<Vec<_>>()
        .into();
    txn
}

/// Runs `transactions` through a pipeline with `max_in_flight = 1` whose sink acknowledges
/// only the first record; returns the checkpoint after a stop and the records sent.
async fn checkpoint_after_one_ack(transactions: Vec<Transaction>) -> (Option<String>, usize) {
    let (ack_tx, ack_rx) = mpsc::unbounded_channel();
    let taken = Arc::new(AtomicUsize::new(0));
    let sink = FirstAckedSink {
        acks: ack_tx,
        acked: 1,
        taken: taken.clone(),
    };
    let h = run(sink, ack_rx, 1);
    for txn in transactions {
        h.transactions.send(received(txn)).await.expect("send");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    h.stop.send(()).expect("stop");
    tokio::time::timeout(Duration::from_secs(15), h.pipeline)
        .await
        .expect("stops")
        .expect("join")
        .expect("a clean stop");
    (checkpoint_gtid(&h.state), taken.load(Ordering::SeqCst))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_checkpoint_never_covers_a_transaction_whose_records_are_not_all_sent() {
    // With max_in_flight = 1 the second record waits for the first one's acknowledgement;
    // that acknowledgement must not complete the transaction.
    let (checkpoint, sent) = checkpoint_after_one_ack(vec![transaction_of(1, 3)]).await;
    assert_eq!(checkpoint, None, "records 2 and 3 were never acknowledged");
    assert_eq!(sent, 2, "one acknowledged, one in flight");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_checkpoint_never_passes_an_xa_prepare_whose_committed_rows_are_not_all_sent() {
    let mut prepare = transaction_of(1, 0);
    prepare.xa = Some(mwcdc_change::XaStep::Prepare("x1".into()));
    let mut commit = transaction_of(2, 3);
    commit.xa = Some(mwcdc_change::XaStep::Resolve("x1".into()));
    let (checkpoint, sent) = checkpoint_after_one_ack(vec![prepare, commit]).await;
    assert_eq!(
        checkpoint, None,
        "the committed rows are not all acknowledged"
    );
    assert_eq!(sent, 2, "one acknowledged, one in flight");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_source_task_is_reported_as_an_internal_error_with_its_message() {
    let (ack_tx, ack_rx) = mpsc::unbounded_channel();
    let h = run_with_source(NullSink::new(ack_tx), ack_rx, 10, None, |_stop| {
        tokio::spawn(async { panic!("the assembler lost its table map") })
    });
    drop(h.transactions);
    let err = tokio::time::timeout(Duration::from_secs(10), h.pipeline)
        .await
        .expect("stops")
        .expect("join")
        .expect_err("a panicking source is an error");
    let message = format!("{err:#}");
    assert!(
        message
            .contains("internal error: the source task panicked: the assembler lost its table map"),
        "{message}"
    );
    assert!(!message.contains("position 0"), "{message}");
}
