//! Kafka transactions of the transactional delivery mode: the `transactional.id` a connector's
//! name gives, `init_transactions` at start (which fences a previous instance), one Kafka
//! transaction begun on the first record after a commit, committed or aborted on request, and
//! what each transactional error means (`docs/adr/0007-transactional-delivery.md`).

use std::time::{Duration, Instant};

use mwcdc_backoff::Backoff;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{Producer, ProducerContext, ThreadedProducer};
use tracing::{debug, warn};

use crate::metrics::{TRANSACTIONS_ABORTED, TRANSACTIONS_COMMITTED, TRANSACTION_COMMIT_SECONDS};
use crate::SinkError;

/// The `transactional.id` of the connector called `name`: stable across restarts, so that a
/// restarted instance fences the one before it.
pub fn transactional_id(name: &str) -> String {
    format!("mwcdc-{name}")
}

/// How long one `init_transactions`, `commit_transaction` or `abort_transaction` call may
/// block before it is tried again (a retriable timeout).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest wait between attempts of a retriable transactional call.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(10);

/// What a transactional error asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The call may be made again (a timeout, the coordinator not available yet).
    Retry,
    /// Another producer with the same `transactional.id` took over.
    Fenced,
    /// The transaction must be aborted; the producer stays usable.
    Abortable,
    /// The producer cannot be used any more.
    Fatal,
}

/// Whether an error code says that another producer with the same id took over.
pub(crate) fn is_fenced(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::Fenced
            | RDKafkaErrorCode::ProducerFenced
            | RDKafkaErrorCode::InvalidProducerEpoch
    )
}

/// What the error of a transactional call asks for.
fn classify(error: &KafkaError) -> Failure {
    match error {
        KafkaError::Transaction(e) if is_fenced(e.code()) => Failure::Fenced,
        KafkaError::Transaction(e) if e.is_fatal() => Failure::Fatal,
        KafkaError::Transaction(e) if e.txn_requires_abort() => Failure::Abortable,
        KafkaError::Transaction(e) if e.is_retriable() => Failure::Retry,
        // The flush before a commit timed out: records are still on their way.
        KafkaError::Flush(_) => Failure::Retry,
        _ => Failure::Fatal,
    }
}

/// The open Kafka transaction of a transactional producer, if any.
pub(crate) struct Transactions {
    id: String,
    /// When the open transaction began.
    open: Option<Instant>,
}

impl Transactions {
    /// The transactions of the producer with `transactional.id` `id`.
    pub(crate) fn new(id: String) -> Self {
        Self { id, open: None }
    }

    /// The `transactional.id`.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// The error that stops the connector when `producer` says `message`.
    pub(crate) fn error<C: ProducerContext>(
        &self,
        producer: &ThreadedProducer<C>,
        failure: Failure,
        message: String,
    ) -> SinkError {
        let fatal = producer.client().fatal_error();
        match (failure, fatal) {
            (Failure::Fenced, _) => SinkError::Fenced {
                transactional_id: self.id.clone(),
            },
            (_, Some((code, _))) if is_fenced(code) => SinkError::Fenced {
                transactional_id: self.id.clone(),
            },
            (_, Some((_, fatal))) => SinkError::Transaction {
                transactional_id: self.id.clone(),
                message: format!("{message} (fatal: {fatal})"),
            },
            (_, None) => SinkError::Transaction {
                transactional_id: self.id.clone(),
                message,
            },
        }
    }

    /// Registers the `transactional.id` with its coordinator: a previous instance's open
    /// transaction is aborted and that instance is fenced. Waits while the coordinator
    /// cannot be reached.
    pub(crate) fn init<C: ProducerContext>(
        &self,
        producer: &ThreadedProducer<C>,
    ) -> Result<(), SinkError> {
        self.retrying(producer, "initialising transactions", |p| {
            p.init_transactions(CALL_TIMEOUT)
        })
    }

    /// Begins a transaction unless one is open.
    pub(crate) fn begin<C: ProducerContext>(
        &mut self,
        producer: &ThreadedProducer<C>,
    ) -> Result<(), SinkError> {
        if self.open.is_some() {
            return Ok(());
        }
        producer.begin_transaction().map_err(|e| {
            self.error(
                producer,
                classify(&e),
                format!("beginning a transaction: {e}"),
            )
        })?;
        self.open = Some(Instant::now());
        Ok(())
    }

    /// Commits the open transaction, if any: every record sent in it is then visible to
    /// `read_committed` consumers. An abortable error aborts it and is returned (the records
    /// are not written; the caller stops with its checkpoint before them).
    pub(crate) fn commit<C: ProducerContext>(
        &mut self,
        producer: &ThreadedProducer<C>,
    ) -> Result<(), SinkError> {
        let Some(began) = self.open else {
            return Ok(());
        };
        let started = Instant::now();
        match self.retrying(producer, "committing a transaction", |p| {
            p.commit_transaction(CALL_TIMEOUT)
        }) {
            Ok(()) => {
                self.open = None;
                TRANSACTIONS_COMMITTED.inc();
                TRANSACTION_COMMIT_SECONDS.observe(started.elapsed().as_secs_f64());
                debug!(open_for = ?began.elapsed(), "Kafka transaction committed");
                Ok(())
            }
            Err(e) => {
                if !matches!(e, SinkError::Fenced { .. }) {
                    let _ = self.abort(producer);
                }
                Err(e)
            }
        }
    }

    /// Aborts the open transaction, if any: its records are never visible to
    /// `read_committed` consumers.
    pub(crate) fn abort<C: ProducerContext>(
        &mut self,
        producer: &ThreadedProducer<C>,
    ) -> Result<(), SinkError> {
        if self.open.take().is_none() {
            return Ok(());
        }
        TRANSACTIONS_ABORTED.inc();
        self.retrying(producer, "aborting a transaction", |p| {
            p.abort_transaction(CALL_TIMEOUT)
        })
    }

    /// Calls `call` until it succeeds, waiting between retriable failures; any other failure
    /// is the error returned.
    fn retrying<C: ProducerContext>(
        &self,
        producer: &ThreadedProducer<C>,
        what: &str,
        call: impl Fn(&ThreadedProducer<C>) -> Result<(), KafkaError>,
    ) -> Result<(), SinkError> {
        let mut backoff = Backoff::new(Duration::from_millis(100), MAX_RETRY_DELAY);
        loop {
            match call(producer) {
                Ok(()) => return Ok(()),
                Err(e) => match classify(&e) {
                    Failure::Retry => {
                        warn!(transactional_id = %self.id, error = %e, retry_in = ?backoff.delay(), "{what}: not done yet; trying again");
                        std::thread::sleep(backoff.advance());
                    }
                    failure => return Err(self.error(producer, failure, format!("{what}: {e}"))),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transactional_id_is_the_connector_name_with_a_prefix() {
        assert_eq!(transactional_id("enwiki-cdc"), "mwcdc-enwiki-cdc");
    }

    #[test]
    fn fencing_codes_are_recognised_and_a_flush_timeout_is_retried() {
        for code in [
            RDKafkaErrorCode::Fenced,
            RDKafkaErrorCode::ProducerFenced,
            RDKafkaErrorCode::InvalidProducerEpoch,
        ] {
            assert!(is_fenced(code), "{code:?}");
        }
        assert!(!is_fenced(RDKafkaErrorCode::RequestTimedOut));
        assert_eq!(
            classify(&KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut)),
            Failure::Retry
        );
        assert_eq!(
            classify(&KafkaError::MessageProduction(RDKafkaErrorCode::Fatal)),
            Failure::Fatal
        );
    }
}
