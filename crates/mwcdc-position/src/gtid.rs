//! The MariaDB GTID as a value: domain, server and sequence number (parsed with the MariaDB
//! positions).

use std::fmt;

/// One MariaDB global transaction id, `domain-server-seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MariaGtid {
    /// The replication domain id.
    pub domain: u32,
    /// The id of the server that originated the transaction.
    pub server: u32,
    /// The sequence number within the domain.
    pub seq: u64,
}

impl MariaGtid {
    /// A GTID from its three parts.
    pub fn new(domain: u32, server: u32, seq: u64) -> Self {
        MariaGtid {
            domain,
            server,
            seq,
        }
    }
}

impl fmt::Display for MariaGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server, self.seq)
    }
}
