//! MySQL's binary JSON, decoded by `mysql_common` (the issue allows delegating it).

use mysql_common::binlog::jsonb;
use mysql_common::io::ParseBuf;

use crate::DecodeError;

/// Decodes a MySQL binary JSON value into a JSON value. An empty value is JSON null, as the
/// server writes it for a NULL JSON document in some versions.
pub fn decode(bytes: &[u8]) -> Result<serde_json::Value, DecodeError> {
    if bytes.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    let value: jsonb::Value<'_> = ParseBuf(bytes)
        .parse(())
        .map_err(|e| DecodeError::Invalid(format!("binary JSON: {e}")))?;
    let dom = value
        .parse()
        .map_err(|e| DecodeError::Invalid(format!("binary JSON: {e}")))?;
    Ok(serde_json::Value::from(dom))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_small_object_and_rejects_garbage() {
        // small object {"a": 1}: type 0, count 1, size 12, key entry (offset 11, len 1),
        // value entry (int16 inline 1), key "a"
        let bytes = [0x00, 1, 0, 12, 0, 11, 0, 1, 0, 0x05, 1, 0, b'a'];
        assert_eq!(decode(&bytes).unwrap(), serde_json::json!({"a": 1}));
        assert!(decode(&[0x42, 1, 2]).is_err());
        assert_eq!(decode(&[]).unwrap(), serde_json::Value::Null);
    }
}
