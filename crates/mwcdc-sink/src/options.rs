//! The settings every sink kind shares: the delivery guarantee and what happens to a record
//! that is too large.

use serde::Deserialize;

/// The delivery guarantee (`[sink] delivery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Delivery {
    /// Every change at least once; a restart may write some records again.
    #[default]
    AtLeastOnce,
    /// Every change exactly once: a restart skips what the partitions already hold.
    ExactlyOnce,
    /// Every change exactly once for `read_committed` consumers, through Kafka transactions
    /// that fence a previous instance (`docs/adr/0007-transactional-delivery.md`).
    Transactional,
}

impl Delivery {
    /// Whether a replay compares records with what the partitions hold (both exactly-once
    /// modes): the sink sets partitions itself and skips what is already written.
    pub fn compares_partition_ends(self) -> bool {
        matches!(self, Delivery::ExactlyOnce | Delivery::Transactional)
    }
}

/// What happens to a record larger than the producer may send (`[sink] oversize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Oversize {
    /// Stop with an error that names the row, before the checkpoint passes it.
    #[default]
    Fail,
    /// Write a small marker record in its place and count it.
    Skip,
}
