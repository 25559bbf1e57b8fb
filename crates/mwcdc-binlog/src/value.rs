//! Column values as decoded from a row image, losslessly.

use crate::table_map::{Column, ColumnKind};
use crate::{DecodeError, Reader};

/// One column value. Integers keep their full signed or unsigned range, decimals stay
/// decimal strings, binary data stays bytes, and temporal values are ISO-8601 strings.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A signed integer.
    Int(i64),
    /// An unsigned integer (UNSIGNED columns, BIT, SET masks without member names).
    UInt(u64),
    /// FLOAT.
    Float(f32),
    /// DOUBLE.
    Double(f64),
    /// DECIMAL, exactly as the server stores it, e.g. `-12.340`.
    Decimal(String),
    /// A character column's value converted to UTF-8; also ENUM and SET members.
    Text(String),
    /// A binary column's bytes (the `binary` character set, GEOMETRY, VECTOR).
    Bytes(Vec<u8>),
    /// A character column's bytes that are not valid in its character set, or in a character
    /// set this build cannot convert: kept byte for byte, never passed off as text.
    UndecodedText(Vec<u8>),
    /// DATE, TIME, DATETIME (no zone), TIMESTAMP (UTC, `Z`) or YEAR, in ISO-8601 form; zero
    /// dates are kept as the server gives them (`0000-00-00`).
    Temporal(String),
    /// MySQL's binary JSON, decoded.
    Json(serde_json::Value),
}

