//! DATE, TIME, DATETIME and TIMESTAMP in both the old and the MySQL 5.6+ ("2") formats.

use crate::{DecodeError, Reader};

/// Fractional seconds: `(fsp + 1) / 2` big-endian bytes, as microseconds and as text.
fn fraction(r: &mut Reader<'_>, fsp: u8) -> Result<u32, DecodeError> {
    let (bytes, scale) = match fsp {
        0 => return Ok(0),
        1 | 2 => (1, 10_000),
        3 | 4 => (2, 100),
        _ => (3, 1),
    };
    Ok(r.uint_be(bytes)? as u32 * scale)
}

fn push_fraction(out: &mut String, micros: u32, fsp: u8) {
    if fsp > 0 {
        let digits = format!("{micros:06}");
        out.push('.');
        out.push_str(&digits[..usize::from(fsp)]);
    }
}

/// DATE: 3 bytes, day in bits 0-4, month in 5-8, year above.
pub fn date(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    let v = r.uint_le(3)?;
    Ok(format!("{:04}-{:02}-{:02}", v >> 9, (v >> 5) & 15, v & 31))
}

/// Old TIME: a signed 3-byte integer HHMMSS.
pub fn time(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    let raw = r.uint_le(3)?;
    let v = ((raw << 40) as i64) >> 40;
    let sign = if v < 0 { "-" } else { "" };
    let v = v.unsigned_abs();
    Ok(format!(
        "{sign}{:02}:{:02}:{:02}",
        v / 10000,
        (v / 100) % 100,
        v % 100
    ))
}

/// TIME(fsp): 3 big-endian bytes offset by 0x800000, then the fraction; negative values
/// borrow from the integer part as the server encodes them.
pub fn time2(r: &mut Reader<'_>, fsp: u8) -> Result<String, DecodeError> {
    const TIMEF_INT_OFS: i64 = 0x80_0000;
    const TIMEF_OFS: i64 = 0x8000_0000_0000;
    let packed: i64 = match fsp {
        0 => (r.uint_be(3)? as i64 - TIMEF_INT_OFS) << 24,
        1 | 2 => {
            let mut int = r.uint_be(3)? as i64 - TIMEF_INT_OFS;
            let mut frac = r.u8()? as i64;
            if int < 0 && frac != 0 {
                int += 1;
                frac -= 0x100;
            }
            (int << 24) + frac * 10_000
        }
        3 | 4 => {
            let mut int = r.uint_be(3)? as i64 - TIMEF_INT_OFS;
            let mut frac = r.uint_be(2)? as i64;
            if int < 0 && frac != 0 {
                int += 1;
                frac -= 0x10000;
            }
            (int << 24) + frac * 100
        }
        _ => r.uint_be(6)? as i64 - TIMEF_OFS,
    };
    let sign = if packed < 0 { "-" } else { "" };
    let abs = packed.unsigned_abs();
    let hms = abs >> 24;
    let micros = (abs % (1 << 24)) as u32;
    let mut out = format!(
        "{sign}{:02}:{:02}:{:02}",
        (hms >> 12) % (1 << 10),
        (hms >> 6) % 64,
        hms % 64
    );
    push_fraction(&mut out, micros, fsp);
    Ok(out)
}

/// Old DATETIME: an 8-byte integer YYYYMMDDhhmmss.
pub fn datetime(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    let v = r.u64()?;
    let (d, t) = (v / 1_000_000, v % 1_000_000);
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        d / 10000,
        (d / 100) % 100,
        d % 100,
        t / 10000,
        (t / 100) % 100,
        t % 100
    ))
}

/// DATETIME(fsp): 5 big-endian bytes packing year*13+month, day, hour, minute, second.
pub fn datetime2(r: &mut Reader<'_>, fsp: u8) -> Result<String, DecodeError> {
    const DATETIMEF_INT_OFS: u64 = 0x80_0000_0000;
    let int = r
        .uint_be(5)?
        .checked_sub(DATETIMEF_INT_OFS)
        .ok_or_else(|| DecodeError::Invalid("negative DATETIME value".into()))?;
    let micros = fraction(r, fsp)?;
    let ymd = int >> 17;
    let ym = ymd >> 5;
    let hms = int % (1 << 17);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        ym / 13,
        ym % 13,
        ymd % 32,
        hms >> 12,
        (hms >> 6) % 64,
        hms % 64
    );
    push_fraction(&mut out, micros, fsp);
    Ok(out)
}

/// Old TIMESTAMP: 4 little-endian bytes of seconds since the epoch.
pub fn timestamp(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    let secs = r.u32()?;
    Ok(utc(secs, 0, 0))
}

