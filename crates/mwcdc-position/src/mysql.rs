//! MySQL GTIDs and GTID sets.
//!
//! A MySQL GTID is `uuid:gno` (MySQL 8.4 adds tagged GTIDs, `uuid:tag:gno`). Unlike MariaDB,
//! MySQL tracks *every* transaction applied, as a set of intervals per source: the textual form
//! printed by `@@gtid_executed` is `uuid:1-5:7,\nuuid2:1-3:tag:1-2`, where a tag applies to the
//! intervals after it until the next tag.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::PositionError;

/// The largest transaction number MySQL allows (`GNO_MAX`, 2^63 - 1).
pub const GNO_MAX: u64 = i64::MAX as u64;

/// A server UUID (`server_uuid`), the source id of MySQL GTIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid([u8; 16]);

impl Uuid {
    /// The UUID with these 16 bytes (as stored in binlog GTID events).
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Uuid(bytes)
    }

    /// The 16 bytes of the UUID.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for Uuid {
    type Err = PositionError;

    /// Parses the hyphenated 8-4-4-4-12 form, hex digits in either case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: String| PositionError::InvalidUuid {
            input: s.to_owned(),
            reason,
        };
        let bytes = s.as_bytes();
        if bytes.len() != 36 {
            return Err(bad(format!(
                "{} characters instead of 36",
                s.chars().count()
            )));
        }
        let mut out = [0u8; 16];
        let mut nibbles = 0usize;
        for (i, &c) in bytes.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if c != b'-' {
                    return Err(bad(format!("expected '-' at position {}", i + 1)));
                }
                continue;
            }
            let value = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(bad(format!("not a hex digit at position {}", i + 1))),
            };
            out[nibbles / 2] |= if nibbles % 2 == 0 { value << 4 } else { value };
            nibbles += 1;
        }
        Ok(Uuid(out))
    }
}

/// Checks a GTID tag and returns it in lower case (MySQL tags are case-insensitive).
pub fn normalize_tag(tag: &str) -> Result<String, PositionError> {
    let lower = tag.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= 32
        && (bytes[0].is_ascii_lowercase() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
    if valid {
        Ok(lower)
    } else {
        Err(PositionError::InvalidTag {
            input: tag.to_owned(),
        })
    }
}

fn check_gno(gno: u64) -> Result<u64, PositionError> {
    if (1..=GNO_MAX).contains(&gno) {
        Ok(gno)
    } else {
        Err(PositionError::InvalidGno { gno })
    }
}

/// One MySQL global transaction id: `uuid:gno` or `uuid:tag:gno`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MySqlGtid {
    /// The source server's UUID.
    pub sid: Uuid,
    /// The MySQL 8.4 tag, lower case, if any.
    pub tag: Option<String>,
    /// The transaction number, `1..=GNO_MAX`.
    pub gno: u64,
}

impl MySqlGtid {
    /// An untagged GTID.
    pub fn new(sid: Uuid, gno: u64) -> Self {
        MySqlGtid {
            sid,
            tag: None,
            gno,
        }
    }
}

impl fmt::Display for MySqlGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tag {
            Some(tag) => write!(f, "{}:{}:{}", self.sid, tag, self.gno),
            None => write!(f, "{}:{}", self.sid, self.gno),
        }
    }
}

impl FromStr for MySqlGtid {
    type Err = PositionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: String| PositionError::InvalidMySqlGtid {
            input: s.to_owned(),
            reason,
        };
        let parts: Vec<&str> = s.trim().split(':').map(str::trim).collect();
        let (sid, tag, gno) = match parts.as_slice() {
            [sid, gno] => (*sid, None, *gno),
            [sid, tag, gno] => (*sid, Some(normalize_tag(tag)?), *gno),
            _ => return Err(bad(format!("{} ':'-separated parts", parts.len()))),
        };
        let sid = sid.parse()?;
        let gno = parse_gno(gno).map_err(bad)?;
        Ok(MySqlGtid { sid, tag, gno })
    }
}

/// Parses a decimal transaction number in `1..=GNO_MAX`; the error is a reason.
fn parse_gno(text: &str) -> Result<u64, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not a transaction number"));
    }
    let gno: u64 = text
        .parse()
        .map_err(|_| format!("transaction number {text} is out of range"))?;
    check_gno(gno).map_err(|e| e.to_string())
}

/// The key of a GTID set's interval list: source UUID and tag.
type SetKey = (Uuid, Option<String>);

