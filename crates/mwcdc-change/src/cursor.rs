//! A row's key as a snapshot job writes it down: in the checkpoint's cursor, in a record's
//! `mwcdc.snapshot` header, and back when a job resumes or a replay compares.
//!
//! Cursor JSON: integers as JSON numbers (the full `i64` and `u64` ranges), floating point as
//! `{"float": "<text>"}`, bytes as `{"hex": "..."}`, temporal values as
//! `{"temporal": "..."}`, text and decimals as `{"text": "..."}`, NULL as `null`.
//!
//! [`compare`] orders two keys as the server orders them, for the kinds whose order does not
//! depend on a collation or a format: integers, floating point and bytes (columns of the
//! `binary` character set, compared byte by byte). Every MediaWiki table's key is of these.

use std::cmp::Ordering;

use mwcdc_binlog::Value;
use serde_json::{json, Value as Json};

/// A key value in the cursor's JSON form.
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Int(v) => json!(v),
        Value::UInt(v) => json!(v),
        Value::Float(v) => json!({ "float": v.to_string() }),
        Value::Double(v) => json!({ "float": v.to_string() }),
        Value::Decimal(s) | Value::Text(s) => json!({ "text": s }),
        Value::Temporal(s) => json!({ "temporal": s }),
        Value::Json(v) => json!({ "text": v.to_string() }),
        Value::Bytes(b) | Value::UndecodedText(b) => json!({ "hex": hex(b) }),
    }
}

/// Writes a key, one value per column, as a JSON array of [`to_json`]'s values (integers
/// without building a JSON value: every snapshot record's key is written so).
pub fn write_json<'a>(key: impl Iterator<Item = &'a Value>, out: &mut String) {
    let mut digits = itoa::Buffer::new();
    out.push('[');
    for (n, value) in key.enumerate() {
        if n > 0 {
            out.push(',');
        }
        match value {
            Value::Int(v) => out.push_str(digits.format(*v)),
            Value::UInt(v) => out.push_str(digits.format(*v)),
            other => out.push_str(&to_json(other).to_string()),
        }
    }
    out.push(']');
}

/// The key value a cursor's JSON holds; an error says what does not decode.
pub fn from_json(json: &Json) -> Result<Value, String> {
    let unknown = || format!("a key value that mwcdc did not write: {json}");
    match json {
        Json::Null => Ok(Value::Null),
        Json::Number(n) => n
            .as_u64()
            .map(Value::UInt)
            .or_else(|| n.as_i64().map(Value::Int))
            .ok_or_else(unknown),
        Json::Object(map) if map.len() == 1 => match map.iter().next() {
            Some((tag, Json::String(s))) => match tag.as_str() {
                "text" => Ok(Value::Text(s.clone())),
                "temporal" => Ok(Value::Temporal(s.clone())),
                "hex" => unhex(s).map(Value::Bytes).ok_or_else(unknown),
                "float" => s.parse().map(Value::Double).map_err(|_| unknown()),
                _ => Err(unknown()),
            },
            _ => Err(unknown()),
        },
        _ => Err(unknown()),
    }
}

/// Orders two keys in cursor JSON, column by column, as the server orders their rows; an
/// error names a pair of values it cannot order (text, decimals, temporal values, NULL, or
/// values of different kinds).
pub fn compare(a: &[Json], b: &[Json]) -> Result<Ordering, String> {
    if a.len() != b.len() {
        return Err(format!(
            "keys of {} and {} columns cannot be compared",
            a.len(),
            b.len()
        ));
    }
    for (x, y) in a.iter().zip(b) {
        match compare_value(x, y)? {
            Ordering::Equal => continue,
            other => return Ok(other),
        }
    }
    Ok(Ordering::Equal)
}

/// Orders two key values of one column.
fn compare_value(a: &Json, b: &Json) -> Result<Ordering, String> {
    let unordered =
        || format!("mwcdc does not order the key values {a} and {b} as the server does");
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            let wide = |n: &serde_json::Number| {
                n.as_u64()
                    .map(i128::from)
                    .or_else(|| n.as_i64().map(i128::from))
            };
            match (wide(x), wide(y)) {
                (Some(x), Some(y)) => Ok(x.cmp(&y)),
                _ => Err(unordered()),
            }
        }
        (Json::Object(x), Json::Object(y)) => match (tagged(x), tagged(y)) {
            // Lower-case hex digits, two per byte: their order is the bytes' order.
            (Some(("hex", x)), Some(("hex", y))) => Ok(x.cmp(y)),
            (Some(("float", x)), Some(("float", y))) => {
                match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(x), Ok(y)) => x.partial_cmp(&y).ok_or_else(unordered),
                    _ => Err(unordered()),
                }
            }
            _ => Err(unordered()),
        },
        _ => Err(unordered()),
    }
}

