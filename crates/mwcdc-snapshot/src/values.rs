//! Column values as the server sends them over the binary protocol, turned into the values
//! the binlog decoder gives for the same column, so that a row a snapshot read and the same
//! row in a rows event make the same record.
//!
//! The session is set up for it ([`crate::reader`]): `time_zone = '+00:00'` (TIMESTAMP values
//! in UTC, as the binlog has them) and `utf8mb4` results (text arrives as UTF-8; bytes of the
//! `binary` character set arrive as they are stored).

use mwcdc_binlog::Value;
use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::Column;

/// The `binary` character set's collation id: the column holds bytes, not text.
const BINARY: u16 = 63;

/// The value of `column` that the server sent as `value`; an error says what does not fit.
pub(crate) fn convert(column: &Column, value: mysql_async::Value) -> Result<Value, String> {
    use mysql_async::Value as Sent;
    let kind = column.column_type();
    let unsigned = column.flags().contains(ColumnFlags::UNSIGNED_FLAG);
    Ok(match value {
        Sent::NULL => Value::Null,
        Sent::Int(v) if kind == ColumnType::MYSQL_TYPE_YEAR => Value::Temporal(format!("{v:04}")),
        Sent::UInt(v) if kind == ColumnType::MYSQL_TYPE_YEAR => Value::Temporal(format!("{v:04}")),
        // The driver gives an unsigned BIGINT as UInt and the smaller unsigned types as Int.
        Sent::Int(v) if unsigned => Value::UInt(
            u64::try_from(v).map_err(|_| format!("negative value {v} in an UNSIGNED column"))?,
        ),
        Sent::Int(v) => Value::Int(v),
        Sent::UInt(v) if unsigned => Value::UInt(v),
        Sent::UInt(v) => Value::Int(
            i64::try_from(v).map_err(|_| format!("value {v} beyond a signed column's range"))?,
        ),
        Sent::Float(v) => Value::Float(v),
        Sent::Double(v) => Value::Double(v),
        Sent::Date(year, month, day, hour, minute, second, micros) => {
            let date = format!("{year:04}-{month:02}-{day:02}");
            match kind {
                ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE => {
                    Value::Temporal(date)
                }
                ColumnType::MYSQL_TYPE_DATETIME
                | ColumnType::MYSQL_TYPE_DATETIME2
                | ColumnType::MYSQL_TYPE_TIMESTAMP
                | ColumnType::MYSQL_TYPE_TIMESTAMP2 => {
                    let mut text = format!("{date}T{hour:02}:{minute:02}:{second:02}");
                    push_fraction(&mut text, micros, column.decimals());
                    if matches!(
                        kind,
                        ColumnType::MYSQL_TYPE_TIMESTAMP | ColumnType::MYSQL_TYPE_TIMESTAMP2
                    ) {
                        text.push('Z');
                    }
                    Value::Temporal(text)
                }
                other => return Err(format!("a date value in a column of type {other:?}")),
            }
        }
        Sent::Time(negative, days, hours, minutes, seconds, micros) => {
            let sign = if negative { "-" } else { "" };
            let hours = u64::from(days) * 24 + u64::from(hours);
            let mut text = format!("{sign}{hours:02}:{minutes:02}:{seconds:02}");
            push_fraction(&mut text, micros, column.decimals());
            Value::Temporal(text)
        }
        Sent::Bytes(bytes) => match kind {
            ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL => Value::Decimal(
                String::from_utf8(bytes).map_err(|_| "a DECIMAL value that is not text")?,
            ),
            ColumnType::MYSQL_TYPE_BIT => {
                if bytes.len() > 8 {
                    return Err(format!("a BIT value of {} bytes", bytes.len()));
                }
                Value::UInt(bytes.iter().fold(0, |n, &b| (n << 8) | u64::from(b)))
            }
            ColumnType::MYSQL_TYPE_JSON => Value::Json(
                serde_json::from_slice(&bytes).map_err(|e| format!("a JSON value: {e}"))?,
            ),
            ColumnType::MYSQL_TYPE_GEOMETRY => Value::Bytes(bytes),
            ColumnType::MYSQL_TYPE_STRING
            | ColumnType::MYSQL_TYPE_VAR_STRING
            | ColumnType::MYSQL_TYPE_VARCHAR
            | ColumnType::MYSQL_TYPE_ENUM
            | ColumnType::MYSQL_TYPE_SET
            | ColumnType::MYSQL_TYPE_TINY_BLOB
            | ColumnType::MYSQL_TYPE_BLOB
            | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
            | ColumnType::MYSQL_TYPE_LONG_BLOB => {
                if column.character_set() == BINARY {
                    Value::Bytes(bytes)
                } else {
                    match String::from_utf8(bytes) {
                        Ok(text) => Value::Text(text),
                        Err(e) => Value::UndecodedText(e.into_bytes()),
                    }
                }
            }
            other => return Err(format!("bytes in a column of type {other:?}")),
        },
    })
}

/// Appends the first `fsp` of the six digits of `micros`, as the binlog decoder writes them.
fn push_fraction(out: &mut String, micros: u32, fsp: u8) {
    if fsp > 0 {
        let digits = format!("{micros:06}");
        out.push('.');
        out.push_str(&digits[..usize::from(fsp.min(6))]);
    }
}
