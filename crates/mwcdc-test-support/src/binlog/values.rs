//! Encodes values as row images and events hold them: MySQL's binary JSON, packed DECIMAL,
//! and MariaDB's zlib-compressed form of event data.

use std::io::Write;

/// A binary JSON value to encode (MySQL's JSON column format).
#[derive(Debug, Clone, PartialEq)]
pub enum Jsonb {
    /// A literal: 0 null, 1 true, 2 false (other bytes are invalid).
    Literal(u8),
    /// int16.
    I16(i16),
    /// uint16.
    U16(u16),
    /// int32.
    I32(i32),
    /// uint32.
    U32(u32),
    /// int64.
    I64(i64),
    /// uint64.
    U64(u64),
    /// double.
    Double(f64),
    /// A string's bytes (UTF-8 when the server writes it).
    Str(Vec<u8>),
    /// An opaque value: the column type it holds (246 DECIMAL, 10 DATE, 11 TIME, 12
    /// DATETIME, ...) and its bytes.
    Opaque(u8, Vec<u8>),
    /// An array, in the large storage format (4-byte offsets) when `true`.
    Array(bool, Vec<Jsonb>),
    /// An object of `(key, value)` entries, in the large storage format when `true`.
    Object(bool, Vec<(Vec<u8>, Jsonb)>),
    /// The value nested in this many one-element small arrays.
    Deep(u16, Box<Jsonb>),
}

/// The binary JSON document of `value`: its type byte, then its bytes.
pub fn jsonb(value: &Jsonb) -> Vec<u8> {
    let (t, bytes) = encode(value);
    let mut out = vec![t];
    out.extend(bytes);
    out
}

