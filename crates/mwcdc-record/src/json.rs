//! Column values as JSON, written straight into a byte buffer.

use std::borrow::Cow;

use base64::Engine;
use mwcdc_binlog::Value;
use mwcdc_change::TableSchema;
use serde::Deserialize;

/// How binary column values appear in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BinaryMode {
    /// A valid UTF-8 value is a JSON string, anything else `{"base64": "..."}`.
    #[default]
    Utf8,
    /// Always a base64 string.
    Base64,
    /// Always a lower-case hex string.
    Hex,
}

/// Each column's name of `table` as a JSON object key (`"rev_id":`, name and colon), ready to
/// precede its value, in column order: rendered once per table.
pub fn json_names(table: &TableSchema) -> &[Box<[u8]>] {
    table.rendered_names(|name| {
        let mut json = Vec::with_capacity(name.len() + 3);
        write_str(&mut json, name);
        json.push(b':');
        json.into_boxed_slice()
    })
}

/// Writes a JSON string literal (escaped as serde_json escapes it).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    // Most strings (names, ids, hashes, timestamps) need no escape: copied as they are.
    if !any_word(s.as_bytes(), needs_escape) {
        write_quoted(out, s.as_bytes());
        return;
    }
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes `bytes` between quotes as they are: only for bytes that are a JSON string's content.
fn write_quoted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    out.extend_from_slice(bytes);
    out.push(b'"');
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// Whether any of the eight bytes of `v` must be escaped in a JSON string: a control
/// character, the quote or the backslash (the usual "has a zero byte" and "has a byte less
/// than n" bit tricks, exact for whether any byte matches).
fn needs_escape(v: u64) -> bool {
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    let control = v.wrapping_sub(ONES * 0x20) & !v & HIGHS != 0;
    control || has_zero(v ^ (ONES * u64::from(b'"'))) || has_zero(v ^ (ONES * u64::from(b'\\')))
}

/// Whether any of the eight bytes of `v` needs escaping or is not ASCII.
fn needs_escape_or_not_ascii(v: u64) -> bool {
    v & HIGHS != 0 || needs_escape(v)
}

/// Whether `test` holds for any eight-byte word of `s`: the whole words, then the last eight
/// bytes (overlapping the last word); a shorter `s` is padded with a letter, which no test
/// here flags.
fn any_word(s: &[u8], test: fn(u64) -> bool) -> bool {
    // Eight bytes always convert; a failure would give a word of zeros, which both tests
    // flag: the bytes would only take the slower path.
    let word = |bytes: &[u8]| u64::from_ne_bytes(<[u8; 8]>::try_from(bytes).unwrap_or([0; 8]));
    if s.len() < 8 {
        let mut padded = [b'a'; 8];
        padded[..s.len()].copy_from_slice(s);
        return test(u64::from_ne_bytes(padded));
    }
    s.chunks_exact(8).any(|chunk| test(word(chunk))) || test(word(&s[s.len() - 8..]))
}

/// Writes an unsigned integer in decimal.
pub fn write_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Writes a signed integer in decimal.
pub fn write_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Writes one column value as JSON: numbers keep their range, binary values follow `binary`.
pub fn write_value(out: &mut Vec<u8>, value: &Value, binary: BinaryMode) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Int(v) => write_i64(out, *v),
        Value::UInt(v) => write_u64(out, *v),
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
    write_base64_field(
        out,
        &base64::engine::general_purpose::STANDARD.encode(bytes),
    );
}

/// Writes `{"base64": <base64>}`.
fn write_base64_field(out: &mut Vec<u8>, base64: &str) {
    out.extend_from_slice(b"{\"base64\":");
    write_str(out, base64);
    out.push(b'}');
}

