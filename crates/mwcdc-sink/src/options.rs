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