/// A length as binary JSON writes string and opaque lengths: 7 bits a byte, low bits first.
fn varlen(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The type byte and the bytes of a value (without its type byte).
fn encode(v: &Jsonb) -> (u8, Vec<u8>) {
    match v {
        Jsonb::Literal(l) => (4, vec![*l]),
        Jsonb::I16(x) => (5, x.to_le_bytes().to_vec()),
        Jsonb::U16(x) => (6, x.to_le_bytes().to_vec()),
        Jsonb::I32(x) => (7, x.to_le_bytes().to_vec()),
        Jsonb::U32(x) => (8, x.to_le_bytes().to_vec()),
        Jsonb::I64(x) => (9, x.to_le_bytes().to_vec()),
        Jsonb::U64(x) => (10, x.to_le_bytes().to_vec()),
        Jsonb::Double(x) => (11, x.to_le_bytes().to_vec()),
        Jsonb::Str(s) => {
            let mut out = Vec::new();
            varlen(s.len(), &mut out);
            out.extend_from_slice(s);
            (12, out)
        }
        Jsonb::Opaque(t, data) => {
            let mut out = vec![*t];
            varlen(data.len(), &mut out);
            out.extend_from_slice(data);
            (15, out)
        }
        Jsonb::Array(large, items) => {
            let values: Vec<_> = items.iter().map(encode).collect();
            container(*large, None, &values)
        }
        Jsonb::Object(large, entries) => {
            let keys: Vec<_> = entries.iter().map(|(k, _)| k.clone()).collect();
            let values: Vec<_> = entries.iter().map(|(_, v)| encode(v)).collect();
            container(*large, Some(&keys), &values)
        }
        Jsonb::Deep(depth, inner) => {
            let mut value = encode(inner);
            for _ in 0..*depth {
                value = container(false, None, &[value]);
            }
            value
        }
    }
}

/// An array (no keys) or object in the small or large storage format.
fn container(large: bool, keys: Option<&[Vec<u8>]>, values: &[(u8, Vec<u8>)]) -> (u8, Vec<u8>) {
    let off = if large { 4 } else { 2 };
    let put = |out: &mut Vec<u8>, v: usize| out.extend_from_slice(&v.to_le_bytes()[..off]);
    let n = values.len();
    let key_entries = keys.map_or(0, |_| n * (off + 2));
    let header = 2 * off + key_entries + n * (off + 1);
    let inlined = |t: u8| matches!(t, 4..=6) || (large && matches!(t, 7 | 8));
    let mut tail = Vec::new();
    let mut key_entry_bytes = Vec::new();
    if let Some(keys) = keys {
        for k in keys {
            put(&mut key_entry_bytes, header + tail.len());
            key_entry_bytes.extend_from_slice(&(k.len() as u16).to_le_bytes());
            tail.extend_from_slice(k);
        }
    }
    let mut value_entry_bytes = Vec::new();
    for (t, bytes) in values {
        value_entry_bytes.push(*t);
        if inlined(*t) {
            let mut field = bytes.clone();
            field.resize(off, 0);
            value_entry_bytes.extend_from_slice(&field[..off]);
        } else {
            put(&mut value_entry_bytes, header + tail.len());
            tail.extend_from_slice(bytes);
        }
    }
    let mut out = Vec::new();
    put(&mut out, n);
    put(&mut out, header + tail.len());
    out.extend(key_entry_bytes);
    out.extend(value_entry_bytes);
    out.extend(tail);
    let type_code = match (keys.is_some(), large) {
        (true, false) => 0,
        (true, true) => 1,
        (false, false) => 2,
        (false, true) => 3,
    };
    (type_code, out)
}

/// A DECIMAL(p, s) in MySQL's binary form, after its precision and scale (as a JSON opaque
/// DECIMAL holds it; a row image holds the bytes after those two). The digit groups, most
/// significant first, are taken from `seed` in turn, each modulo the group's size; never a
/// negative zero (the server does not write one). `s <= p` and `1 <= p <= 65`.
pub fn decimal(p: u8, s: u8, seed: &[u32], negative: bool) -> Vec<u8> {
    const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
    let (intg, frac) = (usize::from(p - s), usize::from(s));
    let mut groups = Vec::new();
    if intg % 9 > 0 {
        groups.push(intg % 9);
    }
    groups.extend(std::iter::repeat_n(9, intg / 9 + frac / 9));
    if frac % 9 > 0 {
        groups.push(frac % 9);
    }
    let mut bytes = Vec::new();
    let mut zero = true;
    for (i, &digits) in groups.iter().enumerate() {
        let v = u64::from(seed[i % seed.len()]) % 10u64.pow(digits as u32);
        zero &= v == 0;
        let n = DIG2BYTES[digits];
        bytes.extend_from_slice(&v.to_be_bytes()[8 - n..]);
    }
    if negative && !zero {
        bytes.iter_mut().for_each(|b| *b = !*b);
    }
    bytes[0] ^= 0x80;
    let mut out = vec![p, s];
    out.extend(bytes);
    out
}

/// MariaDB's compressed form of event data (`log_bin_compress`), as the server writes it:
/// `0x80 | n`, `stored_len` in the `n` big-endian bytes it needs (1 to 4), then `data`
/// deflated by zlib. `stored_len` is the uncompressed length unless a test says otherwise.
pub fn mariadb_compressed(data: &[u8], stored_len: u64) -> Vec<u8> {
    let n = match stored_len {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xff_ffff => 3,
        _ => 4,
    };
    let mut out = vec![0x80 | n as u8];
    out.extend_from_slice(&(stored_len as u32).to_be_bytes()[4 - n..]);
    let mut enc = flate2::write::ZlibEncoder::new(out, flate2::Compression::default());
    // Writing to a Vec cannot fail.
    enc.write_all(data).expect("zlib into memory");
    enc.finish().expect("zlib into memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonb_of_a_small_object() {
        // {"a": 1}: type 0, count 1, size 12, key entry (offset 11, len 1), value entry
        // (int16 inline 1), key "a".
        let doc = jsonb(&Jsonb::Object(false, vec![(b"a".to_vec(), Jsonb::I16(1))]));
        assert_eq!(doc, [0x00, 1, 0, 12, 0, 11, 0, 1, 0, 0x05, 1, 0, b'a']);
    }

    #[test]
    fn decimal_groups_and_sign() {
        // DECIMAL(5,2) -1.50: 3 integer digits (2 bytes), 2 fraction digits (1 byte).
        assert_eq!(decimal(5, 2, &[1, 50], true), [5, 2, 0x7f, 0xfe, !50]);
        assert_eq!(decimal(5, 2, &[0, 0], true), [5, 2, 0x80, 0, 0]);
    }

    #[test]
    fn mariadb_compressed_stores_the_length_in_as_few_bytes_as_it_needs() {
        let c = mariadb_compressed(&[7; 1000], 1000);
        assert_eq!(c[..3], [0x82, 0x03, 0xe8]);
        assert_eq!(
            mariadb_compressed(b"x", (1 << 30) - 1)[..5],
            [0x84, 0x3f, 0xff, 0xff, 0xff]
        );
        assert_eq!(mariadb_compressed(b"", 0)[..2], [0x81, 0]);
    }
}
