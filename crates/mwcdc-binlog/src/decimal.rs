//! MySQL's packed DECIMAL: groups of nine digits in four big-endian bytes, the sign in the
//! top bit of the first byte, negative numbers stored inverted.

use crate::{DecodeError, Reader};

const DIG_PER_DEC: usize = 9;
const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/// Decodes a DECIMAL(precision, scale) into its exact decimal text, e.g. `-1234.5600`.
pub fn decode(r: &mut Reader<'_>, precision: u8, scale: u8) -> Result<String, DecodeError> {
    let (precision, scale) = (usize::from(precision), usize::from(scale));
    if scale > precision || precision > 65 {
        return Err(DecodeError::Invalid(format!(
            "DECIMAL({precision},{scale}) out of range"
        )));
    }
    let intg = precision - scale;
    let (intg0, intg0x) = (intg / DIG_PER_DEC, intg % DIG_PER_DEC);
    let (frac0, frac0x) = (scale / DIG_PER_DEC, scale % DIG_PER_DEC);
    let size = intg0 * 4 + DIG2BYTES[intg0x] + frac0 * 4 + DIG2BYTES[frac0x];
    let mut buf = r.take(size)?.to_vec();
    if buf.is_empty() {
        return Ok("0".into());
    }
    let negative = buf[0] & 0x80 == 0;
    buf[0] ^= 0x80;
    if negative {
        buf.iter_mut().for_each(|b| *b ^= 0xff);
    }
    let mut g = Reader::new(&buf);
    let mut int_digits = String::new();
    if intg0x > 0 {
        int_digits.push_str(&group(&mut g, intg0x)?.to_string());
    }
    for _ in 0..intg0 {
        let v = group(&mut g, DIG_PER_DEC)?;
        int_digits.push_str(&format!("{v:09}"));
    }
    let int_digits = int_digits.trim_start_matches('0');
    let mut out = String::with_capacity(precision + 3);
    let mut frac_digits = String::new();
    for _ in 0..frac0 {
        frac_digits.push_str(&format!("{:09}", group(&mut g, DIG_PER_DEC)?));
    }
    if frac0x > 0 {
        let v = group(&mut g, frac0x)?;
        frac_digits.push_str(&format!("{v:0width$}", width = frac0x));
    }
    let is_zero = int_digits.is_empty() && frac_digits.bytes().all(|b| b == b'0');
    if negative && !is_zero {
        out.push('-');
    }
    out.push_str(if int_digits.is_empty() {
        "0"
    } else {
        int_digits
    });
    if scale > 0 {
        out.push('.');
        out.push_str(&frac_digits);
    }
    Ok(out)
}

/// A group of `digits` decimal digits, which must hold no more than that many digits.
fn group(g: &mut Reader<'_>, digits: usize) -> Result<u64, DecodeError> {
    let v = g.uint_be(DIG2BYTES[digits])?;
    if v >= 10u64.pow(digits as u32) {
        return Err(DecodeError::Invalid(format!(
            "DECIMAL digit group {v} has more than {digits} digits"
        )));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(bytes: &[u8], p: u8, s: u8) -> String {
        let mut r = Reader::new(bytes);
        let out = decode(&mut r, p, s).unwrap();
        assert_eq!(r.remaining(), 0);
        out
    }

    #[test]
    fn decodes_examples_from_the_server_docs() {
        // DECIMAL(14,4) 1234567890.1234 -> 81 0D FB 38 D2 04 D2 (from MySQL's decimal.c notes)
        assert_eq!(
            dec(&[0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x04, 0xd2], 14, 4),
            "1234567890.1234"
        );
        assert_eq!(
            dec(&[0x7e, 0xf2, 0x04, 0xc7, 0x2d, 0xfb, 0x2d], 14, 4),
            "-1234567890.1234"
        );
    }

    #[test]
    fn small_and_zero_values() {
        // DECIMAL(5,2) 1.50: int part 3 digits (2 bytes), frac 2 digits (1 byte)
        assert_eq!(dec(&[0x80, 0x01, 50], 5, 2), "1.50");
        assert_eq!(dec(&[0x80, 0x00, 0], 5, 2), "0.00");
        assert_eq!(dec(&[0x7f, 0xfe, !50], 5, 2), "-1.50");
        // DECIMAL(20,0) holding u64::MAX: 2 leading digits in 1 byte, then two 9-digit groups.
        let mut b = vec![0x80 | 18];
        b.extend_from_slice(&446_744_073u32.to_be_bytes());
        b.extend_from_slice(&709_551_615u32.to_be_bytes());
        assert_eq!(dec(&b, 20, 0), "18446744073709551615");
    }

    #[test]
    fn digit_groups_out_of_range_are_errors() {
        // DECIMAL(5,2): 3 integer digits in 2 bytes, 2 fraction digits in 1 byte.
        assert!(decode(&mut Reader::new(&[0x83, 0xe8, 0]), 5, 2).is_err()); // 1000
        assert!(decode(&mut Reader::new(&[0x80, 0, 100]), 5, 2).is_err()); // .100
        assert_eq!(dec(&[0x83, 0xe7, 99], 5, 2), "999.99");
        // A full group of nine digits holds at most 999999999.
        let mut b = vec![0x80 | 0x3b, 0x9a, 0xca, 0x00]; // 1_000_000_000
        assert!(decode(&mut Reader::new(&b), 9, 0).is_err());
        b[3] = 0xff; // 0x3b9ac9ff = 999_999_999 after the sign bit
        b[2] = 0xc9;
        assert_eq!(dec(&b, 9, 0), "999999999");
    }

    #[test]
    fn truncated_decimal_is_an_error() {
        assert!(decode(&mut Reader::new(&[0x81, 0x0d]), 14, 4).is_err());
        assert!(decode(&mut Reader::new(&[0x81]), 70, 4).is_err());
    }
}
