//! Compressed binlog content: MariaDB's zlib-compressed events (`log_bin_compress`) and
//! MySQL's zstd TRANSACTION_PAYLOAD events (`binlog_transaction_compression`).

use std::io::Read;

use crate::{DecodeError, Reader};

/// Upper bound for one decompressed event or payload: a server's `max_allowed_packet` cannot
/// exceed 1 GiB, so anything larger is corrupt input, not data.
const MAX_UNCOMPRESSED: u64 = 1 << 30;

/// Most bytes reserved before decompressing: the size a header announces is not trusted
/// with more, the buffer grows with the bytes that actually come out.
const MAX_RESERVED: u64 = 1 << 20;

/// Decompresses MariaDB's compressed event data: one header byte `0x80 | n`, then the
/// uncompressed length in `n` big-endian bytes, then a zlib stream.
pub fn mariadb_uncompress(data: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut r = Reader::new(data);
    let head = r.u8()?;
    if head & 0xe0 != 0x80 {
        return Err(DecodeError::Decompress(format!(
            "bad compressed-data header byte 0x{head:02x}"
        )));
    }
    let len_bytes = usize::from(head & 0x07);
    if !(1..=4).contains(&len_bytes) {
        return Err(DecodeError::Decompress(format!(
            "bad length width {len_bytes} in compressed-data header"
        )));
    }
    let len = r.uint_be(len_bytes)?;
    inflate(flate2::read::ZlibDecoder::new(r.rest()), len)
}

fn inflate(reader: impl Read, expected: u64) -> Result<Vec<u8>, DecodeError> {
    if expected > MAX_UNCOMPRESSED {
        return Err(DecodeError::Decompress(format!(
            "uncompressed size {expected} is larger than 1 GiB"
        )));
    }
    let mut out = Vec::with_capacity(expected.min(MAX_RESERVED) as usize);
    reader
        .take(expected + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Decompress(e.to_string()))?;
    if out.len() as u64 != expected {
        return Err(DecodeError::Decompress(format!(
            "expected {expected} bytes, got {}",
            out.len()
        )));
    }
    Ok(out)
}

const PAYLOAD_END_MARK: u64 = 0;
const PAYLOAD_SIZE: u64 = 1;
const PAYLOAD_COMPRESSION_TYPE: u64 = 2;
const PAYLOAD_UNCOMPRESSED_SIZE: u64 = 3;
const COMPRESSION_ZSTD: u64 = 0;
const COMPRESSION_NONE: u64 = 255;

/// Decodes a MySQL TRANSACTION_PAYLOAD body into the bytes of the events it holds (each a
/// complete event with header and without checksum).
pub fn mysql_transaction_payload(body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut r = Reader::new(body);
    let mut compression = None;
    let mut uncompressed_size = None;
    let mut payload_size = None;
    loop {
        let field = r.packed()?;
        if field == PAYLOAD_END_MARK {
            break;
        }
        let len = r.packed_len()?;
        let mut value = Reader::new(r.take(len)?);
        match field {
            PAYLOAD_SIZE => payload_size = Some(value.packed()?),
            PAYLOAD_COMPRESSION_TYPE => compression = Some(value.packed()?),
            PAYLOAD_UNCOMPRESSED_SIZE => uncompressed_size = Some(value.packed()?),
            _ => {} // fields added by later versions are length-delimited and safe to pass
        }
    }
    let payload = r.rest();
    if let Some(size) = payload_size {
        if size != payload.len() as u64 {
            return Err(DecodeError::Decompress(format!(
                "payload header says {size} bytes, event holds {}",
                payload.len()
            )));
        }
    }
    match compression {
        Some(COMPRESSION_NONE) => Ok(payload.to_vec()),
        Some(COMPRESSION_ZSTD) => {
            let expected = uncompressed_size.ok_or_else(|| {
                DecodeError::Decompress("zstd payload without uncompressed size".into())
            })?;
            let decoder = zstd::stream::read::Decoder::new(payload)
                .map_err(|e| DecodeError::Decompress(e.to_string()))?;
            inflate(decoder, expected)
        }
        other => Err(DecodeError::Decompress(format!(
            "unknown transaction payload compression {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use mwcdc_test_support::binlog::events::{transaction_payload, PAYLOAD_ZSTD};
    use mwcdc_test_support::binlog::values::mariadb_compressed;

    use super::*;

    #[test]
    fn mariadb_round_trip() {
        let data = vec![7u8; 1000];
        let buf = mariadb_compressed(&data, 1000);
        assert_eq!(mariadb_uncompress(&buf).unwrap(), data);
    }

    #[test]
    fn mariadb_rejects_bad_header_and_wrong_length() {
        let mut buf = mariadb_compressed(&[1; 1000], 1000);
        buf[0] = 0x02;
        assert!(mariadb_uncompress(&buf).is_err());
        buf[0] = 0x82;
        buf[2] = 0xe9; // claims 1001 bytes
        assert!(mariadb_uncompress(&buf).is_err());
        assert!(mariadb_uncompress(&[0x82, 0x03]).is_err());
    }

    #[test]
    fn a_size_near_1_gib_reserves_nothing_of_it_before_decompressing() {
        // A few bytes of zlib that claim 1 GiB - 1 uncompressed: an error without a
        // 1 GiB allocation (the fuzz test ran out of memory under `ulimit -v 1000000`).
        let buf = mariadb_compressed(b"x", (1 << 30) - 1);
        let err = mariadb_uncompress(&buf).unwrap_err();
        assert!(
            err.to_string().contains("expected 1073741823 bytes, got 1"),
            "{err}"
        );
        // The same for a zstd payload.
        let x = zstd::encode_all(&b"x"[..], 3).unwrap();
        let body = transaction_payload(PAYLOAD_ZSTD, (1 << 30) - 1, &[], &x);
        assert!(mysql_transaction_payload(&body).is_err());
    }

    #[test]
    fn mysql_payload_zstd_round_trip() {
        let data = b"some events".repeat(20);
        let compressed = zstd::encode_all(&data[..], 3).unwrap();
        let body = transaction_payload(PAYLOAD_ZSTD, data.len() as u64, &[], &compressed);
        assert_eq!(mysql_transaction_payload(&body).unwrap(), data);
        let mut corrupt = body.clone();
        let last = corrupt.len() - 3;
        corrupt[last] ^= 0xff;
        assert!(mysql_transaction_payload(&corrupt).is_err());
    }
}
