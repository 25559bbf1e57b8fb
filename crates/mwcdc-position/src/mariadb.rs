//! MariaDB replication positions.
//!
//! A MariaDB GTID is `domain-server-seq`. Within one replication domain, strict mode
//! (`gtid_strict_mode`) guarantees that sequence numbers only increase, also across a failover
//! where the server id changes; different domains are independent streams. A position is thus
//! the last GTID applied in every domain, as in `@@gtid_slave_pos` or `@@gtid_binlog_pos`:
//! `0-1-100,1-2-50`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::gtid::MariaGtid;
use crate::PositionError;

/// Parses one decimal field of a GTID; only ASCII digits are accepted.
fn parse_field<T: FromStr>(input: &str, field: &str, name: &str) -> Result<T, PositionError> {
    let bad = |reason: String| PositionError::InvalidMariaGtid {
        input: input.to_owned(),
        reason,
    };
    if field.is_empty() {
        return Err(bad(format!("the {name} is empty")));
    }
    if !field.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("the {name} {field:?} is not a decimal number")));
    }
    field
        .parse()
        .map_err(|_| bad(format!("the {name} {field} is out of range")))
}

impl FromStr for MariaGtid {
    type Err = PositionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('-').collect();
        if parts.len() != 3 {
            return Err(PositionError::InvalidMariaGtid {
                input: s.to_owned(),
                reason: format!("found {} '-'-separated parts instead of 3", parts.len()),
            });
        }
        Ok(MariaGtid {
            domain: parse_field(s, parts[0], "domain id")?,
            server: parse_field(s, parts[1], "server id")?,
            seq: parse_field(s, parts[2], "sequence number")?,
        })
    }
}

/// A MariaDB replication position: the last GTID of every replication domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MariaPosition {
    domains: BTreeMap<u32, MariaGtid>,
}

impl MariaPosition {
    /// An empty position (no domain seen yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// The last GTID of `domain`, if the domain has been seen.
    pub fn get(&self, domain: u32) -> Option<&MariaGtid> {
        self.domains.get(&domain)
    }

    /// The last GTID of every domain, in domain order.
    pub fn iter(&self) -> impl Iterator<Item = &MariaGtid> + '_ {
        self.domains.values()
    }

    /// Whether no domain has been seen.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// Records `gtid` as the last GTID of its domain.
    ///
    /// Refuses, leaving the position unchanged, a GTID whose sequence number is not above the
    /// domain's current one: strict mode makes that impossible, so it means a misconfigured
    /// server or a replay from the wrong place.
    pub fn advance(&mut self, gtid: MariaGtid) -> Result<(), PositionError> {
        if let Some(current) = self.domains.get(&gtid.domain) {
            if gtid.seq <= current.seq {
                return Err(PositionError::GtidWentBackwards {
                    domain: gtid.domain,
                    current: *current,
                    new: gtid,
                });
            }
        }
        self.domains.insert(gtid.domain, gtid);
        Ok(())
    }

    /// Adds the domains of `other` that are missing here, keeping the ones already present.
    ///
    /// Used to seed a position from a GTID_LIST event: domains with no transaction since the
    /// start position still need an entry.
    pub fn seed(&mut self, other: &MariaPosition) {
        for (domain, gtid) in &other.domains {
            self.domains.entry(*domain).or_insert(*gtid);
        }
    }

    /// Whether `gtid` is at or before the last GTID of its domain (already applied).
    pub fn contains(&self, gtid: &MariaGtid) -> bool {
        self.domains
            .get(&gtid.domain)
            .is_some_and(|last| gtid.seq <= last.seq)
    }

    /// Whether every domain's GTID in `other` is contained in this position.
    pub fn covers(&self, other: &MariaPosition) -> bool {
        other.domains.values().all(|gtid| self.contains(gtid))
    }
}

impl fmt::Display for MariaPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, gtid) in self.domains.values().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{gtid}")?;
        }
        Ok(())
    }
}

impl FromStr for MariaPosition {
    type Err = PositionError;

    /// Parses a comma-separated list of GTIDs, at most one per domain; `""` is empty.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut position = MariaPosition::new();
        if s.trim().is_empty() {
            return Ok(position);
        }
        for item in s.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(PositionError::InvalidMariaGtid {
                    input: s.to_owned(),
                    reason: "empty item between commas".into(),
                });
            }
            let gtid: MariaGtid = item.parse()?;
            if position.domains.insert(gtid.domain, gtid).is_some() {
                return Err(PositionError::DuplicateDomain {
                    input: s.to_owned(),
                    domain: gtid.domain,
                });
            }
        }
        Ok(position)
    }
}

