//! Reading MediaWiki rows by column name, and MediaWiki's value conventions (timestamps,
//! visibility bits).

use mwcdc_binlog::Value;
use mwcdc_record::TableSchema;

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

/// A MediaWiki timestamp (`YYYYMMDDHHMMSS`, UTC) as RFC 3339, `None` when malformed.
pub(crate) fn mw_timestamp(raw: &[u8]) -> Option<String> {
    let digits = raw.get(..14)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let text = std::str::from_utf8(digits).ok()?;
    let t = chrono::NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M%S").ok()?;
    Some(t.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Seconds since the epoch as RFC 3339.
pub(crate) fn epoch_timestamp(secs: u32) -> String {
    chrono::DateTime::from_timestamp(i64::from(secs), 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// `rev_deleted` / `ar_deleted` / `log_deleted` bits as a JSON object.
pub(crate) fn visibility_json(bits: u64) -> String {
    format!(
        "{{\"text\":{},\"comment\":{},\"user\":{},\"restricted\":{}}}",
        bits & 1 != 0,
        bits & 2 != 0,
        bits & 4 != 0,
        bits & 8 != 0
    )
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
    }

    #[test]
    fn columns_by_name() {
        let schema = TableSchema {
            db: "w".into(),
            table: "revision".into(),
            columns: vec!["rev_id".into(), "rev_page".into(), "rev_timestamp".into()],
            key: vec![0],
        };
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
    }
}