/// Decodes one non-NULL value of `column` from the row image.
pub fn decode_value(column: &Column, r: &mut Reader<'_>) -> Result<Value, DecodeError> {
    Ok(match column.kind {
        ColumnKind::Int { bytes } => {
            let n = usize::from(bytes);
            let raw = r.uint_le(n)?;
            if column.unsigned {
                Value::UInt(raw)
            } else {
                let shift = 64 - 8 * n as u32;
                Value::Int(((raw << shift) as i64) >> shift)
            }
        }
        ColumnKind::Float => Value::Float(f32::from_le_bytes(r.array()?)),
        ColumnKind::Double => Value::Double(f64::from_le_bytes(r.array()?)),
        ColumnKind::Decimal { precision, scale } => {
            Value::Decimal(crate::decimal::decode(r, precision, scale)?)
        }
        ColumnKind::Year => {
            let y = r.u8()?;
            Value::Temporal(format!(
                "{:04}",
                if y == 0 { 0 } else { 1900 + u16::from(y) }
            ))
        }
        ColumnKind::Date => Value::Temporal(crate::temporal::date(r)?),
        ColumnKind::Time => Value::Temporal(crate::temporal::time(r)?),
        ColumnKind::Time2 { fsp } => Value::Temporal(crate::temporal::time2(r, fsp)?),
        ColumnKind::DateTime => Value::Temporal(crate::temporal::datetime(r)?),
        ColumnKind::DateTime2 { fsp } => Value::Temporal(crate::temporal::datetime2(r, fsp)?),
        ColumnKind::Timestamp => Value::Temporal(crate::temporal::timestamp(r)?),
        ColumnKind::Timestamp2 { fsp } => Value::Temporal(crate::temporal::timestamp2(r, fsp)?),
        ColumnKind::FixedString { max_len } => {
            let len_bytes = if max_len < 256 { 1 } else { 2 };
            let len = r.uint_le(len_bytes)? as usize;
            let bytes = r.take(len)?;
            if column.is_binary() {
                // The server strips trailing zero bytes of BINARY(n): put them back.
                let mut padded = bytes.to_vec();
                padded.resize(usize::from(max_len).max(len), 0);
                Value::Bytes(padded)
            } else {
                text(column, bytes)
            }
        }
        ColumnKind::VarString { len_bytes } | ColumnKind::Blob { len_bytes } => {
            let len = r.uint_le(usize::from(len_bytes))? as usize;
            text(column, r.take(len)?)
        }
        ColumnKind::Json { len_bytes } => {
            let len = r.uint_le(usize::from(len_bytes))? as usize;
            Value::Json(crate::json::decode(r.take(len)?)?)
        }
        ColumnKind::Enum { bytes } => {
            let idx = r.uint_le(usize::from(bytes))?;
            match &column.members {
                Some(members) if idx > 0 => members
                    .get(idx as usize - 1)
                    .map(|m| Value::Text(m.clone()))
                    .ok_or_else(|| {
                        DecodeError::Invalid(format!(
                            "ENUM index {idx} beyond its {} members",
                            members.len()
                        ))
                    })?,
                Some(_) => Value::Text(String::new()),
                None => Value::UInt(idx),
            }
        }
        ColumnKind::Set { bytes } => {
            let mask = r.uint_le(usize::from(bytes))?;
            match &column.members {
                Some(members) => Value::Text(
                    members
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i < 64 && mask & (1 << i) != 0)
                        .map(|(_, m)| m.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                None => Value::UInt(mask),
            }
        }
        ColumnKind::Bit { bits } => {
            let bytes = usize::from(bits.div_ceil(8));
            if bytes > 8 {
                return Err(DecodeError::Invalid(format!("BIT({bits}) too wide")));
            }
            Value::UInt(r.uint_be(bytes)?)
        }
        ColumnKind::Null => Value::Null,
    })
}

fn text(column: &Column, bytes: &[u8]) -> Value {
    if column.is_binary() {
        return Value::Bytes(bytes.to_vec());
    }
    match column.text.decode(bytes) {
        Some(s) => Value::Text(s),
        None => Value::UndecodedText(bytes.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charset::TextEncoding;
    use std::sync::Arc;

    fn col(kind: ColumnKind, unsigned: bool, text: TextEncoding) -> Column {
        Column {
            name: None,
            type_code: 0,
            kind,
            unsigned,
            nullable: true,
            collation: None,
            text,
            members: None,
        }
    }

    fn decode(c: &Column, bytes: &[u8]) -> Value {
        let mut r = Reader::new(bytes);
        let v = decode_value(c, &mut r).unwrap();
        assert_eq!(r.remaining(), 0, "value must consume exactly its bytes");
        v
    }

    #[test]
    fn integers_keep_their_range() {
        let u64col = col(ColumnKind::Int { bytes: 8 }, true, TextEncoding::Unknown);
        assert_eq!(decode(&u64col, &[0xff; 8]), Value::UInt(u64::MAX));
        let i64col = col(ColumnKind::Int { bytes: 8 }, false, TextEncoding::Unknown);
        assert_eq!(decode(&i64col, &[0xff; 8]), Value::Int(-1));
        let i24 = col(ColumnKind::Int { bytes: 3 }, false, TextEncoding::Unknown);
        assert_eq!(decode(&i24, &[0x00, 0x00, 0x80]), Value::Int(-8_388_608));
        let u24 = col(ColumnKind::Int { bytes: 3 }, true, TextEncoding::Unknown);
        assert_eq!(decode(&u24, &[0xff, 0xff, 0xff]), Value::UInt(16_777_215));
        let tiny = col(ColumnKind::Int { bytes: 1 }, false, TextEncoding::Unknown);
        assert_eq!(decode(&tiny, &[0x80]), Value::Int(-128));
        let short = col(ColumnKind::Int { bytes: 2 }, true, TextEncoding::Unknown);
        assert_eq!(decode(&short, &[0xff, 0xff]), Value::UInt(65535));
        let long = col(ColumnKind::Int { bytes: 4 }, false, TextEncoding::Unknown);
        assert_eq!(
            decode(&long, &[0, 0, 0, 0x80]),
            Value::Int(i64::from(i32::MIN))
        );
    }

    #[test]
    fn floats() {
        let f = col(ColumnKind::Float, false, TextEncoding::Unknown);
        assert_eq!(decode(&f, &1.5f32.to_le_bytes()), Value::Float(1.5));
        let d = col(ColumnKind::Double, false, TextEncoding::Unknown);
        assert_eq!(decode(&d, &(-0.25f64).to_le_bytes()), Value::Double(-0.25));
    }

    #[test]
    fn binary_char_is_padded_back() {
        let c = col(
            ColumnKind::FixedString { max_len: 16 },
            false,
            TextEncoding::Binary,
        );
        let mut bytes = vec![3u8, 0xde, 0xad, 0xbe];
        let v = decode(&c, &bytes);
        let mut expected = vec![0xde, 0xad, 0xbe];
        expected.resize(16, 0);
        assert_eq!(v, Value::Bytes(expected));
        bytes[0] = 4;
        assert!(decode_value(&c, &mut Reader::new(&bytes)).is_err());
    }

    #[test]
    fn strings_by_charset() {
        let bin = col(
            ColumnKind::VarString { len_bytes: 1 },
            false,
            TextEncoding::Binary,
        );
        assert_eq!(
            decode(&bin, &[2, 0xff, 0x00]),
            Value::Bytes(vec![0xff, 0x00])
        );
        let utf8 = col(
            ColumnKind::VarString { len_bytes: 2 },
            false,
            TextEncoding::Utf8,
        );
        assert_eq!(decode(&utf8, &[2, 0, b'h', b'i']), Value::Text("hi".into()));
        assert_eq!(
            decode(&utf8, &[1, 0, 0xff]),
            Value::UndecodedText(vec![0xff])
        );
        let latin1 = col(
            ColumnKind::Blob { len_bytes: 2 },
            false,
            TextEncoding::for_charset("latin1"),
        );
        assert_eq!(decode(&latin1, &[1, 0, 0xe9]), Value::Text("é".into()));
        let char_utf8 = col(
            ColumnKind::FixedString { max_len: 40 },
            false,
            TextEncoding::Utf8,
        );
        assert_eq!(
            decode(&char_utf8, &[2, b'a', b'b']),
            Value::Text("ab".into())
        );
    }

    #[test]
    fn blob_of_4_byte_length() {
        let c = col(
            ColumnKind::Blob { len_bytes: 4 },
            false,
            TextEncoding::Binary,
        );
        let mut bytes = 3u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0, 1, 2]);
        assert_eq!(decode(&c, &bytes), Value::Bytes(vec![0, 1, 2]));
        assert!(decode_value(&c, &mut Reader::new(&bytes[..5])).is_err());
    }

    #[test]
    fn enum_set_bit_year() {
        let mut e = col(ColumnKind::Enum { bytes: 1 }, false, TextEncoding::Utf8);
        assert_eq!(decode(&e, &[2]), Value::UInt(2));
        e.members = Some(Arc::from(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(decode(&e, &[2]), Value::Text("b".into()));
        assert!(decode_value(&e, &mut Reader::new(&[3])).is_err());
        let mut s = col(ColumnKind::Set { bytes: 1 }, false, TextEncoding::Utf8);
        s.members = Some(Arc::from(vec![
            "x".to_string(),
            "y".to_string(),
            "z".to_string(),
        ]));
        assert_eq!(decode(&s, &[0b101]), Value::Text("x,z".into()));
        let b = col(ColumnKind::Bit { bits: 12 }, false, TextEncoding::Unknown);
        assert_eq!(decode(&b, &[0x0a, 0xbc]), Value::UInt(0xabc));
        let y = col(ColumnKind::Year, false, TextEncoding::Unknown);
        assert_eq!(decode(&y, &[126]), Value::Temporal("2026".into()));
        assert_eq!(decode(&y, &[0]), Value::Temporal("0000".into()));
    }
}
