//! A row's key as the snapshot uses it: as query parameters of the next chunk's keyset
//! predicate, and as JSON in the checkpoint's cursor (and back, when a job resumes).
//!
//! Cursor JSON: integers as JSON numbers (the full `i64` and `u64` ranges), floating point as
//! `{"float": "<text>"}`, bytes as `{"hex": "..."}`, temporal values as
//! `{"temporal": "..."}`, text and decimals as `{"text": "..."}`, NULL as `null`.

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

/// A key value as a query parameter that compares with its column as the column's own
/// values do: temporal values in the server's literal form (`2024-01-02 03:04:05`).
pub(crate) fn param(value: &Value) -> mysql_async::Value {
    use mysql_async::Value as Param;
    match value {
        Value::Null => Param::NULL,
        Value::Int(v) => Param::Int(*v),
        Value::UInt(v) => Param::UInt(*v),
        Value::Float(v) => Param::Float(*v),
        Value::Double(v) => Param::Double(*v),
        Value::Temporal(s) => Param::Bytes(s.trim_end_matches('Z').replace('T', " ").into_bytes()),
        Value::Decimal(s) | Value::Text(s) => Param::Bytes(s.clone().into_bytes()),
        Value::Json(v) => Param::Bytes(v.to_string().into_bytes()),
        Value::Bytes(b) | Value::UndecodedText(b) => Param::Bytes(b.clone()),
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
    fn temporal_keys_are_parameters_in_the_servers_literal_form() {
        assert_eq!(
            param(&Value::Temporal("2024-01-02T03:04:05.5Z".into())),
            mysql_async::Value::Bytes(b"2024-01-02 03:04:05.5".to_vec())
        );
    }
}