/// The tag and text of a one-entry cursor object such as `{"hex": "00ff"}`.
fn tagged(map: &serde_json::Map<String, Json>) -> Option<(&str, &str)> {
    match map.iter().next() {
        Some((tag, Json::String(text))) if map.len() == 1 => Some((tag.as_str(), text.as_str())),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_values_come_back_as_they_went() {
        for value in [
            Value::Null,
            Value::UInt(u64::MAX),
            Value::Int(i64::MIN),
            Value::Bytes(vec![0, 0xff, b's']),
            Value::Text("Zürich".into()),
            Value::Temporal("2024-01-02T03:04:05Z".into()),
        ] {
            assert_eq!(from_json(&to_json(&value)), Ok(value));
        }
        assert_eq!(
            from_json(&to_json(&Value::Double(0.5))),
            Ok(Value::Double(0.5))
        );
    }

    #[test]
    fn a_cursor_mwcdc_did_not_write_is_an_error() {
        for json in [
            json!("x"),
            json!({"hex": "0"}),
            json!({"hex": "zz"}),
            json!({"a": "b"}),
            json!([1]),
        ] {
            assert!(from_json(&json).is_err(), "{json}");
        }
    }

    #[test]
    fn a_key_is_written_as_the_json_array_of_its_values() {
        let key = [
            Value::UInt(u64::MAX),
            Value::Int(-3),
            Value::Bytes(vec![0, 0xff]),
            Value::Text("a\"b".into()),
        ];
        let mut out = String::new();
        write_json(key.iter(), &mut out);
        let expected: Vec<Json> = key.iter().map(to_json).collect();
        assert_eq!(
            serde_json::from_str::<Json>(&out).unwrap(),
            Json::Array(expected)
        );
        assert_eq!(
            out,
            r#"[18446744073709551615,-3,{"hex":"00ff"},{"text":"a\"b"}]"#
        );
    }

    /// The order of two keys' JSON, from their values.
    fn order(a: &[Value], b: &[Value]) -> Result<Ordering, String> {
        let json = |k: &[Value]| k.iter().map(to_json).collect::<Vec<_>>();
        compare(&json(a), &json(b))
    }

    #[test]
    fn keys_are_ordered_as_the_server_orders_integers_floats_and_bytes() {
        use Value::*;
        let cases = [
            (vec![UInt(9)], vec![UInt(10)], Ordering::Less),
            (vec![UInt(u64::MAX)], vec![Int(-1)], Ordering::Greater),
            (vec![Int(i64::MIN)], vec![Int(0)], Ordering::Less),
            (vec![UInt(7)], vec![UInt(7)], Ordering::Equal),
            (vec![Double(-0.5)], vec![Double(0.25)], Ordering::Less),
            // Bytes: byte by byte, a prefix first, 0xff last.
            (
                vec![Bytes(b"ab".to_vec())],
                vec![Bytes(b"ab\0".to_vec())],
                Ordering::Less,
            ),
            (
                vec![Bytes(vec![0x7f])],
                vec![Bytes(vec![0x80])],
                Ordering::Less,
            ),
            (
                vec![Bytes(vec![0xff])],
                vec![Bytes(b"z".to_vec())],
                Ordering::Greater,
            ),
            // Column by column: the second decides only when the first is equal.
            (
                vec![UInt(2), Bytes(b"a".to_vec())],
                vec![UInt(10), Bytes(b"\0".to_vec())],
                Ordering::Less,
            ),
            (
                vec![UInt(2), Bytes(b"sysop".to_vec())],
                vec![UInt(2), Bytes(b"bot".to_vec())],
                Ordering::Greater,
            ),
        ];
        for (a, b, expected) in cases {
            assert_eq!(order(&a, &b), Ok(expected), "{a:?} vs {b:?}");
            assert_eq!(order(&b, &a), Ok(expected.reverse()), "{b:?} vs {a:?}");
        }
    }

    #[test]
    fn keys_whose_order_depends_on_a_collation_or_format_are_not_ordered() {
        use Value::*;
        for (a, b) in [
            (Text("a".into()), Text("B".into())),
            (Decimal("10.5".into()), Decimal("9.25".into())),
            (Temporal("-01:00:00".into()), Temporal("-02:00:00".into())),
            (Null, Null),
        ] {
            assert!(
                order(std::slice::from_ref(&a), std::slice::from_ref(&b)).is_err(),
                "{a:?} {b:?}"
            );
        }
        // Values of two kinds, or keys of different lengths: not of one table's key.
        assert!(order(&[UInt(1)], &[Bytes(b"1".to_vec())]).is_err());
        assert!(order(&[UInt(1)], &[UInt(1), UInt(2)]).is_err());
    }
}
