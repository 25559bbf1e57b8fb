//! Reading MediaWiki rows by column name, and MediaWiki's value conventions (timestamps,
//! visibility bits).

use std::sync::LazyLock;

use mwcdc_binlog::{civil_from_days, Value};
use mwcdc_change::TableSchema;

/// One row image of a table, read by column name.
#[derive(Clone, Copy)]
pub(crate) struct Row<'a> {
    pub(crate) schema: &'a TableSchema,
    pub(crate) values: &'a [Value],
}

impl<'a> Row<'a> {
    /// The value of a column, `None` when the table has no such column.
    pub(crate) fn get(&self, column: &str) -> Option<&'a Value> {
        let i = self.schema.columns.iter().position(|c| c == column)?;
        self.values.get(i)
    }

    /// An unsigned integer column (ids); signed non-negative values are accepted too.
    pub(crate) fn uint(&self, column: &str) -> Option<u64> {
        match self.get(column)? {
            Value::UInt(n) => Some(*n),
            Value::Int(n) => u64::try_from(*n).ok(),
            _ => None,
        }
    }

    /// A signed integer column (namespaces).
    pub(crate) fn int(&self, column: &str) -> Option<i64> {
        match self.get(column)? {
            Value::Int(n) => Some(*n),
            Value::UInt(n) => i64::try_from(*n).ok(),
            _ => None,
        }
    }

    /// A byte string column (titles, types, timestamps).
    pub(crate) fn bytes(&self, column: &str) -> Option<&'a [u8]> {
        match self.get(column)? {
            Value::Bytes(b) | Value::UndecodedText(b) => Some(b),
            Value::Text(s) => Some(s.as_bytes()),
            _ => None,
        }
    }
}

/// A MediaWiki timestamp (`YYYYMMDDHHMMSS`, UTC) as RFC 3339, `None` when malformed or not
/// a date. (On the hot path: digits are checked and copied, no date library.)
pub(crate) fn mw_timestamp(raw: &[u8]) -> Option<String> {
    let d = raw.get(..14)?;
    if !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |at: usize, len: usize| {
        d[at..at + len]
            .iter()
            .fold(0u32, |n, c| n * 10 + u32::from(c - b'0'))
    };
    let (year, month, day) = (num(0, 4), num(4, 2), num(6, 2));
    let (hour, minute, second) = (num(8, 2), num(10, 2), num(12, 2));
    // A leap second (60) is a valid time, as in RFC 3339.
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(rfc3339(d))
}

/// Fourteen digits `YYYYMMDDHHMMSS` laid out as `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(d: &[u8]) -> String {
    let mut out = Vec::with_capacity(20);
    for (at, len, after) in [
        (0, 4, b'-'),
        (4, 2, b'-'),
        (6, 2, b'T'),
        (8, 2, b':'),
        (10, 2, b':'),
        (12, 2, b'Z'),
    ] {
        out.extend_from_slice(&d[at..at + len]);
        out.push(after);
    }
    // Digits and separators only: always UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Seconds since the epoch as RFC 3339 (the civil date from the day count by