/// TIMESTAMP(fsp): 4 big-endian bytes of seconds, then the fraction.
pub fn timestamp2(r: &mut Reader<'_>, fsp: u8) -> Result<String, DecodeError> {
    let secs = r.uint_be(4)? as u32;
    let micros = fraction(r, fsp)?;
    Ok(utc(secs, micros, fsp))
}

/// Formats seconds since the epoch as ISO-8601 UTC; 0 is the zero timestamp.
fn utc(secs: u32, micros: u32, fsp: u8) -> String {
    let mut out = if secs == 0 && micros == 0 {
        "0000-00-00T00:00:00".to_string()
    } else {
        let (y, m, d) = civil_from_days(i64::from(secs / 86_400));
        let s = secs % 86_400;
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            s / 3600,
            (s / 60) % 60,
            s % 60
        )
    };
    push_fraction(&mut out, micros, fsp);
    out.push('Z');
    out
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), by Howard Hinnant's
/// `civil_from_days` (no date library: TIMESTAMP values and the commit time of entity records
/// are formatted with it on the hot path).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: impl Fn(&mut Reader<'_>) -> Result<String, DecodeError>, bytes: &[u8]) -> String {
        let mut r = Reader::new(bytes);
        let s = f(&mut r).unwrap();
        assert_eq!(r.remaining(), 0);
        s
    }

    #[test]
    fn dates() {
        // 2026-11-26: (2026 << 9) | (11 << 5) | 26
        let v: u32 = (2026 << 9) | (11 << 5) | 26;
        assert_eq!(run(date, &v.to_le_bytes()[..3]), "2026-11-26");
        assert_eq!(run(date, &[0, 0, 0]), "0000-00-00");
    }

    #[test]
    fn datetime2_with_fraction() {
        // 2026-11-26 08:30:15.123 with fsp 3
        let ym: u64 = 2026 * 13 + 11;
        let int = (((ym << 5) | 26) << 17) | (8 << 12) | (30 << 6) | 15;
        let packed = int + 0x80_0000_0000;
        let mut bytes = packed.to_be_bytes()[3..].to_vec();
        bytes.extend_from_slice(&1230u16.to_be_bytes());
        assert_eq!(run(|r| datetime2(r, 3), &bytes), "2026-11-26T08:30:15.123");
        let zero = 0x80_0000_0000u64.to_be_bytes()[3..].to_vec();
        assert_eq!(run(|r| datetime2(r, 0), &zero), "0000-00-00T00:00:00");
    }

    #[test]
    fn timestamps_are_utc() {
        assert_eq!(
            run(|r| timestamp2(r, 0), &1_795_651_200u32.to_be_bytes()),
            "2026-11-26T00:00:00Z"
        );
        let mut b = 1u32.to_be_bytes().to_vec();
        b.extend_from_slice(&[0x01, 0xe2, 0x40]); // 123456 us
        assert_eq!(run(|r| timestamp2(r, 6), &b), "1970-01-01T00:00:01.123456Z");
        assert_eq!(run(timestamp, &0u32.to_le_bytes()), "0000-00-00T00:00:00Z");
        assert_eq!(
            run(|r| timestamp2(r, 2), &[0, 0, 0, 0, 0]),
            "0000-00-00T00:00:00.00Z"
        );
    }

    #[test]
    fn time2_positive_and_negative() {
        let enc = |h: i64, m: i64, s: i64| {
            let v = ((h << 12) | (m << 6) | s) + 0x80_0000;
            (v as u64).to_be_bytes()[5..].to_vec()
        };
        assert_eq!(run(|r| time2(r, 0), &enc(838, 59, 59)), "838:59:59");
        // -00:00:01 is int part -1.
        let neg = ((-1i64 + 0x80_0000) as u64).to_be_bytes()[5..].to_vec();
        assert_eq!(run(|r| time2(r, 0), &neg), "-00:00:01");
        // -00:00:00.5 with fsp 1: int -1, frac 0x100 - 50
        let mut b = ((-1i64 + 0x80_0000) as u64).to_be_bytes()[5..].to_vec();
        b.push((0x100 - 50) as u8);
        assert_eq!(run(|r| time2(r, 1), &b), "-00:00:00.5");
    }

    #[test]
    fn old_formats() {
        let v: i32 = -123456;
        assert_eq!(run(time, &v.to_le_bytes()[..3]), "-12:34:56");
        assert_eq!(
            run(datetime, &20261126083015u64.to_le_bytes()),
            "2026-11-26T08:30:15"
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_783), (2026, 11, 26));
    }
}
