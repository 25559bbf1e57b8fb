//! The binlog transactions in the open Kafka transaction (transactional delivery): the
//! tracker units to close once it commits, and when to commit it.
//!
//! A binlog transaction is never split: the pipeline asks [`Batch::due`] only after the last
//! record of one. The Kafka transaction is committed once it is [`QUIET_DELAY`] old and no
//! further binlog transaction is ready to be published (the pipeline's timer commits it then
//! when the source stays quiet), and in any case once it is [`COMMIT_INTERVAL`] old. A commit
//! flushes and waits for the broker, so committing whenever the source channel is empty for
//! a moment made a backlog of small transactions ten times slower (one commit each).
//! Sinks that are not transactional commit after every transaction, which closes its units
//! at once.

use std::time::{Duration, Instant};

/// The longest a Kafka transaction stays open while binlog transactions keep coming.
pub const COMMIT_INTERVAL: Duration = Duration::from_millis(100);

/// How long a Kafka transaction stays open at least, for the binlog transactions that follow.
pub const QUIET_DELAY: Duration = Duration::from_millis(50);

/// The units published since the last commit.
#[derive(Debug, Default)]
pub struct Batch {
    tickets: Vec<usize>,
    /// When the first of them was added.
    since: Option<Instant>,
}

impl Batch {
    /// Adds the units of a binlog transaction published in full.
    pub fn add(&mut self, tickets: impl IntoIterator<Item = usize>, now: Instant) {
        self.since.get_or_insert(now);
        self.tickets.extend(tickets);
    }

    /// Whether a commit is due after a binlog transaction: `waiting` when another one is ready
    /// to be published at once.
    pub fn due(&self, waiting: bool, now: Instant) -> bool {
        match self.since {
            None => false,
            Some(since) => {
                let age = now.duration_since(since);
                age >= COMMIT_INTERVAL || (!waiting && age >= QUIET_DELAY)
            }
        }
    }

    /// When the pipeline's timer commits the open Kafka transaction if nothing else did.
    pub fn quiet_deadline(&self) -> Option<Instant> {
        self.since.map(|since| since + QUIET_DELAY)
    }

    /// Whether no unit waits for a commit.
    pub fn is_empty(&self) -> bool {
        self.since.is_none()
    }

    /// The units to close now that their Kafka transaction is committed, in publishing order.
    pub fn take(&mut self) -> Vec<usize> {
        self.since = None;
        std::mem::take(&mut self.tickets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_commits_when_nothing_waits_or_once_it_is_old_enough() {
        let start = Instant::now();
        let mut batch = Batch::default();
        assert!(!batch.due(false, start), "nothing to commit");
        assert_eq!(batch.quiet_deadline(), None);
        batch.add([3], start);
        assert!(!batch.due(false, start), "too young");
        assert_eq!(batch.quiet_deadline(), Some(start + QUIET_DELAY));
        assert!(batch.due(false, start + QUIET_DELAY), "the source is quiet");
        assert!(!batch.due(true, start + Duration::from_millis(99)));
        batch.add([4, 2], start + Duration::from_millis(50));
        assert!(batch.due(true, start + COMMIT_INTERVAL), "old enough");
        assert_eq!(batch.take(), vec![3, 4, 2]);
        assert!(batch.is_empty());
        assert!(!batch.due(false, start + COMMIT_INTERVAL));
    }
}
