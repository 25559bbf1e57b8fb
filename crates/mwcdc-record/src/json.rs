//! Column values as JSON, written straight into a byte buffer.

use base64::Engine;
use mwcdc_binlog::Value;

use crate::envelope::BinaryMode;

/// Writes a JSON string literal.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes one column value as JSON: numbers keep their range, binary values follow `binary`.
pub fn write_value(out: &mut Vec<u8>, value: &Value, binary: BinaryMode) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Int(v) => out.extend_from_slice(v.to_string().as_bytes()),
        Value::UInt(v) => out.extend_from_slice(v.to_string().as_bytes()),
        Value::Float(v) => {
            let _ = serde_json::to_writer(&mut *out, v);
        }
        Value::Double(v) => {
            let _ = serde_json::to_writer(&mut *out, v);
        }
        Value::Decimal(s) | Value::Text(s) | Value::Temporal(s) => write_str(out, s),
        Value::Json(v) => write_str(out, &v.to_string()),
        Value::Bytes(bytes) => write_bytes(out, bytes, binary),
        // Text that did not decode is marked in every mode, so that it is never read as text.
        Value::UndecodedText(bytes) => write_base64_object(out, bytes),
    }
}

fn write_base64_object(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(b"{\"base64\":");
    write_str(
        out,
        &base64::engine::general_purpose::STANDARD.encode(bytes),
    );
    out.push(b'}');
}

/// Writes a binary value by the `binary` rule.
pub fn write_bytes(out: &mut Vec<u8>, bytes: &[u8], binary: BinaryMode) {
    match binary {
        BinaryMode::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => write_str(out, s),
            Err(_) => write_base64_object(out, bytes),
        },
        BinaryMode::Base64 => write_str(
            out,
            &base64::engine::general_purpose::STANDARD.encode(bytes),
        ),
        BinaryMode::Hex => {
            out.push(b'"');
            for b in bytes {
                out.extend_from_slice(format!("{b:02x}").as_bytes());
            }
            out.push(b'"');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(v: &Value, mode: BinaryMode) -> String {
        let mut out = Vec::new();
        write_value(&mut out, v, mode);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_keep_their_range() {
        assert_eq!(
            json(&Value::UInt(u64::MAX), BinaryMode::Utf8),
            "18446744073709551615"
        );
        assert_eq!(
            json(&Value::Int(i64::MIN), BinaryMode::Utf8),
            "-9223372036854775808"
        );
        assert_eq!(json(&Value::Double(0.5), BinaryMode::Utf8), "0.5");
        assert_eq!(
            json(&Value::Decimal("-1.50".into()), BinaryMode::Utf8),
            "\"-1.50\""
        );
    }

    #[test]
    fn binary_modes() {
        let title = Value::Bytes("Main Page \"ü\"".as_bytes().to_vec());
        assert_eq!(json(&title, BinaryMode::Utf8), r#""Main Page \"ü\"""#);
        let raw = Value::Bytes(vec![0xff, 0x00, 0x41]);
        assert_eq!(json(&raw, BinaryMode::Utf8), r#"{"base64":"/wBB"}"#);
        assert_eq!(json(&raw, BinaryMode::Base64), r#""/wBB""#);
        assert_eq!(json(&raw, BinaryMode::Hex), r#""ff0041""#);
        assert_eq!(json(&title, BinaryMode::Hex).len(), 2 + 2 * 14);
    }

    #[test]
    fn undecodable_text_is_marked_in_every_mode() {
        let v = Value::UndecodedText(vec![0xe9]);
        for mode in [BinaryMode::Utf8, BinaryMode::Base64, BinaryMode::Hex] {
            assert_eq!(json(&v, mode), r#"{"base64":"6Q=="}"#);
        }
    }

    #[test]
    fn json_column_is_its_text() {
        let v = Value::Json(serde_json::json!({"a": [1, "x"]}));
        assert_eq!(json(&v, BinaryMode::Utf8), r#""{\"a\":[1,\"x\"]}""#);
    }
}