/// A binary value as the `binary` rule renders it: a JSON string, or (invalid UTF-8 in
/// [`BinaryMode::Utf8`]) an object `{"base64": "<standard base64>"}`.
#[derive(Debug, PartialEq, Eq)]
pub enum BinaryJson<'a> {
    /// A JSON string with this content.
    String(Cow<'a, str>),
    /// `{"base64": ...}` with this standard base64.
    Base64Object(String),
}

/// The `binary` rule: for [`BinaryMode::Utf8`] valid UTF-8 is a string and anything else
/// `{"base64": ...}`; [`BinaryMode::Base64`] is always a standard base64 string,
/// [`BinaryMode::Hex`] always a lower-case hex string. The row records and the decoded PHP
/// values of entity records both follow it.
pub fn binary_json(bytes: &[u8], binary: BinaryMode) -> BinaryJson<'_> {
    let base64 = || base64::engine::general_purpose::STANDARD.encode(bytes);
    match binary {
        BinaryMode::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => BinaryJson::String(Cow::Borrowed(s)),
            Err(_) => BinaryJson::Base64Object(base64()),
        },
        BinaryMode::Base64 => BinaryJson::String(Cow::Owned(base64())),
        BinaryMode::Hex => {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            let mut hex = String::with_capacity(bytes.len() * 2);
            for &b in bytes {
                hex.push(char::from(DIGITS[usize::from(b >> 4)]));
                hex.push(char::from(DIGITS[usize::from(b & 0xf)]));
            }
            BinaryJson::String(Cow::Owned(hex))
        }
    }
}

/// Writes a binary value by the `binary` rule ([`binary_json`]).
pub fn write_bytes(out: &mut Vec<u8>, bytes: &[u8], binary: BinaryMode) {
    // Plain ASCII (hashes, timestamps, most titles) needs neither the UTF-8 check nor
    // escapes.
    if binary == BinaryMode::Utf8 && !any_word(bytes, needs_escape_or_not_ascii) {
        write_quoted(out, bytes);
        return;
    }
    match binary_json(bytes, binary) {
        BinaryJson::String(s) => write_str(out, &s),
        BinaryJson::Base64Object(base64) => write_base64_field(out, &base64),
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
    fn hex_is_two_lower_case_digits_per_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let expected: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            json(&Value::Bytes(all), BinaryMode::Hex),
            format!("\"{expected}\"")
        );
    }

    proptest::proptest! {
        #[test]
        fn binary_values_are_text_when_utf8_and_base64_otherwise(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            text in "\\PC*|[\\x00-\\x7f]*",
        ) {
            for bytes in [bytes, text.into_bytes()] {
                let expected = match std::str::from_utf8(&bytes) {
                    Ok(s) => serde_json::to_string(s).unwrap(),
                    Err(_) => format!(
                        "{{\"base64\":\"{}\"}}",
                        base64::engine::general_purpose::STANDARD.encode(&bytes)
                    ),
                };
                proptest::prop_assert_eq!(json(&Value::Bytes(bytes), BinaryMode::Utf8), expected);
            }
        }

        #[test]
        fn strings_are_written_as_serde_json_writes_them(
            s in "\\PC*|[\\x00-\\x7f]*|[a-zé]{0,40}[\\x00-\\x1f\"\\\\]?[a-z]{0,40}"
        ) {
            let mut out = Vec::new();
            write_str(&mut out, &s);
            proptest::prop_assert_eq!(out, serde_json::to_vec(&s).unwrap());
        }

        #[test]
        fn integers_are_written_as_display_writes_them(u: u64, i: i64) {
            proptest::prop_assert_eq!(json(&Value::UInt(u), BinaryMode::Utf8), u.to_string());
            proptest::prop_assert_eq!(json(&Value::Int(i), BinaryMode::Utf8), i.to_string());
        }
    }

    #[test]
    fn json_column_is_its_text() {
        let v = Value::Json(serde_json::json!({"a": [1, "x"]}));
        assert_eq!(json(&v, BinaryMode::Utf8), r#""{\"a\":[1,\"x\"]}""#);
    }
}
