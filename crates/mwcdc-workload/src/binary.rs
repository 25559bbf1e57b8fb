//! The truth file's rule for binary column values.

use base64::Engine as _;
use serde_json::{json, Value};

/// Renders bytes as the connector does: a JSON string when they are valid UTF-8, else
/// `{"base64": "<standard base64>"}`.
pub fn binary_json(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => Value::String(text.to_owned()),
        Err(_) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(bytes) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_a_string() {
        assert_eq!(
            binary_json("Zürich_Straße".as_bytes()),
            json!("Zürich_Straße")
        );
        assert_eq!(binary_json(b""), json!(""));
    }

    #[test]
    fn invalid_utf8_is_base64() {
        assert_eq!(binary_json(b"A\xffB"), json!({ "base64": "Qf9C" }));
        // A truncated multi-byte sequence is invalid too.
        assert_eq!(binary_json(b"\xc3"), json!({ "base64": "ww==" }));
    }
}
