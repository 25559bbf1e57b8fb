//! Decoding of the non-row events the pipeline acts on.

use mwcdc_position::{GtidSet, MariaGtid, MariaPosition, MySqlGtid, Uuid};

use crate::header::{event_type, CHECKSUM_LEN};
use crate::{DecodeError, Reader};

/// Checksum algorithm announced by a FORMAT_DESCRIPTION event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlg {
    /// Events carry no checksum.
    Off,
    /// Events end in a CRC32.
    Crc32,
}

/// A FORMAT_DESCRIPTION event: the binlog version, the server version, the post-header
/// length of each event type and the checksum algorithm of the events that follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatDescription {
    /// Server version string, e.g. `10.11.6-MariaDB-0+deb12u1-log`.
    pub server_version: String,
    /// Post-header length of event type `t` at index `t - 1`.
    pub post_header_lens: Vec<u8>,
    /// The checksum algorithm of the following events.
    pub checksum: ChecksumAlg,
}

impl FormatDescription {
    /// Parses a FORMAT_DESCRIPTION body (everything after the common header, including the
    /// trailing algorithm byte and checksum that every FDE carries in checksum-aware servers).
    pub fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let _binlog_version = r.u16()?;
        let server_version = r.take(50)?;
        let server_version =
            String::from_utf8_lossy(server_version.split(|&b| b == 0).next().unwrap_or_default())
                .into_owned();
        let _created = r.u32()?;
        let _header_len = r.u8()?;
        let rest = r.rest();
        // Checksum-aware servers (MySQL 5.6.1+, MariaDB 5.3+) append 1 algorithm byte and
        // 4 checksum bytes after the post-header length table. Older servers do not, and the
        // last bytes of their table must not be taken for an algorithm and a checksum.
        let version = split_version(&server_version);
        let checksum_aware =
            version >= (5, 6, 1) || (server_version.contains("MariaDB") && version >= (5, 3, 0));
        let (lens, checksum) = if checksum_aware && rest.len() > 1 + CHECKSUM_LEN {
            let split = rest.len() - 1 - CHECKSUM_LEN;
            let checksum = match rest[split] {
                0 => ChecksumAlg::Off,
                1 => ChecksumAlg::Crc32,
                other => {
                    return Err(DecodeError::Invalid(format!(
                        "unknown binlog checksum algorithm {other}"
                    )))
                }
            };
            (&rest[..split], checksum)
        } else {
            (rest, ChecksumAlg::Off)
        };
        Ok(Self {
            server_version,
            post_header_lens: lens.to_vec(),
            checksum,
        })
    }

    /// Post-header length of an event type, if the FDE lists it.
    pub fn post_header_len(&self, type_code: u8) -> Option<usize> {
        let idx = usize::from(type_code).checked_sub(1)?;
        self.post_header_lens.get(idx).map(|&n| usize::from(n))
    }

    /// Whether the server that wrote this binlog is MariaDB.
    pub fn is_mariadb(&self) -> bool {
        self.server_version.contains("MariaDB")
    }

    /// Whether the events that follow end in a CRC32.
    pub fn checksummed(&self) -> bool {
        self.checksum == ChecksumAlg::Crc32
    }
}

/// The leading `major.minor.patch` numbers of a server version string (0 where absent).
fn split_version(version: &str) -> (u32, u32, u32) {
    let mut parts = version.split('.').map(|p| {
        p.bytes()
            .take_while(u8::is_ascii_digit)
            .fold(0u32, |acc, d| {
                acc.saturating_mul(10).saturating_add(u32::from(d - b'0'))
            })
    });
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// A ROTATE event: the binlog file the following events come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotate {
    /// Position of the first event in the next file.
    pub position: u64,
    /// The next file's name.
    pub file: String,
}

impl Rotate {
    /// Parses a ROTATE body.
    pub fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let position = r.u64()?;
        Ok(Self {
            position,
            file: String::from_utf8_lossy(r.rest()).into_owned(),
        })
    }
}

/// A QUERY event (BEGIN, COMMIT, DDL, XA statements, or DML logged as a statement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The default database of the session that ran the statement.
    pub db: String,
    /// The statement text. Bytes that are not UTF-8 are replaced: it is only ever inspected
    /// and logged, never published.
    pub sql: String,
    /// The error code the statement ended with on the primary.
    pub error_code: u16,
}

impl Query {
    /// Parses a QUERY body; `post_header_len` comes from the FDE (13 in v4 binlogs).
    pub fn parse(body: &[u8], post_header_len: usize) -> Result<Self, DecodeError> {
        let (db, rest, error_code) = Self::split(body, post_header_len)?;
        Ok(Self {
            db,
            sql: String::from_utf8_lossy(rest).into_owned(),
            error_code,
        })
    }

    /// Parses a MariaDB QUERY_COMPRESSED body: the statement is zlib-compressed.
    pub fn parse_compressed(body: &[u8], post_header_len: usize) -> Result<Self, DecodeError> {
        let (db, rest, error_code) = Self::split(body, post_header_len)?;
        let sql = crate::compression::mariadb_uncompress(rest)?;
        Ok(Self {
            db,
            sql: String::from_utf8_lossy(&sql).into_owned(),
            error_code,
        })
    }

