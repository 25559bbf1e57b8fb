//! The sink's Prometheus metrics, in the default registry.

use std::sync::LazyLock;

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts};
use rdkafka::error::KafkaError;

/// `mwcdc_oversize_records_skipped_total`: records replaced by a marker.
pub static OVERSIZE_SKIPPED: LazyLock<IntCounter> = LazyLock::new(|| {
    register(IntCounter::new(
        "mwcdc_oversize_records_skipped_total",
        "Records larger than message.max.bytes replaced by an oversize marker record",
    ))
});

/// `mwcdc_delivery_errors_total{code}`: errors librdkafka reported, by its error code.
pub static DELIVERY_ERRORS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register(IntCounterVec::new(
        Opts::new(
            "mwcdc_delivery_errors_total",
            "Errors librdkafka reported: broker connections and failed deliveries, by error code",
        ),
        &["code"],
    ))
});

/// `mwcdc_null_records_dropped_total`: records the null sink built and dropped.
pub static NULL_RECORDS_DROPPED: LazyLock<IntCounter> = LazyLock::new(|| {
    register(IntCounter::new(
        "mwcdc_null_records_dropped_total",
        "Records the null sink built and dropped",
    ))
});

/// `mwcdc_null_bytes_dropped_total`: their keys, values and headers.
pub static NULL_BYTES_DROPPED: LazyLock<IntCounter> = LazyLock::new(|| {
    register(IntCounter::new(
        "mwcdc_null_bytes_dropped_total",
        "Bytes of keys, values and headers of the records the null sink dropped",
    ))
});

/// `mwcdc_kafka_transactions_committed_total`: Kafka transactions committed (transactional
/// delivery).
pub static TRANSACTIONS_COMMITTED: LazyLock<IntCounter> = LazyLock::new(|| {
    register(IntCounter::new(
        "mwcdc_kafka_transactions_committed_total",
        "Kafka transactions committed (delivery = \"transactional\")",
    ))
});

/// `mwcdc_kafka_transactions_aborted_total`: Kafka transactions aborted.
pub static TRANSACTIONS_ABORTED: LazyLock<IntCounter> = LazyLock::new(|| {
    register(IntCounter::new(
        "mwcdc_kafka_transactions_aborted_total",
        "Kafka transactions aborted (delivery = \"transactional\"): after an error or at a stop inside a binlog transaction",
    ))
});

/// `mwcdc_kafka_transaction_commit_seconds`: how long each commit took, the flush of its
/// records included.
pub static TRANSACTION_COMMIT_SECONDS: LazyLock<Histogram> = LazyLock::new(|| {
    register(Histogram::with_opts(
        HistogramOpts::new(
            "mwcdc_kafka_transaction_commit_seconds",
            "Time of each Kafka transaction commit, the flush of its records included",
        )
        .buckets(vec![
            0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
        ]),
    ))
});

/// Registers a metric once (each is a static, so a second registration cannot happen).
fn register<M: prometheus::core::Collector + Clone + 'static>(metric: prometheus::Result<M>) -> M {
    let metric = metric.expect("a valid metric definition");
    let _ = prometheus::default_registry().register(Box::new(metric.clone()));
    metric
}

/// Counts an error in [`DELIVERY_ERRORS`] under librdkafka's name of its code.
pub fn count_delivery_error(error: &KafkaError) {
    let code = error
        .rdkafka_error_code()
        .map_or_else(|| "Other".to_string(), |c| format!("{c:?}"));
    DELIVERY_ERRORS.with_label_values(&[code.as_str()]).inc();
}
