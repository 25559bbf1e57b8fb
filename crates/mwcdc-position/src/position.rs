//! A position of either flavor.

use std::fmt;

use crate::{Flavor, GtidSet, MariaPosition, PositionError};

/// A replication position of either server family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Position {
    /// A MariaDB position: the last GTID of every domain.
    MariaDb(MariaPosition),
    /// A MySQL position: the set of executed GTIDs.
    MySql(GtidSet),
}

impl Position {
    /// The server family of this position.
    pub fn flavor(&self) -> Flavor {
        match self {
            Position::MariaDb(_) => Flavor::MariaDb,
            Position::MySql(_) => Flavor::MySql,
        }
    }

    /// Parses `text` as a position of `flavor`; `""` is the empty position.
    pub fn parse(flavor: Flavor, text: &str) -> Result<Self, PositionError> {
        Ok(match flavor {
            Flavor::MariaDb => Position::MariaDb(text.parse()?),
            Flavor::MySql => Position::MySql(text.parse()?),
        })
    }

    /// Parses `text`, telling the flavor from its form: a MySQL GTID set contains `':'`, a
    /// MariaDB position does not. An empty text is refused, since its flavor is unknown.
    pub fn parse_any(text: &str) -> Result<Self, PositionError> {
        if text.trim().is_empty() {
            Err(PositionError::EmptyPositionNeedsFlavor)
        } else if text.contains(':') {
            Self::parse(Flavor::MySql, text)
        } else {
            Self::parse(Flavor::MariaDb, text)
        }
    }

    /// Whether everything `other` has applied is also applied in this position.
    ///
    /// Refuses with [`PositionError::FlavorMismatch`] to compare positions of different flavors.
    pub fn try_covers(&self, other: &Position) -> Result<bool, PositionError> {
        match (self, other) {
            (Position::MariaDb(mine), Position::MariaDb(theirs)) => Ok(mine.covers(theirs)),
            (Position::MySql(mine), Position::MySql(theirs)) => Ok(theirs.is_subset(mine)),
            _ => Err(PositionError::FlavorMismatch {
                left: self.flavor(),
                right: other.flavor(),
            }),
        }
    }

    /// How many transactions `newer` has applied that this position has not. MariaDB: the
    /// difference of sequence numbers per domain (exact with `gtid_strict_mode`, where they
    /// have no gaps). MySQL: the GTIDs in `newer` missing here.
    pub fn transactions_until(&self, newer: &Position) -> Result<u64, PositionError> {
        match (self, newer) {
            (Position::MariaDb(mine), Position::MariaDb(theirs)) => Ok(theirs
                .iter()
                .map(|g| {
                    let have = mine.get(g.domain).map_or(0, |m| m.seq);
                    g.seq.saturating_sub(have)
                })
                .sum()),
            (Position::MySql(mine), Position::MySql(theirs)) => {
                let mut missing = 0;
                for (sid, tag, start, end) in theirs.iter_intervals() {
                    let overlap: u64 = mine
                        .iter_intervals()
                        .filter(|(s, t, _, _)| *s == sid && *t == tag)
                        .map(|(_, _, a, b)| b.min(end).saturating_sub(a.max(start)))
                        .sum();
                    missing += (end - start).saturating_sub(overlap);
                }
                Ok(missing)
            }
            _ => Err(PositionError::FlavorMismatch {
                left: self.flavor(),
                right: newer.flavor(),
            }),
        }
    }
}

impl fmt::Display for Position {
    /// The inner position's own textual form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::MariaDb(p) => p.fmt(f),
            Position::MySql(s) => s.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    #[test]
    fn counts_the_transactions_between_two_positions() {
        let p = |s: &str| Position::parse_any(s).unwrap();
        assert_eq!(p("0-1-10").transactions_until(&p("0-1-15")).unwrap(), 5);
        assert_eq!(
            p("0-1-10,1-2-3")
                .transactions_until(&p("0-2-12,1-2-3,2-1-4"))
                .unwrap(),
            2 + 4
        );
        assert_eq!(p("0-1-20").transactions_until(&p("0-1-15")).unwrap(), 0);
        let mine = p(&format!("{A}:1-10:15-20"));
        let theirs = p(&format!("{A}:1-25"));
        assert_eq!(mine.transactions_until(&theirs).unwrap(), 4 + 5);
        assert!(mine.transactions_until(&p("0-1-1")).is_err());
    }

    #[test]
    fn parse_any_detects_the_flavor() {
        let m = Position::parse_any("0-1-5,1-1-2").unwrap();
        assert_eq!(m.flavor(), Flavor::MariaDb);
        assert_eq!(m.to_string(), "0-1-5,1-1-2");
        let s = Position::parse_any(&format!("{A}:1-5")).unwrap();
        assert_eq!(s.flavor(), Flavor::MySql);
        assert_eq!(s.to_string(), format!("{A}:1-5"));
    }

    #[test]
    fn parse_any_refuses_empty_text() {
        let err = Position::parse_any(" ").unwrap_err();
        assert_eq!(err, PositionError::EmptyPositionNeedsFlavor);
        assert!(err.to_string().contains("give the flavor"));
    }

    #[test]
    fn parse_with_flavor_accepts_empty_and_checks_form() {
        assert_eq!(
            Position::parse(Flavor::MariaDb, "").unwrap(),
            Position::MariaDb(MariaPosition::new())
        );
        assert_eq!(
            Position::parse(Flavor::MySql, "").unwrap(),
            Position::MySql(GtidSet::new())
        );
        assert!(Position::parse(Flavor::MariaDb, &format!("{A}:1")).is_err());
        assert!(Position::parse(Flavor::MySql, "0-1-1").is_err());
    }

    #[test]
    fn try_covers_compares_same_flavor() {
        let later = Position::parse(Flavor::MySql, &format!("{A}:1-10")).unwrap();
        let earlier = Position::parse(Flavor::MySql, &format!("{A}:1-5")).unwrap();
        assert_eq!(later.try_covers(&earlier), Ok(true));
        assert_eq!(earlier.try_covers(&later), Ok(false));
        let m_later = Position::parse_any("0-1-9").unwrap();
        let m_earlier = Position::parse_any("0-2-3").unwrap();
        assert_eq!(m_later.try_covers(&m_earlier), Ok(true));
        assert_eq!(m_earlier.try_covers(&m_later), Ok(false));
    }

    #[test]
    fn try_covers_refuses_different_flavors() {
        let m = Position::parse_any("0-1-9").unwrap();
        let s = Position::parse_any(&format!("{A}:1")).unwrap();
        assert_eq!(
            m.try_covers(&s),
            Err(PositionError::FlavorMismatch {
                left: Flavor::MariaDb,
                right: Flavor::MySql
            })
        );
    }
}