    fn split(body: &[u8], post_header_len: usize) -> Result<(String, &[u8], u16), DecodeError> {
        let mut r = Reader::new(body);
        let _thread_id = r.u32()?;
        let _exec_time = r.u32()?;
        let db_len = usize::from(r.u8()?);
        let error_code = r.u16()?;
        let status_len = usize::from(r.u16()?);
        r.skip(post_header_len.saturating_sub(13))?;
        r.skip(status_len)?;
        let db = String::from_utf8_lossy(r.take(db_len)?).into_owned();
        r.skip(1)?; // NUL after the database name
        Ok((db, r.rest(), error_code))
    }
}

/// An XA transaction identifier (formatID, gtrid, bqual).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Xid {
    /// The format id.
    pub format_id: u32,
    /// The global transaction id bytes.
    pub gtrid: Vec<u8>,
    /// The branch qualifier bytes.
    pub bqual: Vec<u8>,
}

impl std::fmt::Display for Xid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "X'{}',X'{}',{}",
            hex(&self.gtrid),
            hex(&self.bqual),
            self.format_id
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An XA_PREPARE event: the end of an `XA PREPARE`d (or one-phase committed) transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XaPrepare {
    /// `XA COMMIT ... ONE PHASE`: the transaction is committed by this event.
    pub one_phase: bool,
    /// The transaction's XID.
    pub xid: Xid,
}

impl XaPrepare {
    /// Parses an XA_PREPARE body.
    pub fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let one_phase = r.u8()? != 0;
        let format_id = r.u32()?;
        let gtrid_len = r.u32()? as usize;
        let bqual_len = r.u32()? as usize;
        Ok(Self {
            one_phase,
            xid: Xid {
                format_id,
                gtrid: r.take(gtrid_len)?.to_vec(),
                bqual: r.take(bqual_len)?.to_vec(),
            },
        })
    }
}

/// MariaDB GTID event flag: the group has no BEGIN/COMMIT (DDL or non-transactional).
pub const MARIA_FL_STANDALONE: u8 = 1;
const MARIA_FL_GROUP_COMMIT_ID: u8 = 2;
/// MariaDB GTID event flag: the group is the prepare part of an XA transaction.
pub const MARIA_FL_PREPARED_XA: u8 = 64;
/// MariaDB GTID event flag: the group is `XA COMMIT` or `XA ROLLBACK` of a prepared one.
pub const MARIA_FL_COMPLETED_XA: u8 = 128;

/// A MariaDB GTID event: the start of an event group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MariaGtidEvent {
    /// The group's GTID (server id from the event header).
    pub gtid: MariaGtid,
    /// The GTID flags (`MARIA_FL_*`).
    pub flags: u8,
    /// The XID, for XA groups.
    pub xid: Option<Xid>,
}

impl MariaGtidEvent {
    /// Parses a GTID (162) body; `server_id` comes from the event header.
    pub fn parse(body: &[u8], server_id: u32) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let seq = r.u64()?;
        let domain = r.u32()?;
        let flags = r.u8()?;
        if flags & MARIA_FL_GROUP_COMMIT_ID != 0 {
            r.skip(8)?;
        }
        let xid = if flags & (MARIA_FL_PREPARED_XA | MARIA_FL_COMPLETED_XA) != 0 {
            let format_id = r.u32()?;
            let gtrid_len = usize::from(r.u8()?);
            let bqual_len = usize::from(r.u8()?);
            Some(Xid {
                format_id,
                gtrid: r.take(gtrid_len)?.to_vec(),
                bqual: r.take(bqual_len)?.to_vec(),
            })
        } else {
            None
        };
        Ok(Self {
            gtid: MariaGtid {
                domain,
                server: server_id,
                seq,
            },
            flags,
            xid,
        })
    }

    /// Whether the group is a single statement without BEGIN/COMMIT.
    pub fn standalone(&self) -> bool {
        self.flags & MARIA_FL_STANDALONE != 0
    }
}

/// Parses a MariaDB GTID_LIST (163) body into a position.
pub fn parse_maria_gtid_list(body: &[u8]) -> Result<MariaPosition, DecodeError> {
    let mut r = Reader::new(body);
    let count = r.u32()? & 0x0fff_ffff;
    let mut position = MariaPosition::new();
    for _ in 0..count {
        let gtid = MariaGtid {
            domain: r.u32()?,
            server: r.u32()?,
            seq: r.u64()?,
        };
        // A list holds one GTID per domain; keep the highest if a server repeats one.
        if position.get(gtid.domain).is_none_or(|g| g.seq < gtid.seq) {
            position
                .advance(gtid)
                .map_err(|e| DecodeError::Invalid(e.to_string()))?;
        }
    }
    Ok(position)
}

