//! The one error type of this crate: what was wrong, quoting the input.

use crate::flavor::Flavor;
use crate::gtid::MariaGtid;

/// Why a replication position could not be parsed, advanced or compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PositionError {
    /// A MariaDB GTID is not `domain-server-seq` in decimal.
    #[error(
        "invalid MariaDB GTID {input:?}: {reason} (expected domain-server-seq, e.g. \"0-1-42\")"
    )]
    InvalidMariaGtid {
        /// The text that was given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A MariaDB position names the same replication domain twice.
    #[error("invalid MariaDB position {input:?}: domain {domain} appears more than once")]
    DuplicateDomain {
        /// The whole position text.
        input: String,
        /// The repeated domain.
        domain: u32,
    },

    /// A MariaDB GTID whose sequence number is not above the last one of its domain.
    #[error(
        "MariaDB GTID went backwards in domain {domain}: {new} does not follow {current} \
         (sequence numbers must increase within a domain)"
    )]
    GtidWentBackwards {
        /// The replication domain.
        domain: u32,
        /// The last GTID recorded for the domain.
        current: MariaGtid,
        /// The GTID that was refused.
        new: MariaGtid,
    },

    /// A server UUID is not 32 hex digits in the 8-4-4-4-12 layout.
    #[error("invalid server UUID {input:?}: {reason} (expected 8-4-4-4-12 hex digits)")]
    InvalidUuid {
        /// The text that was given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A MySQL GTID tag is not `[a-z_][a-z0-9_]{0,31}`.
    #[error("invalid MySQL GTID tag {input:?}: a tag is a letter or '_' followed by at most 31 letters, digits or '_'")]
    InvalidTag {
        /// The text that was given.
        input: String,
    },

    /// A MySQL GTID number outside `1..=2^63-1`.
    #[error("invalid MySQL GTID number {gno}: must be between 1 and 9223372036854775807")]
    InvalidGno {
        /// The number that was given.
        gno: u64,
    },

    /// A single MySQL GTID is not `uuid:gno` or `uuid:tag:gno`.
    #[error("invalid MySQL GTID {input:?}: {reason} (expected uuid:gno or uuid:tag:gno)")]
    InvalidMySqlGtid {
        /// The text that was given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A MySQL GTID set is malformed.
    #[error("invalid MySQL GTID set {input:?}: {reason}")]
    InvalidGtidSet {
        /// The whole set text.
        input: String,
        /// What is wrong with it, naming the offending part.
        reason: String,
    },

    /// An empty position string carries no hint of its flavor.
    #[error("cannot tell the flavor of an empty position: give the flavor (mariadb or mysql) explicitly")]
    EmptyPositionNeedsFlavor,

    /// Positions of different flavors cannot be compared.
    #[error("cannot compare a {left} position with a {right} position")]
    FlavorMismatch {
        /// The flavor of the position compared from.
        left: Flavor,
        /// The flavor of the position compared with.
        right: Flavor,
    },
}