/// A set of MySQL GTIDs, as in `@@gtid_executed`.
///
/// Per source UUID and tag, a sorted list of merged, non-overlapping, non-adjacent half-open
/// intervals `[start, end)` of transaction numbers, `start >= 1`. No list is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GtidSet {
    intervals: BTreeMap<SetKey, Vec<(u64, u64)>>,
}

/// Inserts `[start, end)` into a sorted, merged list, merging overlapping and adjacent intervals.
fn insert_interval(list: &mut Vec<(u64, u64)>, start: u64, end: u64) {
    // first interval whose end reaches start (could merge)
    let first = list.partition_point(|&(_, e)| e < start);
    // first interval that starts after end (cannot merge)
    let last = list.partition_point(|&(s, _)| s <= end);
    if first == last {
        list.insert(first, (start, end));
    } else {
        let merged = (start.min(list[first].0), end.max(list[last - 1].1));
        list.splice(first..last, [merged]);
    }
}

/// Whether the sorted, merged `list` contains all of `[start, end)`.
fn covers_interval(list: &[(u64, u64)], start: u64, end: u64) -> bool {
    let i = list.partition_point(|&(_, e)| e <= start);
    list.get(i).is_some_and(|&(s, e)| s <= start && end <= e)
}

impl GtidSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the set holds no GTID.
    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty()
    }

    /// Adds one GTID, merging it with adjacent intervals.
    ///
    /// Fails on a transaction number outside `1..=GNO_MAX` or an invalid tag; a valid tag is
    /// stored in lower case.
    pub fn add(&mut self, gtid: &MySqlGtid) -> Result<(), PositionError> {
        let gno = check_gno(gtid.gno)?;
        let tag = gtid.tag.as_deref().map(normalize_tag).transpose()?;
        insert_interval(
            self.intervals.entry((gtid.sid, tag)).or_default(),
            gno,
            gno + 1,
        );
        Ok(())
    }

    /// Whether the set contains `gtid`.
    pub fn contains(&self, gtid: &MySqlGtid) -> bool {
        let tag = match gtid.tag.as_deref().map(normalize_tag).transpose() {
            Ok(tag) => tag,
            Err(_) => return false,
        };
        self.intervals
            .get(&(gtid.sid, tag))
            .is_some_and(|list| covers_interval(list, gtid.gno, gtid.gno.saturating_add(1)))
    }

    /// Adds every GTID of `other` to this set.
    pub fn union(&mut self, other: &GtidSet) {
        for (key, list) in &other.intervals {
            let mine = self.intervals.entry(key.clone()).or_default();
            for &(start, end) in list {
                insert_interval(mine, start, end);
            }
        }
    }

    /// Whether every GTID of this set is also in `other`.
    pub fn is_subset(&self, other: &GtidSet) -> bool {
        self.intervals.iter().all(|(key, list)| {
            other.intervals.get(key).is_some_and(|theirs| {
                list.iter()
                    .all(|&(start, end)| covers_interval(theirs, start, end))
            })
        })
    }

    /// Every interval as `(sid, tag, start, end_exclusive)`, by UUID, then untagged before
    /// tagged (tags in order), then by start.
    pub fn iter_intervals(&self) -> impl Iterator<Item = (&Uuid, Option<&str>, u64, u64)> + '_ {
        self.intervals.iter().flat_map(|((sid, tag), list)| {
            list.iter()
                .map(move |&(start, end)| (sid, tag.as_deref(), start, end))
        })
    }

    /// Parses one `uuid[:tag]:interval[:interval]...[:tag:interval...]` item into the set.
    fn parse_item(&mut self, input: &str, item: &str) -> Result<(), PositionError> {
        let bad = |reason: String| PositionError::InvalidGtidSet {
            input: input.to_owned(),
            reason,
        };
        let mut parts = item.split(':').map(str::trim);
        let sid: Uuid = match parts.next() {
            Some(text) => text.parse()?,
            None => return Err(bad(format!("item {item:?} has no UUID"))),
        };
        let mut tag: Option<String> = None;
        // whether the current UUID/tag has been given at least one interval
        let mut has_interval = false;
        for part in parts {
            let starts_with_digit = part.bytes().next().is_some_and(|b| b.is_ascii_digit());
            if !starts_with_digit {
                if part.is_empty() {
                    return Err(bad(format!("empty part in {item:?}")));
                }
                if !has_interval && tag.is_some() {
                    return Err(bad(format!(
                        "tag {:?} in {item:?} has no intervals",
                        tag.unwrap_or_default()
                    )));
                }
                tag = Some(normalize_tag(part)?);
                has_interval = false;
                continue;
            }
            let (start, last) = match part.split_once('-') {
                Some((a, b)) => (a.trim(), b.trim()),
                None => (part, part),
            };
            let start = parse_gno(start).map_err(|r| bad(format!("in {part:?}: {r}")))?;
            let last = parse_gno(last).map_err(|r| bad(format!("in {part:?}: {r}")))?;
            if last < start {
                return Err(bad(format!("interval {part:?} ends before it starts")));
            }
            insert_interval(
                self.intervals.entry((sid, tag.clone())).or_default(),
                start,
                last + 1,
            );
            has_interval = true;
        }
        if !has_interval {
            return Err(bad(match tag {
                Some(tag) => format!("tag {tag:?} in {item:?} has no intervals"),
                None => format!("UUID in {item:?} has no intervals"),
            }));
        }
        Ok(())
    }
}

