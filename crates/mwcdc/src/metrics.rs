//! The connector's Prometheus metrics and the state `/readyz` and `/status` read.
//!
//! Counters the pipeline owns are updated as it works; the source's progress (lag, bytes,
//! reconnects, connection) and the checkpoint's age are read when `/metrics` is scraped.
//! Label values have bounded cardinality: tables, operations, entity kinds and actions, and
//! databases only with `[http] per_database_metrics = true`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mwcdc_change::{Op, Transaction};
use mwcdc_checkpoint::SnapshotProgress;
use mwcdc_mediawiki::Entity;
use mwcdc_snapshot::SnapshotStats;
use mwcdc_source::StreamProgress;
use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};
use serde::Serialize;

/// The checkpoint as the metrics know it.
#[derive(Debug, Default)]
struct CheckpointState {
    /// The stored position.
    gtid: Option<String>,
    /// The commit time of the last transaction it covers.
    commit_ts: Option<chrono::DateTime<chrono::Utc>>,
    /// Since when a transaction read waits for the checkpoint to cover it.
    waiting_since: Option<Instant>,
    /// The snapshot job as of the stored position.
    snapshot: Option<SnapshotProgress>,
}

/// Every metric of a running connector.
pub struct Metrics {
    registry: Registry,
    source: Arc<StreamProgress>,
    snapshot: Arc<SnapshotStats>,
    snapshot_rows: IntCounter,
    snapshot_rows_dropped: IntCounter,
    snapshot_chunks_held: IntCounter,
    snapshot_chunks_retried: IntCounter,
    snapshot_tables_remaining: IntGauge,
    per_database: bool,
    row_changes: IntCounterVec,
    entity_changes: IntCounterVec,
    transactions: IntCounter,
    latency: Histogram,
    in_flight: IntGauge,
    lag: IntGauge,
    connected: IntGauge,
    bytes_read: IntCounter,
    reconnects: IntCounter,
    checkpoint_info: IntGaugeVec,
    checkpoint_age: Gauge,
    checkpoint: Mutex<CheckpointState>,
}

/// What `/status` reports about the running connector.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct RunningStatus {
    /// The stored checkpoint's position, once known.
    pub checkpoint: Option<String>,
    /// The commit time of the last transaction the checkpoint covers, when it covers one.
    pub checkpoint_commit_ts: Option<chrono::DateTime<chrono::Utc>>,
    /// The snapshot job as of the stored position, if one started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotProgress>,
    /// Whether the binlog stream is open.
    pub connected: bool,
    /// Seconds behind the server, once known.
    pub lag_seconds: Option<u64>,
}

/// The label of an operation.
fn op_label(op: Op) -> &'static str {
    match op {
        Op::Create => "insert",
        Op::Update => "update",
        Op::Delete => "delete",
        Op::Truncate => "truncate",
        Op::Read => "snapshot",
    }
}

/// Latency buckets from 100 µs to 60 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0,
];

