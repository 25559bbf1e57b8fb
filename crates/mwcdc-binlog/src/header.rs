//! The common event header, event type codes and the CRC32 footer.

use crate::{DecodeError, Reader};

/// Length of the v4 event header.
pub const HEADER_LEN: usize = 19;
/// Length of the CRC32 footer.
pub const CHECKSUM_LEN: usize = 4;
/// Header flag: the binlog file was not closed properly (set in a file's FDE while in use).
pub const LOG_EVENT_BINLOG_IN_USE_F: u16 = 0x1;

/// Binlog event type codes this crate interprets (MySQL and MariaDB share 0..=42 where
/// both define them; 160.. are MariaDB's).
#[allow(missing_docs)]
pub mod event_type {
    pub const QUERY: u8 = 2;
    pub const INTVAR: u8 = 5;
    pub const APPEND_BLOCK: u8 = 9;
    pub const DELETE_FILE: u8 = 11;
    pub const RAND: u8 = 13;
    pub const USER_VAR: u8 = 14;
    pub const STOP: u8 = 3;
    pub const ROTATE: u8 = 4;
    pub const FORMAT_DESCRIPTION: u8 = 15;
    pub const XID: u8 = 16;
    pub const BEGIN_LOAD_QUERY: u8 = 17;
    pub const EXECUTE_LOAD_QUERY: u8 = 18;
    pub const TABLE_MAP: u8 = 19;
    pub const WRITE_ROWS_V1: u8 = 23;
    pub const UPDATE_ROWS_V1: u8 = 24;
    pub const DELETE_ROWS_V1: u8 = 25;
    pub const INCIDENT: u8 = 26;
    pub const HEARTBEAT: u8 = 27;
    pub const IGNORABLE: u8 = 28;
    pub const ROWS_QUERY: u8 = 29;
    pub const WRITE_ROWS: u8 = 30;
    pub const UPDATE_ROWS: u8 = 31;
    pub const DELETE_ROWS: u8 = 32;
    pub const GTID: u8 = 33;
    pub const ANONYMOUS_GTID: u8 = 34;
    pub const PREVIOUS_GTIDS: u8 = 35;
    pub const TRANSACTION_CONTEXT: u8 = 36;
    pub const VIEW_CHANGE: u8 = 37;
    pub const XA_PREPARE: u8 = 38;
    pub const PARTIAL_UPDATE_ROWS: u8 = 39;
    pub const TRANSACTION_PAYLOAD: u8 = 40;
    pub const HEARTBEAT_V2: u8 = 41;
    pub const GTID_TAGGED: u8 = 42;
    pub const MARIA_ANNOTATE_ROWS: u8 = 160;
    pub const MARIA_BINLOG_CHECKPOINT: u8 = 161;
    pub const MARIA_GTID: u8 = 162;
    pub const MARIA_GTID_LIST: u8 = 163;
    pub const MARIA_START_ENCRYPTION: u8 = 164;
    pub const MARIA_QUERY_COMPRESSED: u8 = 165;
    pub const MARIA_WRITE_ROWS_COMPRESSED_V1: u8 = 166;
    pub const MARIA_UPDATE_ROWS_COMPRESSED_V1: u8 = 167;
    pub const MARIA_DELETE_ROWS_COMPRESSED_V1: u8 = 168;
    pub const MARIA_WRITE_ROWS_COMPRESSED: u8 = 169;
    pub const MARIA_UPDATE_ROWS_COMPRESSED: u8 = 170;
    pub const MARIA_DELETE_ROWS_COMPRESSED: u8 = 171;
}

/// The 19-byte header every v4 event starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventHeader {
    /// Seconds since the epoch when the statement started.
    pub timestamp: u32,
    /// Event type code (see [`event_type`]).
    pub type_code: u8,
    /// Server id of the server that wrote the event first.
    pub server_id: u32,
    /// Total event length, header and checksum included.
    pub event_size: u32,
    /// Position of the next event in the binlog file (0 for artificial events).
    pub log_pos: u32,
    /// Header flags.
    pub flags: u16,
}

impl EventHeader {
    /// Parses the header from the start of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        Ok(Self {
            timestamp: r.u32()?,
            type_code: r.u8()?,
            server_id: r.u32()?,
            event_size: r.u32()?,
            log_pos: r.u32()?,
            flags: r.u16()?,
        })
    }

    /// Serializes the header back to its 19 bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.timestamp.to_le_bytes());
        out[4] = self.type_code;
        out[5..9].copy_from_slice(&self.server_id.to_le_bytes());
        out[9..13].copy_from_slice(&self.event_size.to_le_bytes());
        out[13..17].copy_from_slice(&self.log_pos.to_le_bytes());
        out[17..19].copy_from_slice(&self.flags.to_le_bytes());
        out
    }

    /// Start position of the event in its binlog file, when the server gave one.
    pub fn start_pos(&self) -> Option<u32> {
        (self.log_pos != 0).then(|| self.log_pos.saturating_sub(self.event_size))
    }
}