impl fmt::Display for GtidSet {
    /// MySQL's textual form, UUIDs separated by `,` (without the newline MySQL adds).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut current_sid: Option<&Uuid> = None;
        for ((sid, tag), list) in &self.intervals {
            if current_sid != Some(sid) {
                if current_sid.is_some() {
                    f.write_str(",")?;
                }
                write!(f, "{sid}")?;
                current_sid = Some(sid);
            }
            if let Some(tag) = tag {
                write!(f, ":{tag}")?;
            }
            for &(start, end) in list {
                if end - start == 1 {
                    write!(f, ":{start}")?;
                } else {
                    write!(f, ":{start}-{}", end - 1)?;
                }
            }
        }
        Ok(())
    }
}

impl FromStr for GtidSet {
    type Err = PositionError;

    /// Parses MySQL's textual form, as printed by `@@gtid_executed` (newlines after commas,
    /// any letter case, MySQL 8.4 tags); `""` is the empty set. Overlapping intervals and
    /// repeated UUIDs are merged.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = GtidSet::new();
        if s.trim().is_empty() {
            return Ok(set);
        }
        for item in s.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(PositionError::InvalidGtidSet {
                    input: s.to_owned(),
                    reason: "empty item between commas".into(),
                });
            }
            set.parse_item(s, item)?;
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const B: &str = "8a94f357-aab4-11df-86ab-c80aa9429562";

    fn uuid(s: &str) -> Uuid {
        s.parse().expect("valid uuid")
    }

    fn set(s: &str) -> GtidSet {
        s.parse().expect("valid set")
    }

    fn gtid(sid: &str, tag: Option<&str>, gno: u64) -> MySqlGtid {
        MySqlGtid {
            sid: uuid(sid),
            tag: tag.map(str::to_owned),
            gno,
        }
    }

    fn set_err(s: &str) -> String {
        match s.parse::<GtidSet>() {
            Err(e) => e.to_string(),
            Ok(set) => panic!("{s:?} should be rejected, parsed as {set}"),
        }
    }

    #[test]
    fn uuid_round_trips_and_accepts_upper_case() {
        let u = uuid(A);
        assert_eq!(u.to_string(), A);
        assert_eq!(uuid(&A.to_uppercase()), u);
        assert_eq!(u.as_bytes()[0], 0x3e);
        assert_eq!(u.as_bytes()[15], 0x62);
        assert_eq!(Uuid::from_bytes(*u.as_bytes()), u);
    }

    #[test]
    fn uuid_rejects_wrong_length() {
        let err = "3e11fa47-71ca".parse::<Uuid>().unwrap_err();
        assert!(err.to_string().contains("13 characters"), "{err}");
    }

    #[test]
    fn uuid_rejects_missing_hyphens() {
        let err = "3e11fa4771ca11e19e33c80aa9429562abcd"
            .parse::<Uuid>()
            .unwrap_err();
        assert!(
            err.to_string().contains("expected '-' at position 9"),
            "{err}"
        );
    }

    #[test]
    fn uuid_rejects_non_hex() {
        let err = "3e11fa47-71ca-11e1-9e33-c80aa942956g"
            .parse::<Uuid>()
            .unwrap_err();
        assert!(
            err.to_string().contains("not a hex digit at position 36"),
            "{err}"
        );
    }

    #[test]
    fn gtid_display_and_parse() {
        let g = gtid(A, None, 23);
        assert_eq!(g.to_string(), format!("{A}:23"));
        assert_eq!(format!("{A}:23").parse::<MySqlGtid>(), Ok(g));
        let t = gtid(A, Some("blue"), 5);
        assert_eq!(t.to_string(), format!("{A}:blue:5"));
        assert_eq!(format!("{A}:BLUE:5").parse::<MySqlGtid>(), Ok(t));
    }

    #[test]
    fn gtid_rejects_zero_gno() {
        let err = format!("{A}:0").parse::<MySqlGtid>().unwrap_err();
        assert!(err.to_string().contains("between 1 and"), "{err}");
    }

    #[test]
    fn gtid_rejects_missing_gno() {
        let err = A.parse::<MySqlGtid>().unwrap_err();
        assert!(err.to_string().contains("1 ':'-separated parts"), "{err}");
    }

    #[test]
    fn parses_gtid_executed_output() {
        let text = format!("{}:1-5:7,\n{}:1-3", B.to_uppercase(), A);
        let s = set(&text);
        assert_eq!(s.to_string(), format!("{A}:1-3,{B}:1-5:7"));
        let intervals: Vec<_> = s
            .iter_intervals()
            .map(|(u, t, a, b)| (*u, t, a, b))
            .collect();
        assert_eq!(
            intervals,
            vec![
                (uuid(A), None, 1, 4),
                (uuid(B), None, 1, 6),
                (uuid(B), None, 7, 8)
            ]
        );
    }

    #[test]
    fn parses_tags_applying_until_next_tag() {
        let s = set(&format!("{A}:1-5:Blue:1-3:9:red_2:4,{B}:tag_x:1"));
        assert!(s.contains(&gtid(A, None, 5)));
        assert!(!s.contains(&gtid(A, None, 9)));
        assert!(s.contains(&gtid(A, Some("blue"), 9)));
        assert!(s.contains(&gtid(A, Some("BLUE"), 2)));
        assert!(s.contains(&gtid(A, Some("red_2"), 4)));
        assert!(!s.contains(&gtid(A, Some("red_2"), 1)));
        assert!(s.contains(&gtid(B, Some("tag_x"), 1)));
        assert_eq!(
            s.to_string(),
            format!("{A}:1-5:blue:1-3:9:red_2:4,{B}:tag_x:1")
        );
    }

    #[test]
    fn empty_text_is_the_empty_set() {
        assert!(set("").is_empty());
        assert!(set(" \n ").is_empty());
        assert_eq!(GtidSet::new().to_string(), "");
    }

    #[test]
    fn merges_overlapping_and_repeated_items() {
        let s = set(&format!("{A}:5-9:1-3,{A}:4:8-12"));
        assert_eq!(s.to_string(), format!("{A}:1-12"));
    }

    #[test]
    fn rejects_set_without_intervals() {
        assert!(set_err(A).contains("has no intervals"));
    }

    #[test]
    fn rejects_tag_without_intervals() {
        assert!(set_err(&format!("{A}:1-3:blue")).contains("tag \"blue\""));
    }

    #[test]
    fn rejects_two_tags_in_a_row() {
        assert!(set_err(&format!("{A}:blue:red:1")).contains("tag \"blue\""));
    }

    #[test]
    fn rejects_zero_gno_in_set() {
        assert!(set_err(&format!("{A}:0-3")).contains("between 1 and"));
    }

    #[test]
    fn rejects_reversed_interval() {
        assert!(set_err(&format!("{A}:5-3")).contains("\"5-3\" ends before it starts"));
    }

    #[test]
    fn rejects_gno_above_max() {
        assert!(set_err(&format!("{A}:1-9223372036854775808")).contains("between 1 and"));
    }

    #[test]
    fn rejects_garbage_interval() {
        assert!(set_err(&format!("{A}:1-x")).contains("\"x\" is not a transaction number"));
    }

    #[test]
    fn rejects_empty_part() {
        assert!(set_err(&format!("{A}::1")).contains("empty part"));
    }

    #[test]
    fn rejects_empty_item() {
        assert!(set_err(&format!("{A}:1,,{B}:1")).contains("empty item"));
    }

    #[test]
    fn rejects_invalid_tag() {
        let err = format!("{A}:bad-tag!:1").parse::<GtidSet>().unwrap_err();
        assert!(matches!(err, PositionError::InvalidTag { .. }), "{err}");
    }

    #[test]
    fn rejects_too_long_tag() {
        let tag = "a".repeat(33);
        let err = format!("{A}:{tag}:1").parse::<GtidSet>().unwrap_err();
        assert_eq!(err, PositionError::InvalidTag { input: tag });
    }

    #[test]
    fn rejects_bad_uuid_in_set() {
        let err = "not-a-uuid:1".parse::<GtidSet>().unwrap_err();
        assert!(matches!(err, PositionError::InvalidUuid { .. }), "{err}");
    }

    #[test]
    fn add_merges_adjacent_intervals() {
        let mut s = GtidSet::new();
        for gno in [1, 2, 3, 7, 5] {
            s.add(&gtid(A, None, gno)).unwrap();
        }
        assert_eq!(s.to_string(), format!("{A}:1-3:5:7"));
        s.add(&gtid(A, None, 4)).unwrap();
        assert_eq!(s.to_string(), format!("{A}:1-5:7"));
        s.add(&gtid(A, None, 6)).unwrap();
        assert_eq!(s.to_string(), format!("{A}:1-7"));
        s.add(&gtid(A, None, 3)).unwrap();
        assert_eq!(
            s.to_string(),
            format!("{A}:1-7"),
            "adding a member changes nothing"
        );
    }

    #[test]
    fn add_rejects_invalid_gno_and_tag() {
        let mut s = GtidSet::new();
        assert_eq!(
            s.add(&gtid(A, None, 0)),
            Err(PositionError::InvalidGno { gno: 0 })
        );
        assert!(s.add(&gtid(A, None, GNO_MAX + 1)).is_err());
        assert!(s.add(&gtid(A, Some("9lives"), 1)).is_err());
        assert!(s.is_empty());
        s.add(&gtid(A, None, GNO_MAX)).unwrap();
        assert!(s.contains(&gtid(A, None, GNO_MAX)));
    }

    #[test]
    fn union_and_subset() {
        let mut a = set(&format!("{A}:1-3"));
        let b = set(&format!("{A}:4-6,{B}:t:1"));
        assert!(!b.is_subset(&a));
        a.union(&b);
        assert_eq!(a.to_string(), format!("{A}:1-6,{B}:t:1"));
        assert!(b.is_subset(&a));
        assert!(set(&format!("{A}:2-5")).is_subset(&a));
        assert!(!set(&format!("{A}:2-7")).is_subset(&a));
        assert!(!set(&format!("{B}:1")).is_subset(&a), "tag matters");
        assert!(GtidSet::new().is_subset(&GtidSet::new()));
    }

    fn arb_gtids() -> impl Strategy<Value = Vec<MySqlGtid>> {
        let sids = [uuid(A), uuid(B)];
        proptest::collection::vec(
            (
                0usize..2,
                prop_oneof![Just(None), Just(Some("t")), Just(Some("_x9"))],
                1u64..40,
            ),
            0..40,
        )
        .prop_map(move |v| {
            v.into_iter()
                .map(|(i, tag, gno)| MySqlGtid {
                    sid: sids[i],
                    tag: tag.map(str::to_owned),
                    gno,
                })
                .collect()
        })
    }

    fn build(gtids: &[MySqlGtid]) -> GtidSet {
        let mut s = GtidSet::new();
        for g in gtids {
            s.add(g).expect("valid gtid");
        }
        s
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(gtids in arb_gtids()) {
            let s = build(&gtids);
            prop_assert_eq!(s.to_string().parse::<GtidSet>(), Ok(s));
        }

        #[test]
        fn add_then_contains(gtids in arb_gtids(), probe in 1u64..40) {
            let s = build(&gtids);
            for g in &gtids {
                prop_assert!(s.contains(g));
            }
            let probe = MySqlGtid::new(uuid(A), probe);
            prop_assert_eq!(s.contains(&probe), gtids.contains(&probe));
            // intervals stay sorted, non-empty, non-adjacent
            let list: Vec<_> = s.iter_intervals().collect();
            for w in list.windows(2) {
                if w[0].0 == w[1].0 && w[0].1 == w[1].1 {
                    prop_assert!(w[0].3 < w[1].2);
                }
            }
            prop_assert!(list.iter().all(|i| i.2 < i.3));
        }

        #[test]
        fn union_is_commutative(a in arb_gtids(), b in arb_gtids()) {
            let (sa, sb) = (build(&a), build(&b));
            let mut ab = sa.clone();
            ab.union(&sb);
            let mut ba = sb.clone();
            ba.union(&sa);
            prop_assert_eq!(&ab, &ba);
            prop_assert!(sa.is_subset(&ab) && sb.is_subset(&ab));
            let mut all = a.clone();
            all.extend(b);
            prop_assert_eq!(ab, build(&all));
        }
    }
}
