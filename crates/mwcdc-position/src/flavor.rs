//! Which server family a position belongs to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The server family whose replication positions are in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// MariaDB: positions are `domain-server-seq` GTIDs, one per replication domain.
    MariaDb,
    /// MySQL: positions are GTID sets.
    MySql,
}

impl Flavor {
    /// The lowercase name used in configuration and checkpoints.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::MariaDb => "mariadb",
            Flavor::MySql => "mysql",
        }
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A flavor name that is neither `mariadb` nor `mysql`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown database flavor {input:?}: expected \"mariadb\" or \"mysql\"")]
pub struct UnknownFlavor {
    /// The text that was given.
    pub input: String,
}

impl FromStr for Flavor {
    type Err = UnknownFlavor;

    /// Accepts `mariadb` and `mysql`, in any letter case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("mariadb") {
            Ok(Flavor::MariaDb)
        } else if s.eq_ignore_ascii_case("mysql") {
            Ok(Flavor::MySql)
        } else {
            Err(UnknownFlavor {
                input: s.to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        for flavor in [Flavor::MariaDb, Flavor::MySql] {
            assert_eq!(flavor.to_string().parse::<Flavor>(), Ok(flavor));
        }
        assert_eq!("MariaDB".parse::<Flavor>(), Ok(Flavor::MariaDb));
    }

    #[test]
    fn unknown_flavor_is_rejected_naming_the_input() {
        let err = "postgres".parse::<Flavor>().unwrap_err();
        assert_eq!(
            err,
            UnknownFlavor {
                input: "postgres".into()
            }
        );
        assert!(err.to_string().contains("\"postgres\""));
    }
}