/// One event split into header, body and optional CRC32, borrowed from the bytes it came in.
#[derive(Debug, Clone, Copy)]
pub struct RawEvent<'a> {
    /// The parsed header.
    pub header: EventHeader,
    /// The bytes after the header, without the checksum.
    pub body: &'a [u8],
    /// The stored CRC32, when the binlog is checksummed.
    pub checksum: Option<u32>,
}

impl<'a> RawEvent<'a> {
    /// Splits one complete event (as read from a file or the wire). `checksummed` says whether
    /// the binlog's format description announced CRC32. A FORMAT_DESCRIPTION event always has
    /// the algorithm byte and checksum in its body; [`crate::FormatDescription::parse`] handles it.
    pub fn split(bytes: &'a [u8], checksummed: bool) -> Result<Self, DecodeError> {
        let header = EventHeader::parse(bytes)?;
        let size = header.event_size as usize;
        if size != bytes.len() {
            return Err(DecodeError::Invalid(format!(
                "event header says {size} bytes, {} received",
                bytes.len()
            )));
        }
        let is_fde = header.type_code == event_type::FORMAT_DESCRIPTION;
        let has_checksum = checksummed && !is_fde;
        let body_end = if has_checksum {
            size.checked_sub(CHECKSUM_LEN)
                .filter(|&end| end >= HEADER_LEN)
                .ok_or(DecodeError::Truncated {
                    needed: HEADER_LEN + CHECKSUM_LEN,
                    available: size,
                })?
        } else {
            size
        };
        let body = bytes
            .get(HEADER_LEN..body_end)
            .ok_or(DecodeError::Truncated {
                needed: HEADER_LEN,
                available: size,
            })?;
        let checksum = has_checksum.then(|| {
            let mut c = [0u8; 4];
            c.copy_from_slice(&bytes[body_end..]);
            u32::from_le_bytes(c)
        });
        Ok(Self {
            header,
            body,
            checksum,
        })
    }

    /// Verifies the stored CRC32 against the header and body, when there is one.
    pub fn verify_checksum(&self) -> Result<(), DecodeError> {
        let Some(expected) = self.checksum else {
            return Ok(());
        };
        let actual = crc32(&self.header, self.body);
        if actual == expected {
            Ok(())
        } else {
            Err(DecodeError::ChecksumMismatch { expected, actual })
        }
    }
}

/// CRC32 of an event's header and body as the server computes it: the FDE's
/// "binlog in use" flag is cleared first, because the server clears it in place on close.
pub fn crc32(header: &EventHeader, body: &[u8]) -> u32 {
    let mut header = *header;
    if header.type_code == event_type::FORMAT_DESCRIPTION {
        header.flags &= !LOG_EVENT_BINLOG_IN_USE_F;
    }
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&header.to_bytes());
    hasher.update(body);
    hasher.finalize()
}

#[cfg(test)]
mod tests {
    use mwcdc_test_support::binlog::{self, Checksum, Header};

    use super::*;

    /// A checksummed event from server 7 ending at 100.
    fn event(type_code: u8, body: &[u8]) -> Vec<u8> {
        let header = Header {
            timestamp: 1,
            server_id: 7,
            log_pos: 100,
            ..Header::new(type_code)
        };
        binlog::event(&header, body, Checksum::Crc32)
    }

    #[test]
    fn header_round_trips() {
        let bytes = event(event_type::XID, &[1, 2, 3, 4, 5, 6, 7, 8]);
        let raw = RawEvent::split(&bytes, true).unwrap();
        assert_eq!(raw.header.type_code, event_type::XID);
        assert_eq!(raw.header.server_id, 7);
        assert_eq!(raw.body, &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(raw.header.start_pos(), Some(100 - 31));
        raw.verify_checksum().unwrap();
    }

    #[test]
    fn checksum_mismatch_is_detected() {
        let mut bytes = event(event_type::XID, &[1, 2, 3, 4, 5, 6, 7, 8]);
        bytes[HEADER_LEN + 2] ^= 0x40;
        let raw = RawEvent::split(&bytes, true).unwrap();
        let err = raw.verify_checksum().unwrap_err();
        assert!(matches!(err, DecodeError::ChecksumMismatch { .. }), "{err}");
    }

    #[test]
    fn truncated_event_is_an_error() {
        let bytes = event(event_type::XID, &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(RawEvent::split(&bytes[..10], true).is_err());
        assert!(RawEvent::split(&bytes[..25], true).is_err());
    }
}
