//! MySQL's binary JSON (the storage format of JSON columns), decoded to a JSON value.
//!
//! A value is a type byte and its bytes. Objects and arrays come in a small (16-bit offsets)
//! and a large (32-bit offsets) storage format: element count, size in bytes, key entries
//! (objects: offset and length of each key), value entries (type, and the offset of the value
//! or, for small scalars, the value itself), then the keys and values. Opaque values carry a
//! MySQL column type and its bytes: DECIMAL, DATE, TIME, DATETIME and TIMESTAMP become text
//! as the server prints them, any other type `base64:type<N>:<bytes in base64>`.
//!
//! The decoder is written for corrupt input too: every offset is checked against its
//! container, nesting deeper than the server allows is refused, and so is a document whose
//! values, read as referenced, would add up to more than its own bytes (one value referenced
//! from many places), so the work and the output stay in proportion to the input.

use serde_json::{Map, Number, Value as Json};

use crate::{DecodeError, Reader};

const SMALL_OBJECT: u8 = 0x0;
const LARGE_OBJECT: u8 = 0x1;
const SMALL_ARRAY: u8 = 0x2;
const LARGE_ARRAY: u8 = 0x3;
const LITERAL: u8 = 0x4;
const INT16: u8 = 0x5;
const UINT16: u8 = 0x6;
const INT32: u8 = 0x7;
const UINT32: u8 = 0x8;
const INT64: u8 = 0x9;
const UINT64: u8 = 0xa;
const DOUBLE: u8 = 0xb;
const STRING: u8 = 0xc;
const OPAQUE: u8 = 0xf;

/// The server refuses documents nested deeper than this (`JSON_DOCUMENT_MAX_DEPTH`).
const MAX_DEPTH: usize = 100;

/// Decodes a MySQL binary JSON value into a JSON value. An empty value is JSON null, as the
/// server writes it for a NULL JSON document in some versions.
pub fn decode(bytes: &[u8]) -> Result<Json, DecodeError> {
    let Some((&type_code, rest)) = bytes.split_first() else {
        return Ok(Json::Null);
    };
    Parser {
        budget: bytes.len(),
    }
    .value(type_code, rest, 0)
}

fn invalid(what: impl std::fmt::Display) -> DecodeError {
    DecodeError::Invalid(format!("binary JSON: {what}"))
}

/// Walks one document, charging each value read against the document's size.
struct Parser {
    /// Bytes the values read so far may still add up to: one per value, plus the length of
    /// each string, key and opaque value.
    budget: usize,
}

impl Parser {
    fn charge(&mut self, n: usize) -> Result<(), DecodeError> {
        self.budget = self
            .budget
            .checked_sub(n)
            .ok_or_else(|| invalid("values referenced more than once"))?;
        Ok(())
    }

    /// The value of type `type_code` at the start of `data`; `depth` containers enclose it.
    fn value(&mut self, type_code: u8, data: &[u8], depth: usize) -> Result<Json, DecodeError> {
        self.charge(1)?;
        let mut r = Reader::new(data);
        Ok(match type_code {
            SMALL_OBJECT | LARGE_OBJECT | SMALL_ARRAY | LARGE_ARRAY => {
                self.container(type_code, data, depth + 1)?
            }
            LITERAL => match r.u8()? {
                0 => Json::Null,
                1 => Json::Bool(true),
                2 => Json::Bool(false),
                other => return Err(invalid(format_args!("unknown literal {other}"))),
            },
            INT16 => Json::from(i16::from_le_bytes(r.array()?)),
            UINT16 => Json::from(r.u16()?),
            INT32 => Json::from(i32::from_le_bytes(r.array()?)),
            UINT32 => Json::from(r.u32()?),
            INT64 => Json::from(i64::from_le_bytes(r.array()?)),
            UINT64 => Json::from(r.u64()?),
            DOUBLE => {
                let x = f64::from_le_bytes(r.array()?);
                Json::Number(
                    Number::from_f64(x).ok_or_else(|| invalid(format_args!("number {x}")))?,
                )
            }
            STRING => {
                let len = varlen(&mut r)?;
                self.charge(len)?;
                Json::String(utf8(r.take(len)?)?)
            }
            OPAQUE => {
                let column_type = r.u8()?;
                let len = varlen(&mut r)?;
                self.charge(len)?;
                Json::String(opaque(column_type, r.take(len)?)?)
            }
            other => return Err(invalid(format_args!("unknown type {other}"))),
        })
    }

