//! A row's key as query parameters of the next chunk's keyset predicate (its JSON form, in
//! the checkpoint's cursor, is [`mwcdc_change::cursor`]).

use mwcdc_binlog::Value;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporal_keys_are_parameters_in_the_servers_literal_form() {
        assert_eq!(
            param(&Value::Temporal("2024-01-02T03:04:05.5Z".into())),
            mysql_async::Value::Bytes(b"2024-01-02 03:04:05.5".to_vec())
        );
    }
}