impl Metrics {
    /// The metrics of a connector reading through `source`, its snapshot counted in
    /// `snapshot`.
    pub fn new(
        source: Arc<StreamProgress>,
        snapshot: Arc<SnapshotStats>,
        per_database: bool,
    ) -> Self {
        let registry = Registry::new();
        let row_labels: &[&str] = if per_database {
            &["database", "table", "op"]
        } else {
            &["table", "op"]
        };
        let counter = |name: &str, help: &str| IntCounter::new(name, help).expect("valid metric");
        let metrics = Self {
            source,
            snapshot,
            snapshot_rows: counter(
                "mwcdc_snapshot_rows_total",
                "Rows a snapshot read and published",
            ),
            snapshot_rows_dropped: counter(
                "mwcdc_snapshot_rows_dropped_total",
                "Rows a snapshot read but did not publish: the stream changed their key after the chunk's read position and carries their newer state",
            ),
            snapshot_chunks_held: counter(
                "mwcdc_snapshot_chunks_held_total",
                "Snapshot chunks that waited for the stream to reach their read position",
            ),
            snapshot_chunks_retried: counter(
                "mwcdc_snapshot_chunks_retried_total",
                "Snapshot chunk reads retried (a table rebuilt under the read, a lock wait, a broken connection)",
            ),
            snapshot_tables_remaining: IntGauge::new(
                "mwcdc_snapshot_tables_remaining",
                "Tables of the running snapshot job not yet published in full",
            )
            .expect("valid metric"),
            per_database,
            row_changes: IntCounterVec::new(
                Opts::new(
                    "mwcdc_row_changes_total",
                    "Row changes read from captured tables",
                ),
                row_labels,
            )
            .expect("valid metric"),
            entity_changes: IntCounterVec::new(
                Opts::new(
                    "mwcdc_entity_changes_total",
                    "MediaWiki entity changes produced",
                ),
                &["entity", "action"],
            )
            .expect("valid metric"),
            transactions: IntCounter::new(
                "mwcdc_transactions_total",
                "Transactions read from the binlog",
            )
            .expect("valid metric"),
            latency: Histogram::with_opts(
                HistogramOpts::new(
                    "mwcdc_pipeline_latency_seconds",
                    "From receiving a transaction's commit event to Kafka acknowledging its last record",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
            )
            .expect("valid metric"),
            in_flight: IntGauge::new(
                "mwcdc_records_in_flight",
                "Records sent and not yet acknowledged",
            )
            .expect("valid metric"),
            lag: IntGauge::new(
                "mwcdc_source_lag_seconds",
                "Seconds behind the server: 0 when everything it wrote was read, else now minus the binlog time of the last event read",
            )
            .expect("valid metric"),
            connected: IntGauge::new(
                "mwcdc_source_connected",
                "1 while the binlog stream is open",
            )
            .expect("valid metric"),
            bytes_read: IntCounter::new(
                "mwcdc_source_bytes_read_total",
                "Bytes of binlog events read",
            )
            .expect("valid metric"),
            reconnects: IntCounter::new(
                "mwcdc_source_reconnects_total",
                "Times the binlog stream was re-established after an interruption",
            )
            .expect("valid metric"),
            checkpoint_info: IntGaugeVec::new(
                Opts::new("mwcdc_checkpoint_info", "The stored checkpoint position"),
                &["gtid"],
            )
            .expect("valid metric"),
            checkpoint_age: Gauge::new(
                "mwcdc_checkpoint_age_seconds",
                "Seconds since the checkpoint last advanced while a transaction read waits for it; 0 otherwise",
            )
            .expect("valid metric"),
            checkpoint: Mutex::default(),
            registry,
        };
        let collectors: [Box<dyn prometheus::core::Collector>; 16] = [
            Box::new(metrics.snapshot_rows.clone()),
            Box::new(metrics.snapshot_rows_dropped.clone()),
            Box::new(metrics.snapshot_chunks_held.clone()),
            Box::new(metrics.snapshot_chunks_retried.clone()),
            Box::new(metrics.snapshot_tables_remaining.clone()),
            Box::new(metrics.row_changes.clone()),
            Box::new(metrics.entity_changes.clone()),
            Box::new(metrics.transactions.clone()),
            Box::new(metrics.latency.clone()),
            Box::new(metrics.in_flight.clone()),
            Box::new(metrics.lag.clone()),
            Box::new(metrics.connected.clone()),
            Box::new(metrics.bytes_read.clone()),
            Box::new(metrics.reconnects.clone()),
            Box::new(metrics.checkpoint_info.clone()),
            Box::new(metrics.checkpoint_age.clone()),
        ];
        for c in collectors {
            metrics.registry.register(c).expect("distinct metric names");
        }
        metrics
    }

    /// Counts a transaction read and its row changes, and starts the checkpoint's wait.
    pub fn transaction(&self, txn: &Transaction) {
        self.transactions.inc();
        for c in txn.changes.counts() {
            let op = op_label(c.op);
            let counter = if self.per_database {
                self.row_changes.with_label_values(&[
                    c.table.db.as_str(),
                    c.table.table.as_str(),
                    op,
                ])
            } else {
                self.row_changes
                    .with_label_values(&[c.table.table.as_str(), op])
            };
            counter.inc_by(c.count);
        }
        self.checkpoint_state()
            .waiting_since
            .get_or_insert_with(Instant::now);
    }

    /// Counts `n` entity changes produced of one entity kind and action.
    pub fn entity_changes(&self, entity: Entity, action: &str, n: u64) {
        self.entity_changes
            .with_label_values(&[entity.name(), action])
            .inc_by(n);
    }

    /// Records how long a transaction took from its commit event to its last acknowledgement.
    pub fn delivered(&self, received: Instant) {
        self.latency.observe(received.elapsed().as_secs_f64());
    }

    /// Sets the number of records in flight.
    pub fn set_in_flight(&self, n: usize) {
        self.in_flight.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Records a checkpoint written at `gtid`, after a transaction committed at `commit_ts`,
    /// with the snapshot job as of there; `complete` when it covers every transaction read.
    pub fn checkpoint_saved(
        &self,
        gtid: &str,
        commit_ts: Option<chrono::DateTime<chrono::Utc>>,
        snapshot: Option<&SnapshotProgress>,
        complete: bool,
    ) {
        let mut state = self.checkpoint_state();
        state.commit_ts = commit_ts;
        state.snapshot = snapshot.cloned();
        if state.gtid.as_deref() != Some(gtid) {
            self.checkpoint_info.reset();
            self.checkpoint_info.with_label_values(&[gtid]).set(1);
            state.gtid = Some(gtid.to_string());
        }
        state.waiting_since = (!complete).then(Instant::now);
    }

    fn checkpoint_state(&self) -> std::sync::MutexGuard<'_, CheckpointState> {
        self.checkpoint
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Seconds behind the server now, once known.
    pub fn lag(&self) -> Option<u64> {
        self.source.lag(unix_now())
    }

    /// Whether the connector is ready: connected, and not more than `max_lag` behind. The
    /// reason when not.
    pub fn readiness(&self, max_lag: Duration) -> Result<(), String> {
        if !self.source.is_connected() {
            return Err("not connected to the source server".into());
        }
        match self.lag() {
            Some(lag) if lag > max_lag.as_secs() => Err(format!(
                "{lag} s behind the source server (http.ready_max_lag is {} s)",
                max_lag.as_secs()
            )),
            _ => Ok(()),
        }
    }

    /// What `/status` reports.
    pub fn status(&self) -> RunningStatus {
        let (checkpoint, checkpoint_commit_ts, snapshot) = {
            let state = self.checkpoint_state();
            (state.gtid.clone(), state.commit_ts, state.snapshot.clone())
        };
        RunningStatus {
            checkpoint,
            checkpoint_commit_ts,
            snapshot,
            connected: self.source.is_connected(),
            lag_seconds: self.lag(),
        }
    }

    /// The Prometheus text of every metric, the sink's included.
    pub fn render(&self) -> String {
        self.refresh();
        let mut families = self.registry.gather();
        families.extend(prometheus::gather());
        let mut out = Vec::new();
        // Writing to a Vec cannot fail, and the families come from valid metrics.
        let _ = TextEncoder::new().encode(&families, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Updates what is read rather than counted.
    fn refresh(&self) {
        self.lag
            .set(i64::try_from(self.lag().unwrap_or(0)).unwrap_or(i64::MAX));
        self.connected.set(i64::from(self.source.is_connected()));
        sync_counter(&self.bytes_read, self.source.bytes_read());
        sync_counter(&self.reconnects, self.source.reconnects());
        let snapshot = self.snapshot.view();
        sync_counter(&self.snapshot_rows, snapshot.rows);
        sync_counter(&self.snapshot_rows_dropped, snapshot.rows_dropped);
        sync_counter(&self.snapshot_chunks_held, snapshot.chunks_held);
        sync_counter(&self.snapshot_chunks_retried, snapshot.chunks_retried);
        self.snapshot_tables_remaining.set(
            i64::try_from(snapshot.tables.saturating_sub(snapshot.tables_done)).unwrap_or(i64::MAX),
        );
        let age = self
            .checkpoint_state()
            .waiting_since
            .map_or(0.0, |since| since.elapsed().as_secs_f64());
        self.checkpoint_age.set(age);
    }
}

/// Raises `counter` to `value` (both only grow).
fn sync_counter(counter: &IntCounter, value: u64) {
    let current = counter.get();
    if value > current {
        counter.inc_by(value - current);
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transaction(db: &str) -> Transaction {
        let table = Arc::new(mwcdc_change::TableSchema::new(
            db.into(),
            "revision".into(),
            vec!["rev_id".into()],
            vec![0],
        ));
        let change = |op| mwcdc_change::RowChange {
            table: table.clone(),
            op,
            before: None,
            after: None,
            gtid: "0-1-5".into(),
            event_index: 0,
            row_index: 0,
            file: "bin.000001".into(),
            pos: 4,
            server_id: 1,
            ts_sec: 0,
        };
        Transaction {
            gtid: "0-1-5".into(),
            position: mwcdc_position::Position::parse_any("0-1-5").unwrap(),
            file: "bin.000001".into(),
            end_pos: 100,
            commit_ts: 0,
            changes: vec![change(Op::Create), change(Op::Create), change(Op::Delete)].into(),
            xa: None,
            snapshot: None,
        }
    }

    #[test]
    fn row_changes_carry_the_database_only_when_asked() {
        let metrics = Metrics::new(Arc::default(), Arc::default(), false);
        metrics.transaction(&transaction("enwiki"));
        metrics.transaction(&transaction("dewiki"));
        let text = metrics.render();
        assert!(
            text.contains("mwcdc_row_changes_total{op=\"insert\",table=\"revision\"} 4\n"),
            "{text}"
        );
        assert!(
            text.contains("mwcdc_row_changes_total{op=\"delete\",table=\"revision\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("mwcdc_transactions_total 2\n"), "{text}");
        let per_db = Metrics::new(Arc::default(), Arc::default(), true);
        per_db.transaction(&transaction("enwiki"));
        let text = per_db.render();
        assert!(
            text.contains(
                "mwcdc_row_changes_total{database=\"enwiki\",op=\"insert\",table=\"revision\"} 2\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn the_checkpoint_ages_only_while_a_transaction_waits_for_it() {
        let metrics = Metrics::new(Arc::default(), Arc::default(), false);
        metrics.checkpoint_saved("0-1-4", None, None, true);
        assert!(metrics
            .render()
            .contains("mwcdc_checkpoint_age_seconds 0\n"));
        metrics.transaction(&transaction("enwiki"));
        std::thread::sleep(Duration::from_millis(20));
        let age = |text: String| -> f64 {
            text.lines()
                .find_map(|l| {
                    l.strip_prefix("mwcdc_checkpoint_age_seconds ")?
                        .parse()
                        .ok()
                })
                .unwrap()
        };
        assert!(age(metrics.render()) >= 0.02);
        metrics.checkpoint_saved("0-1-5", None, None, true);
        let text = metrics.render();
        assert_eq!(age(text.clone()), 0.0);
        assert!(
            text.contains("mwcdc_checkpoint_info{gtid=\"0-1-5\"} 1\n"),
            "{text}"
        );
        assert!(!text.contains("0-1-4"), "only the current position: {text}");
    }

    #[test]
    fn readiness_needs_a_connection() {
        let metrics = Metrics::new(Arc::default(), Arc::default(), false);
        let reason = metrics.readiness(Duration::from_secs(60)).unwrap_err();
        assert!(reason.contains("not connected"), "{reason}");
        assert_eq!(metrics.status().lag_seconds, None);
    }
}