impl FromIterator<MariaGtid> for MariaPosition {
    /// Keeps, per domain, the GTID with the highest sequence number.
    fn from_iter<I: IntoIterator<Item = MariaGtid>>(iter: I) -> Self {
        let mut position = MariaPosition::new();
        for gtid in iter {
            let entry = position.domains.entry(gtid.domain).or_insert(gtid);
            if gtid.seq > entry.seq {
                *entry = gtid;
            }
        }
        position
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pos(s: &str) -> MariaPosition {
        s.parse().expect("valid position")
    }

    fn g(domain: u32, server: u32, seq: u64) -> MariaGtid {
        MariaGtid::new(domain, server, seq)
    }

    fn gtid_err(s: &str) -> String {
        match s.parse::<MariaGtid>() {
            Err(e @ PositionError::InvalidMariaGtid { .. }) => e.to_string(),
            other => panic!("{s:?} should be an invalid GTID, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_gtid() {
        assert_eq!("0-1-42".parse::<MariaGtid>(), Ok(g(0, 1, 42)));
        assert_eq!(
            "4294967295-4294967295-18446744073709551615".parse::<MariaGtid>(),
            Ok(g(u32::MAX, u32::MAX, u64::MAX))
        );
        assert_eq!(g(3, 100, 7).to_string(), "3-100-7");
    }

    #[test]
    fn rejects_gtid_with_two_parts() {
        assert!(gtid_err("0-1").contains("2 '-'-separated parts"));
    }

    #[test]
    fn rejects_gtid_with_four_parts() {
        assert!(gtid_err("0-1-2-3").contains("4 '-'-separated parts"));
    }

    #[test]
    fn rejects_gtid_with_empty_field() {
        assert!(gtid_err("0--5").contains("server id is empty"));
    }

    #[test]
    fn rejects_negative_looking_gtid() {
        // "-1-2-3" splits into four parts, the first empty
        assert!(gtid_err("-1-2-3").contains("\"-1-2-3\""));
    }

    #[test]
    fn rejects_gtid_with_letters() {
        assert!(gtid_err("0-1-4a").contains("sequence number \"4a\" is not a decimal number"));
    }

    #[test]
    fn rejects_gtid_with_plus_sign() {
        assert!(gtid_err("+0-1-4").contains("domain id \"+0\""));
    }

    #[test]
    fn rejects_gtid_with_inner_space() {
        assert!(gtid_err("0- 1-4").contains("server id \" 1\""));
    }

    #[test]
    fn rejects_domain_out_of_range() {
        assert!(gtid_err("4294967296-1-1").contains("domain id 4294967296 is out of range"));
    }

    #[test]
    fn rejects_seq_out_of_range() {
        assert!(gtid_err("0-1-18446744073709551616").contains("out of range"));
    }

    #[test]
    fn rejects_mysql_gtid_as_mariadb() {
        assert!(gtid_err("3e11fa47-71ca-11e1-9e33-c80aa9429562:23").contains("parts instead of 3"));
    }

    #[test]
    fn parses_positions_sorted_and_prints_them_sorted() {
        let p = pos(" 2-1-5 ,\n0-3-100,1-1-1 ");
        assert_eq!(p.to_string(), "0-3-100,1-1-1,2-1-5");
        assert_eq!(p.get(0), Some(&g(0, 3, 100)));
        assert_eq!(p.get(7), None);
        let domains: Vec<u32> = p.iter().map(|g| g.domain).collect();
        assert_eq!(domains, vec![0, 1, 2]);
    }

    #[test]
    fn empty_string_is_the_empty_position() {
        assert!(pos("").is_empty());
        assert!(pos("  \n").is_empty());
        assert_eq!(MariaPosition::new().to_string(), "");
    }

    #[test]
    fn rejects_position_with_duplicate_domain() {
        let err = "0-1-5,1-1-1,0-2-6".parse::<MariaPosition>().unwrap_err();
        assert_eq!(
            err,
            PositionError::DuplicateDomain {
                input: "0-1-5,1-1-1,0-2-6".into(),
                domain: 0
            }
        );
    }

    #[test]
    fn rejects_position_with_trailing_comma() {
        let err = "0-1-5,".parse::<MariaPosition>().unwrap_err();
        assert!(err.to_string().contains("empty item"), "{err}");
    }

    #[test]
    fn rejects_position_with_bad_item() {
        let err = "0-1-5,x".parse::<MariaPosition>().unwrap_err();
        assert!(err.to_string().contains("\"x\""), "{err}");
    }

    #[test]
    fn advance_moves_forward_per_domain() {
        let mut p = MariaPosition::new();
        p.advance(g(0, 1, 1)).unwrap();
        p.advance(g(0, 1, 2)).unwrap();
        p.advance(g(1, 1, 1)).unwrap();
        // failover: new server id, sequence continues
        p.advance(g(0, 2, 3)).unwrap();
        assert_eq!(p.to_string(), "0-2-3,1-1-1");
    }

    #[test]
    fn advance_rejects_equal_seq() {
        let mut p = pos("0-1-10");
        let err = p.advance(g(0, 2, 10)).unwrap_err();
        assert_eq!(
            err,
            PositionError::GtidWentBackwards {
                domain: 0,
                current: g(0, 1, 10),
                new: g(0, 2, 10)
            }
        );
        assert_eq!(
            p,
            pos("0-1-10"),
            "a refused GTID leaves the position unchanged"
        );
    }

    #[test]
    fn advance_rejects_lower_seq() {
        let mut p = pos("0-1-10,1-1-3");
        let err = p.advance(g(1, 1, 2)).unwrap_err();
        assert!(
            err.to_string().contains("1-1-2 does not follow 1-1-3"),
            "{err}"
        );
    }

    #[test]
    fn seed_adds_missing_domains_only() {
        let mut p = pos("0-1-10");
        p.seed(&pos("0-1-5,1-2-7,2-3-1"));
        assert_eq!(p.to_string(), "0-1-10,1-2-7,2-3-1");
    }

    #[test]
    fn contains_compares_seq_within_domain() {
        let p = pos("0-1-10,1-1-5");
        assert!(p.contains(&g(0, 1, 10)));
        assert!(p.contains(&g(0, 9, 3)));
        assert!(!p.contains(&g(0, 1, 11)));
        assert!(!p.contains(&g(2, 1, 1)), "unknown domain is not contained");
    }

    #[test]
    fn covers_needs_every_domain() {
        let p = pos("0-1-10,1-1-5");
        assert!(p.covers(&pos("0-1-10")));
        assert!(p.covers(&pos("0-1-9,1-1-5")));
        assert!(p.covers(&MariaPosition::new()));
        assert!(!p.covers(&pos("0-1-11")));
        assert!(!p.covers(&pos("0-1-1,3-1-1")));
        assert!(!MariaPosition::new().covers(&p));
    }

    #[test]
    fn from_iter_keeps_the_highest_seq() {
        let p: MariaPosition = [g(0, 1, 5), g(0, 1, 3), g(1, 1, 1)].into_iter().collect();
        assert_eq!(p.to_string(), "0-1-5,1-1-1");
    }

    fn arb_position() -> impl Strategy<Value = MariaPosition> {
        proptest::collection::btree_map(any::<u32>(), (any::<u32>(), any::<u64>()), 0..6).prop_map(
            |m| {
                m.into_iter()
                    .map(|(domain, (server, seq))| MariaGtid::new(domain, server, seq))
                    .collect()
            },
        )
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(p in arb_position()) {
            let text = p.to_string();
            prop_assert_eq!(text.parse::<MariaPosition>(), Ok(p));
        }

        #[test]
        fn advance_then_contains(p in arb_position(), domain in 0u32..4, server: u32, step in 1u64..1000) {
            let mut p = p;
            let seq = p.get(domain).map_or(step, |g| g.seq.saturating_add(step));
            let gtid = MariaGtid::new(domain, server, seq);
            if seq == u64::MAX && p.get(domain).is_some_and(|g| g.seq == u64::MAX) {
                prop_assert!(p.advance(gtid).is_err());
            } else {
                prop_assert!(p.advance(gtid).is_ok());
                prop_assert!(p.contains(&gtid));
                prop_assert!(p.advance(gtid).is_err());
            }
        }

        #[test]
        fn seeded_position_covers_both(a in arb_position(), b in arb_position()) {
            let mut s = a.clone();
            s.seed(&b);
            prop_assert!(s.covers(&a));
            for gtid in b.iter() {
                prop_assert!(s.get(gtid.domain).is_some());
            }
        }
    }
}