/// [`civil_from_days`]).
pub(crate) fn epoch_timestamp(secs: u32) -> String {
    let (year, month, day) = civil_from_days(i64::from(secs / 86_400));
    let rem = secs % 86_400;
    let mut digits = [b'0'; 14];
    for (at, len, n) in [
        (0, 4, year),
        (4, 2, i64::from(month)),
        (6, 2, i64::from(day)),
        (8, 2, i64::from(rem / 3_600)),
        (10, 2, i64::from(rem / 60 % 60)),
        (12, 2, i64::from(rem % 60)),
    ] {
        let mut n = n;
        for digit in digits[at..at + len].iter_mut().rev() {
            *digit = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    rfc3339(&digits)
}

/// `rev_deleted` / `ar_deleted` / `log_deleted` bits as a JSON object.
pub(crate) fn visibility_json(bits: u64) -> &'static str {
    /// The object of each combination of the four bits, written once.
    static OBJECTS: LazyLock<Vec<String>> = LazyLock::new(|| {
        (0..16u8)
            .map(|bits| {
                format!(
                    "{{\"text\":{},\"comment\":{},\"user\":{},\"restricted\":{}}}",
                    bits & 1 != 0,
                    bits & 2 != 0,
                    bits & 4 != 0,
                    bits & 8 != 0
                )
            })
            .collect()
    });
    &OBJECTS[(bits & 15) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(
            mw_timestamp(b"20260126080005").as_deref(),
            Some("2026-01-26T08:00:05Z")
        );
        assert_eq!(mw_timestamp(b"2026012608000"), None);
        assert_eq!(mw_timestamp(b"20261326080005"), None);
        assert_eq!(mw_timestamp(b"2026012608000x"), None);
        assert_eq!(epoch_timestamp(0), "1970-01-01T00:00:00Z");
        let chrono_leap = chrono::NaiveDateTime::parse_from_str("20240229235960", "%Y%m%d%H%M%S")
            .map(|t| t.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .ok();
        assert_eq!(
            mw_timestamp(b"20240229235960"),
            chrono_leap,
            "a leap second, as before"
        );
        assert_eq!(mw_timestamp(b"20230229000000"), None, "not a leap year");
        assert_eq!(mw_timestamp(b"21000229000000"), None, "not a leap year");
        assert_eq!(
            mw_timestamp(b"20000229000000").as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(mw_timestamp(b"20260431000000"), None);
        assert_eq!(mw_timestamp(b"20260101240000"), None);
    }

    proptest::proptest! {
        /// The same answers as chrono, the date library they replace on the hot path.
        #[test]
        fn timestamps_agree_with_chrono(secs: u32, digits in "[0-9]{14}") {
            let expected = chrono::DateTime::from_timestamp(i64::from(secs), 0)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap();
            proptest::prop_assert_eq!(epoch_timestamp(secs), expected);
            let expected = chrono::NaiveDateTime::parse_from_str(&digits, "%Y%m%d%H%M%S")
                .ok()
                .map(|t| t.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string());
            proptest::prop_assert_eq!(mw_timestamp(digits.as_bytes()), expected);
        }

        /// Valid dates, which random digits rarely are.
        #[test]
        fn valid_dates_agree_with_chrono(secs: u32) {
            let formatted = epoch_timestamp(secs).replace(['-', 'T', ':', 'Z'], "");
            let expected = chrono::DateTime::from_timestamp(i64::from(secs), 0)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            proptest::prop_assert_eq!(mw_timestamp(formatted.as_bytes()), expected);
        }
    }

    #[test]
    fn columns_by_name() {
        let schema = TableSchema::new(
            "w".into(),
            "revision".into(),
            vec!["rev_id".into(), "rev_page".into(), "rev_timestamp".into()],
            vec![0],
        );
        let values = [
            Value::UInt(u64::MAX),
            Value::Int(-1),
            Value::Bytes(b"20260101000000".to_vec()),
        ];
        let row = Row {
            schema: &schema,
            values: &values,
        };
        assert_eq!(row.uint("rev_id"), Some(u64::MAX));
        assert_eq!(row.uint("rev_page"), None, "negative is not an id");
        assert_eq!(row.int("rev_page"), Some(-1));
        assert_eq!(row.bytes("rev_timestamp"), Some(&b"20260101000000"[..]));
        assert_eq!(row.get("rev_sha1"), None);
    }

    #[test]
    fn visibility_bits() {
        assert_eq!(
            visibility_json(9),
            r#"{"text":true,"comment":false,"user":false,"restricted":true}"#
        );
        assert_eq!(
            visibility_json(16 + 2),
            visibility_json(2),
            "only four bits"
        );
        assert_eq!(
            visibility_json(15),
            r#"{"text":true,"comment":true,"user":true,"restricted":true}"#
        );
    }
}
