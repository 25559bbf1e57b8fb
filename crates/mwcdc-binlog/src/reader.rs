//! A bounds-checked little-endian cursor over event bytes.

use crate::DecodeError;

/// Reads fixed-width and length-encoded fields from a byte slice, failing with
/// [`DecodeError::Truncated`] instead of panicking when the input ends early.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The bytes not consumed yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated {
                needed: n,
                available: self.remaining(),
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.take(n).map(|_| ())
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    /// A little-endian unsigned integer of `n` (1..=8) bytes.
    pub fn uint_le(&mut self, n: usize) -> Result<u64, DecodeError> {
        let bytes = self.take(n)?;
        Ok(bytes
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// A big-endian unsigned integer of `n` (1..=8) bytes.
    pub fn uint_be(&mut self, n: usize) -> Result<u64, DecodeError> {
        let bytes = self.take(n)?;
        Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// Two bytes, little-endian.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// Four bytes, little-endian.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Eight bytes, little-endian.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A length-encoded ("packed") integer as the binlog uses it.
    pub fn packed(&mut self) -> Result<u64, DecodeError> {
        match self.u8()? {
            b @ 0..=250 => Ok(u64::from(b)),
            252 => self.uint_le(2),
            253 => self.uint_le(3),
            254 => self.uint_le(8),
            b => Err(DecodeError::Invalid(format!(
                "invalid length-encoded integer prefix 0x{b:02x}"
            ))),
        }
    }

    /// A packed integer that must fit in `usize` (a length or a count).
    pub fn packed_len(&mut self) -> Result<usize, DecodeError> {
        let n = self.packed()?;
        usize::try_from(n).map_err(|_| DecodeError::Invalid(format!("length {n} out of range")))
    }

    /// A string prefixed by its one-byte length.
    pub fn u8_prefixed(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_and_big_endian() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(r.uint_le(3).unwrap(), 0x030201);
        assert_eq!(r.uint_be(2).unwrap(), 0x0405);
        assert_eq!(r.remaining(), 4);
        assert!(matches!(
            r.u64(),
            Err(DecodeError::Truncated {
                needed: 8,
                available: 4
            })
        ));
    }

    #[test]
    fn reads_packed_integers() {
        let mut r = Reader::new(&[
            250, 252, 0x34, 0x12, 253, 1, 2, 3, 254, 1, 0, 0, 0, 0, 0, 0, 0x80,
        ]);
        assert_eq!(r.packed().unwrap(), 250);
        assert_eq!(r.packed().unwrap(), 0x1234);
        assert_eq!(r.packed().unwrap(), 0x030201);
        assert_eq!(r.packed().unwrap(), 0x8000_0000_0000_0001);
        assert!(Reader::new(&[255]).packed().is_err());
    }
}
