//! Frames event bodies into events: the 19-byte common header, the CRC32 footer, and the
//! length-encoded integers the bodies are written with.

/// Length of the v4 common header.
pub const HEADER_LEN: usize = 19;
/// Length of the CRC32 footer.
pub const CHECKSUM_LEN: usize = 4;
/// The timestamp [`Header::new`] gives (2023-11-14).
pub const TIMESTAMP: u32 = 1_700_000_000;

/// Header flag of a FORMAT_DESCRIPTION: the binlog file is still being written.
pub const LOG_EVENT_BINLOG_IN_USE_F: u16 = 0x1;
/// Header flag of MariaDB's GTID events and of `BEGIN`: replay without `USE db`.
pub const LOG_EVENT_SUPPRESS_USE_F: u16 = 0x8;
/// Header flag of the events a server sends that are not in the file at that position.
pub const LOG_EVENT_ARTIFICIAL_F: u16 = 0x20;

/// The event type codes the builders write.
pub(crate) mod event_type {
    pub const QUERY: u8 = 2;
    pub const ROTATE: u8 = 4;
    pub const FORMAT_DESCRIPTION: u8 = 15;
    pub const XID: u8 = 16;
    pub const TABLE_MAP: u8 = 19;
    pub const XA_PREPARE: u8 = 38;
    pub const MARIA_BINLOG_CHECKPOINT: u8 = 161;
    pub const MARIA_GTID: u8 = 162;
    pub const MARIA_GTID_LIST: u8 = 163;
}

/// The common header of an event, less its size, which framing computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Seconds since the epoch.
    pub timestamp: u32,
    /// Event type code.
    pub type_code: u8,
    /// Id of the server that wrote the event.
    pub server_id: u32,
    /// Position of the next event in the file (0 for artificial events and for the events of
    /// a TRANSACTION_PAYLOAD).
    pub log_pos: u32,
    /// Header flags (`LOG_EVENT_*`).
    pub flags: u16,
}

impl Header {
    /// A header of `type_code` at [`TIMESTAMP`] from server 1, log_pos 0, no flags.
    pub fn new(type_code: u8) -> Self {
        Self {
            timestamp: TIMESTAMP,
            type_code,
            server_id: 1,
            log_pos: 0,
            flags: 0,
        }
    }

    /// The header's 19 bytes for an event of `event_size` bytes in all.
    pub fn to_bytes(&self, event_size: u32) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.timestamp.to_le_bytes());
        out[4] = self.type_code;
        out[5..9].copy_from_slice(&self.server_id.to_le_bytes());
        out[9..13].copy_from_slice(&event_size.to_le_bytes());
        out[13..17].copy_from_slice(&self.log_pos.to_le_bytes());
        out[17..19].copy_from_slice(&self.flags.to_le_bytes());
        out
    }
}

/// What ends an event after its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// Nothing: `binlog_checksum=NONE`, or an event inside a TRANSACTION_PAYLOAD.
    None,
    /// A CRC32 of header and body, appended: `binlog_checksum=CRC32`. A FORMAT_DESCRIPTION
    /// takes one whatever the setting (servers since MySQL 5.6.1 and MariaDB 5.3 write it
    /// after the algorithm byte even when the algorithm is NONE), so build its body with
    /// [`super::events::format_description`] and frame it with this.
    Crc32,
    /// The body's last four bytes are the CRC32's place: they are overwritten with the CRC32
    /// of the header and the bytes before them (a body shorter than four bytes is left as it
    /// is). For re-framing a FORMAT_DESCRIPTION body as the decoder splits it off a recorded
    /// event, its checksum included, after changing it (tests/fuzz.rs).
    InBody,
}

/// A complete event: `header` with the size made right, `body`, and the footer `checksum`
/// says.
pub fn event(header: &Header, body: &[u8], checksum: Checksum) -> Vec<u8> {
    let footer = if checksum == Checksum::Crc32 {
        CHECKSUM_LEN
    } else {
        0
    };
    let size = HEADER_LEN + body.len() + footer;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&header.to_bytes(size as u32));
    out.extend_from_slice(body);
    match checksum {
        Checksum::None => {}
        Checksum::Crc32 => {
            let crc = crc32(&out);
            out.extend_from_slice(&crc.to_le_bytes());
        }
        Checksum::InBody => {
            if body.len() >= CHECKSUM_LEN {
                let at = out.len() - CHECKSUM_LEN;
                let crc = crc32(&out[..at]);
                out[at..].copy_from_slice(&crc.to_le_bytes());
            }
        }
    }
    out
}