/// Parses a MySQL GTID (33) body. Returns `None` for an anonymous transaction.
pub fn parse_mysql_gtid(body: &[u8]) -> Result<MySqlGtid, DecodeError> {
    let mut r = Reader::new(body);
    let _flags = r.u8()?;
    let sid = Uuid::from_bytes(r.array()?);
    let gno = r.u64()?;
    Ok(MySqlGtid {
        sid,
        tag: None,
        gno,
    })
}

/// Parses a MySQL PREVIOUS_GTIDS (35) body into a GTID set.
pub fn parse_previous_gtids(body: &[u8]) -> Result<GtidSet, DecodeError> {
    let mut r = Reader::new(body);
    let header = r.u64()?;
    // MySQL 8.3+ writes a format byte in the top byte when the set holds tagged GTIDs; the
    // count then sits in bits 8..56 and every UUID is followed by its tag.
    let tagged = match header >> 56 {
        0 => false,
        1 => true,
        other => {
            return Err(DecodeError::Invalid(format!(
                "unknown PREVIOUS_GTIDS format {other}"
            )))
        }
    };
    let n_sids = if tagged {
        (header >> 8) & ((1 << 48) - 1)
    } else {
        header
    };
    let mut text = String::new();
    for i in 0..n_sids {
        let sid = Uuid::from_bytes(r.array()?);
        if i > 0 {
            text.push(',');
        }
        text.push_str(&sid.to_string());
        if tagged {
            let tag_len = usize::try_from(varlen_uint(&mut r)?)
                .map_err(|_| DecodeError::Invalid("GTID tag length out of range".into()))?;
            if tag_len > 0 {
                let tag = std::str::from_utf8(r.take(tag_len)?)
                    .map_err(|_| DecodeError::Invalid("GTID tag is not UTF-8".into()))?;
                text.push(':');
                text.push_str(tag);
            }
        }
        let n_intervals = r.u64()?;
        for _ in 0..n_intervals {
            let start = r.u64()?;
            let end = r.u64()?;
            if end <= start {
                return Err(DecodeError::Invalid(format!(
                    "PREVIOUS_GTIDS interval {start}-{end} is empty"
                )));
            }
            text.push_str(&format!(":{start}-{}", end - 1));
        }
    }
    text.parse()
        .map_err(|e: mwcdc_position::PositionError| DecodeError::Invalid(e.to_string()))
}

/// MySQL's serialization-library variable-length integer: the number of trailing one bits
/// of the first byte gives the number of bytes that follow (0xff: eight raw bytes).
fn varlen_uint(r: &mut Reader<'_>) -> Result<u64, DecodeError> {
    let first = *r.rest().first().ok_or(DecodeError::Truncated {
        needed: 1,
        available: 0,
    })?;
    let ones = first.trailing_ones() as usize;
    if ones == 8 {
        r.skip(1)?;
        return r.u64();
    }
    let n = ones + 1;
    Ok(r.uint_le(n)? >> n)
}

/// Whether a type code is one of the rows events (any version, compressed or not).
pub fn is_rows_event(type_code: u8) -> bool {
    matches!(
        type_code,
        event_type::WRITE_ROWS_V1..=event_type::DELETE_ROWS_V1
            | event_type::WRITE_ROWS..=event_type::DELETE_ROWS
            | event_type::PARTIAL_UPDATE_ROWS
            | event_type::MARIA_WRITE_ROWS_COMPRESSED_V1..=event_type::MARIA_DELETE_ROWS_COMPRESSED
    )
}

#[cfg(test)]
mod tests {
    use mwcdc_test_support::binlog::events::{maria_gtid, maria_gtid_list, query, Xid};

    use super::*;

    #[test]
    fn parses_maria_gtid_with_xid() {
        let xid = Xid {
            format_id: 1,
            gtrid: b"x1",
            bqual: b"b",
        };
        let flags = MARIA_FL_PREPARED_XA | MARIA_FL_GROUP_COMMIT_ID;
        let body = maria_gtid(42, 3, flags, 9, Some(&xid));
        let ev = MariaGtidEvent::parse(&body, 11).unwrap();
        assert_eq!(ev.gtid.to_string(), "3-11-42");
        let xid = ev.xid.unwrap();
        assert_eq!(xid.gtrid, b"x1");
        assert_eq!(xid.bqual, b"b");
        assert_eq!(xid.to_string(), "X'7831',X'62',1");
        assert!(MariaGtidEvent::parse(&body[..12], 11).is_err());
    }

    #[test]
    fn parses_gtid_list() {
        let body = maria_gtid_list(&[(0, 1, 10), (1, 2, 5)]);
        assert_eq!(
            parse_maria_gtid_list(&body).unwrap().to_string(),
            "0-1-10,1-2-5"
        );
        assert!(parse_maria_gtid_list(&body[..20]).is_err());
    }

    #[test]
    fn parses_query_event() {
        // Thread 1, database "wiki", two bytes of status variables.
        let body = query(1, "wiki", &[0xaa, 0xbb], b"BEGIN");
        let q = Query::parse(&body, 13).unwrap();
        assert_eq!(q.db, "wiki");
        assert_eq!(q.sql, "BEGIN");
        assert!(Query::parse(&body[..12], 13).is_err());
    }
}