    /// An object or array at the start of `data`, at nesting level `depth`.
    fn container(&mut self, type_code: u8, data: &[u8], depth: usize) -> Result<Json, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(invalid(format_args!("nested deeper than {MAX_DEPTH}")));
        }
        let large = matches!(type_code, LARGE_OBJECT | LARGE_ARRAY);
        let object = matches!(type_code, SMALL_OBJECT | LARGE_OBJECT);
        let off = if large { 4 } else { 2 };
        let mut r = Reader::new(data);
        let count = r.uint_le(off)? as usize;
        let size = r.uint_le(off)? as usize;
        let data = data.get(..size).ok_or(DecodeError::Truncated {
            needed: size,
            available: data.len(),
        })?;
        let key_entries = if object { off + 2 } else { 0 };
        let value_entries_at = count
            .checked_mul(key_entries)
            .and_then(|n| n.checked_add(2 * off))
            .ok_or_else(|| invalid("element count out of range"))?;
        let header = count
            .checked_mul(off + 1)
            .and_then(|n| n.checked_add(value_entries_at))
            .filter(|&h| h <= size)
            .ok_or_else(|| invalid(format_args!("{count} elements do not fit in {size} bytes")))?;
        // Offsets of keys and values point past the entries, inside the container.
        let at = |offset: usize, len: usize| {
            offset
                .checked_add(len)
                .filter(|&end| offset >= header && end <= size)
                .map(|end| &data[offset..end])
                .ok_or_else(|| invalid(format_args!("offset {offset} outside its container")))
        };
        let mut map = Map::new();
        let mut array = Vec::new();
        for i in 0..count {
            let mut entry = Reader::new(&data[value_entries_at + i * (off + 1)..header]);
            let value_type = entry.u8()?;
            let inlined = matches!(value_type, LITERAL | INT16 | UINT16)
                || (large && matches!(value_type, INT32 | UINT32));
            let value = if inlined {
                self.value(value_type, entry.take(off)?, depth)?
            } else {
                let offset = entry.uint_le(off)? as usize;
                self.value(value_type, at(offset, size - offset.min(size))?, depth)?
            };
            if object {
                let mut key_entry = Reader::new(&data[2 * off + i * key_entries..header]);
                let key_offset = key_entry.uint_le(off)? as usize;
                let key_len = usize::from(key_entry.u16()?);
                self.charge(key_len)?;
                map.insert(utf8(at(key_offset, key_len)?)?, value);
            } else {
                array.push(value);
            }
        }
        Ok(if object {
            Json::Object(map)
        } else {
            Json::Array(array)
        })
    }
}

/// A length of 7 bits per byte, low bits first, the top bit set on all but the last byte.
fn varlen(r: &mut Reader<'_>) -> Result<usize, DecodeError> {
    let mut len = 0usize;
    for i in 0..5 {
        let b = r.u8()?;
        len |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(len);
        }
    }
    Err(invalid("length longer than 5 bytes"))
}

fn utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| invalid("text that is not UTF-8"))
}

const MYSQL_TYPE_TIMESTAMP: u8 = 7;
const MYSQL_TYPE_DATE: u8 = 10;
const MYSQL_TYPE_TIME: u8 = 11;
const MYSQL_TYPE_DATETIME: u8 = 12;
const MYSQL_TYPE_NEWDECIMAL: u8 = 246;