/// The size of an event around a body of `body_len` bytes.
pub fn event_size(body_len: usize, checksum: Checksum) -> u32 {
    let footer = if checksum == Checksum::Crc32 {
        CHECKSUM_LEN
    } else {
        0
    };
    (HEADER_LEN + body_len + footer) as u32
}

/// Writes the CRC32 of a checksummed event again into its last four bytes, after its header
/// or body were changed in place. Events shorter than a header and a CRC32 are left alone.
pub fn reseal(event: &mut [u8]) {
    if let Some(at) = event.len().checked_sub(CHECKSUM_LEN) {
        if at >= HEADER_LEN {
            let crc = crc32(&event[..at]);
            event[at..].copy_from_slice(&crc.to_le_bytes());
        }
    }
}

/// CRC32 of an event's header and body as servers compute it: with a FORMAT_DESCRIPTION's
/// [`LOG_EVENT_BINLOG_IN_USE_F`] cleared, since the server clears the flag in place when it
/// closes the file, without writing the checksum again.
fn crc32(header_and_body: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    if header_and_body.len() >= HEADER_LEN && header_and_body[4] == event_type::FORMAT_DESCRIPTION {
        let flags_low = header_and_body[17] & !(LOG_EVENT_BINLOG_IN_USE_F as u8);
        hasher.update(&header_and_body[..17]);
        hasher.update(&[flags_low]);
        hasher.update(&header_and_body[18..]);
    } else {
        hasher.update(header_and_body);
    }
    hasher.finalize()
}

/// A length-encoded integer: one byte below 251, else 0xfc, 0xfd or 0xfe and 2, 3 or 8
/// bytes.
pub fn packed(n: u64) -> Vec<u8> {
    match n {
        0..=250 => vec![n as u8],
        251..=0xffff => {
            let mut v = vec![0xfc];
            v.extend_from_slice(&(n as u16).to_le_bytes());
            v
        }
        0x1_0000..=0xff_ffff => {
            let mut v = vec![0xfd];
            v.extend_from_slice(&n.to_le_bytes()[..3]);
            v
        }
        _ => {
            let mut v = vec![0xfe];
            v.extend_from_slice(&n.to_le_bytes());
            v
        }
    }
}

/// Bytes after their length as a length-encoded integer.
pub fn packed_bytes(s: &[u8]) -> Vec<u8> {
    let mut v = packed(s.len() as u64);
    v.extend_from_slice(s);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_integers_take_their_shortest_form() {
        assert_eq!(packed(250), [250]);
        assert_eq!(packed(251), [0xfc, 251, 0]);
        assert_eq!(packed(0x1_0000), [0xfd, 0, 0, 1]);
        assert_eq!(packed(1 << 24), [0xfe, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(packed_bytes(b"ab"), [2, b'a', b'b']);
    }

    #[test]
    fn the_crc32_covers_header_and_body_and_reseal_rewrites_it() {
        let mut ev = event(
            &Header::new(event_type::XID),
            &7u64.to_le_bytes(),
            Checksum::Crc32,
        );
        assert_eq!(ev.len(), 31);
        assert_eq!(u32::from_le_bytes([ev[9], ev[10], ev[11], ev[12]]), 31);
        let stored = u32::from_le_bytes([ev[27], ev[28], ev[29], ev[30]]);
        assert_eq!(stored, crc32fast::hash(&ev[..27]));
        ev[20] ^= 1;
        reseal(&mut ev);
        assert_eq!(
            u32::from_le_bytes([ev[27], ev[28], ev[29], ev[30]]),
            crc32fast::hash(&ev[..27])
        );
    }

    #[test]
    fn a_format_description_in_use_has_the_crc32_of_the_closed_file() {
        let mut header = Header::new(event_type::FORMAT_DESCRIPTION);
        let body = [4, 0, 1];
        let closed = event(&header, &body, Checksum::Crc32);
        header.flags = LOG_EVENT_BINLOG_IN_USE_F;
        let open = event(&header, &body, Checksum::Crc32);
        assert_eq!(open[17], 1);
        assert_eq!(open[HEADER_LEN + 3..], closed[HEADER_LEN + 3..]);
        let in_body = event(&header, &open[HEADER_LEN..], Checksum::InBody);
        assert_eq!(in_body, open);
    }
}