/// An opaque value as text: DECIMAL and temporal values as the server prints them, other
/// types as `base64:type<N>:<base64>`.
fn opaque(column_type: u8, data: &[u8]) -> Result<String, DecodeError> {
    let mut r = Reader::new(data);
    Ok(match column_type {
        MYSQL_TYPE_NEWDECIMAL => {
            let precision = r.u8()?;
            let scale = r.u8()?;
            crate::decimal::decode(&mut r, precision, scale)?
        }
        MYSQL_TYPE_DATE | MYSQL_TYPE_TIME | MYSQL_TYPE_DATETIME | MYSQL_TYPE_TIMESTAMP => {
            // The server's packed form: the integer part above 24 bits of microseconds.
            let packed = i64::from_le_bytes(r.array()?);
            let abs = packed.unsigned_abs();
            let (int, micros) = (abs >> 24, (abs % (1 << 24)) % 1_000_000);
            if column_type == MYSQL_TYPE_TIME {
                let sign = if packed < 0 { "-" } else { "" };
                let (h, m, s) = ((int >> 12) % (1 << 10), (int >> 6) % 64, int % 64);
                format!("{sign}{h:02}:{m:02}:{s:02}.{micros:06}")
            } else {
                let (ymd, hms) = (int >> 17, int % (1 << 17));
                let (ym, day) = (ymd >> 5, ymd % 32);
                let date = format!("{:04}-{:02}-{:02}", ym / 13, ym % 13, day);
                if column_type == MYSQL_TYPE_DATE {
                    date
                } else {
                    let (h, m, s) = (hms >> 12, (hms >> 6) % 64, hms % 64);
                    format!("{date} {h:02}:{m:02}:{s:02}.{micros:06}")
                }
            }
        }
        other => format!("base64:type{other}:{}", base64(data)),
    })
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
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

    /// A small array of the given (type, inline value or offset) entries and trailing bytes.
    fn small_array(entries: &[(u8, u16)], tail: &[u8]) -> Vec<u8> {
        let header = 4 + 3 * entries.len();
        let mut b = (entries.len() as u16).to_le_bytes().to_vec();
        b.extend_from_slice(&((header + tail.len()) as u16).to_le_bytes());
        for (t, v) in entries {
            b.push(*t);
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(tail);
        b
    }

    #[test]
    fn large_array_strings_doubles_and_opaque_values() {
        // ["ab", 1.5, 70000, DECIMAL(5,2) -1.50, DATETIME 2015-01-15 23:24:25.5, BIT b'101']
        let mut tail = Vec::new();
        let mut entries = Vec::new();
        let header = 8 + 5 * 6;
        let mut push = |t: u8, bytes: &[u8], tail: &mut Vec<u8>| {
            entries.push((t, (header + tail.len()) as u32));
            tail.extend_from_slice(bytes);
        };
        push(STRING, &[2, b'a', b'b'], &mut tail);
        push(DOUBLE, &1.5f64.to_le_bytes(), &mut tail);
        push(
            OPAQUE,
            &[MYSQL_TYPE_NEWDECIMAL, 5, 5, 2, 0x7f, 0xfe, !50],
            &mut tail,
        );
        let ymd = ((2015u64 * 13 + 1) << 5) | 15;
        let packed = (((ymd << 17) | (23 << 12) | (24 << 6) | 25) << 24) | 500_000;
        let mut dt = vec![MYSQL_TYPE_DATETIME, 8];
        dt.extend_from_slice(&packed.to_le_bytes());
        push(OPAQUE, &dt, &mut tail);
        push(OPAQUE, &[16, 1, 5], &mut tail);
        let mut b = vec![LARGE_ARRAY];
        b.extend_from_slice(&6u32.to_le_bytes());
        b.extend_from_slice(&((header + tail.len()) as u32).to_le_bytes());
        for (i, (t, offset)) in entries.iter().enumerate() {
            if i == 2 {
                b.push(UINT32); // inlined in the large format
                b.extend_from_slice(&70_000u32.to_le_bytes());
            }
            b.push(*t);
            b.extend_from_slice(&offset.to_le_bytes());
        }
        b.extend_from_slice(&tail);
        assert_eq!(
            decode(&b).unwrap(),
            serde_json::json!([
                "ab",
                1.5,
                70000,
                "-1.50",
                "2015-01-15 23:24:25.500000",
                "base64:type16:BQ=="
            ])
        );
    }

    #[test]
    fn opaque_temporal_values() {
        let time = |packed: i64| opaque(MYSQL_TYPE_TIME, &packed.to_le_bytes()).unwrap();
        assert_eq!(
            time(((838 << 12) | (59 << 6) | 59) << 24),
            "838:59:59.000000"
        );
        assert_eq!(time(-(1 << 24)), "-00:00:01.000000");
        let date = ((((2026u64 * 13 + 11) << 5) | 26) << 17) << 24;
        assert_eq!(
            opaque(MYSQL_TYPE_DATE, &date.to_le_bytes()).unwrap(),
            "2026-11-26"
        );
        assert_eq!(base64(b"any carnal pleas"), "YW55IGNhcm5hbCBwbGVhcw==");
        assert_eq!(base64(b"any carnal pleasu"), "YW55IGNhcm5hbCBwbGVhc3U=");
        assert_eq!(base64(b"any carnal pleasur"), "YW55IGNhcm5hbCBwbGVhc3Vy");
    }

    // Regressions: inputs on which mysql_common's decoder, used before, panicked or
    // overflowed the stack.

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        // [[[...[null]...]]], 5000 levels: each a one-element array whose value follows its
        // 7-byte header.
        let mut doc = small_array(&[(LITERAL, 0)], &[]);
        for _ in 0..5000 {
            doc = small_array(&[(SMALL_ARRAY, 7)], &doc);
        }
        doc.insert(0, SMALL_ARRAY);
        let err = decode(&doc).unwrap_err();
        assert!(err.to_string().contains("nested deeper than 100"), "{err}");
    }

    #[test]
    fn a_value_referenced_many_times_is_an_error() {
        // An array of 8 entries all pointing at the same array of 8 entries, and so on:
        // 8^5 values from 150 bytes.
        let mut doc = small_array(&[(LITERAL, 1); 8], &[]);
        for _ in 0..5 {
            let header = 4 + 3 * 8;
            doc = small_array(&[(SMALL_ARRAY, header as u16); 8], &doc);
        }
        doc.insert(0, SMALL_ARRAY);
        let err = decode(&doc).unwrap_err();
        assert!(err.to_string().contains("more than once"), "{err}");
    }

    #[test]
    fn corrupt_opaque_values_are_errors_or_text() {
        // DECIMAL with scale > precision, and one of 70 digits.
        let dec = |p: u8, s: u8| opaque(MYSQL_TYPE_NEWDECIMAL, &[p, s, 0x80, 0, 0, 0, 0]);
        assert!(dec(2, 5).is_err());
        assert!(dec(70, 5).is_err());
        // DECIMAL(1,1) whose one digit is 127: an error, not an overflow.
        assert!(opaque(MYSQL_TYPE_NEWDECIMAL, &[1, 1, 0xff]).is_err());
        assert_eq!(opaque(MYSQL_TYPE_NEWDECIMAL, &[1, 1, 0x89]).unwrap(), "0.9");
        // DATETIME and TIME of i64::MIN (negating it overflows).
        for t in [MYSQL_TYPE_DATETIME, MYSQL_TYPE_TIME, MYSQL_TYPE_DATE] {
            assert!(opaque(t, &i64::MIN.to_le_bytes()).is_ok());
            assert!(opaque(t, &[1, 2, 3]).is_err());
        }
    }

    #[test]
    fn offsets_outside_the_container_are_errors() {
        // Value offset past the end, key offset inside the entries, non-finite double.
        let mut doc = vec![SMALL_ARRAY];
        doc.extend(small_array(&[(STRING, 200)], &[1, b'x']));
        assert!(decode(&doc).is_err());
        let obj = [0x00, 1, 0, 12, 0, 2, 0, 1, 0, 0x05, 1, 0, b'a'];
        assert!(decode(&obj).is_err());
        let mut nan = vec![DOUBLE];
        nan.extend_from_slice(&f64::NAN.to_le_bytes());
        assert!(decode(&nan).is_err());
        // A container claiming more elements than its size holds.
        let mut doc = vec![LARGE_OBJECT];
        doc.extend_from_slice(&u32::MAX.to_le_bytes());
        doc.extend_from_slice(&12u32.to_le_bytes());
        doc.extend_from_slice(&[0; 4]);
        assert!(decode(&doc).is_err());
    }
}
