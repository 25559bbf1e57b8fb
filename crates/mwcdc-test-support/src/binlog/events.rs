//! Builds the bodies of the events that are not rows events or TABLE_MAPs:
//! FORMAT_DESCRIPTION, ROTATE, QUERY, XID, XA_PREPARE, MariaDB's GTID, GTID_LIST and
//! BINLOG_CHECKPOINT, MySQL's TRANSACTION_PAYLOAD.

use super::frame::{event_type as et, packed, packed_bytes, HEADER_LEN};

/// The server version MariaDB 10.11's FORMAT_DESCRIPTION names.
pub const MARIADB_10_11: &str = "10.11.6-MariaDB-log";

/// `binlog_checksum` algorithm byte of a FORMAT_DESCRIPTION: CRC32.
pub const CHECKSUM_ALG_CRC32: u8 = 1;

/// The post-header lengths MariaDB 10.11 announces for event types 1 to 171 (at index
/// `type - 1`), as MariaDB 10.5's recorded `mariadb-bin.000001` holds them: 0 for the types
/// it never writes (among them the pre-GA rows events 20 to 22 and MySQL's 33 to 42).
pub fn mariadb_post_header_lens() -> Vec<u8> {
    let mut t = vec![0u8; 171];
    let mut set = |types: &[u8], len: u8| {
        for &ty in types {
            t[usize::from(ty) - 1] = len;
        }
    };
    set(&[1], 56); // START_V3
    set(&[et::QUERY, 165], 13); // and QUERY_COMPRESSED
    set(&[et::ROTATE], 8);
    set(&[6, 12], 18); // LOAD, NEW_LOAD
    set(&[8, 9, 10, 11, 17], 4); // file blocks, BEGIN_LOAD_QUERY
    set(&[18], 26); // EXECUTE_LOAD_QUERY
    set(&[et::FORMAT_DESCRIPTION], 57 + 171);
    set(&[et::TABLE_MAP], 8);
    set(&[23, 24, 25], 8); // rows events v1
    set(&[26], 2); // INCIDENT
    set(&[30, 31, 32], 10); // rows events v2
    set(&[et::MARIA_BINLOG_CHECKPOINT], 4);
    set(&[et::MARIA_GTID], 19);
    set(&[et::MARIA_GTID_LIST], 4);
    set(&[166, 167, 168], 8); // compressed rows events v1
    set(&[169, 170, 171], 10); // compressed rows events v2
    t
}

/// A FORMAT_DESCRIPTION body (binlog version 4) up to and with its checksum algorithm byte.
/// Frame it with [`super::frame::Checksum::Crc32`]: the event carries a CRC32 whatever
/// `checksum_alg` says.
pub fn format_description(
    server_version: &str,
    created: u32,
    post_header_lens: &[u8],
    checksum_alg: u8,
) -> Vec<u8> {
    let mut body = 4u16.to_le_bytes().to_vec();
    let mut version = server_version.as_bytes().to_vec();
    version.resize(50, 0);
    body.extend_from_slice(&version);
    body.extend_from_slice(&created.to_le_bytes());
    body.push(HEADER_LEN as u8);
    body.extend_from_slice(post_header_lens);
    body.push(checksum_alg);
    body
}

/// A ROTATE body: the next file and the position of its first event.
pub fn rotate(position: u64, file: &str) -> Vec<u8> {
    let mut body = position.to_le_bytes().to_vec();
    body.extend_from_slice(file.as_bytes());
    body
}

/// The status variables MariaDB 10.11 writes in a QUERY event: Q_FLAGS2, Q_SQL_MODE,
/// Q_CATALOG_NZ "std", Q_CHARSET (client and connection utf8mb3_general_ci, server
/// latin1_swedish_ci), and Q_XID when `xid` is given (a DDL statement's).
pub fn mariadb_query_status(xid: Option<u64>) -> Vec<u8> {
    let mut status = vec![0, 0, 0, 0, 0];
    status.extend_from_slice(&[1, 0, 0, 0x20, 0x54, 0, 0, 0, 0]);
    status.extend_from_slice(&[6, 3, b's', b't', b'd']);
    status.extend_from_slice(&[4, 0x21, 0, 0x21, 0, 8, 0]);
    if let Some(xid) = xid {
        status.push(0x81);
        status.extend_from_slice(&xid.to_le_bytes());
    }
    status
}

/// A QUERY body: thread id, no execution time, session database `db`, no error, the
/// status variables, then the statement (its bytes as they are: a MariaDB
/// QUERY_COMPRESSED's statement is [`super::values::mariadb_compressed`]).
pub fn query(thread_id: u32, db: &str, status: &[u8], statement: &[u8]) -> Vec<u8> {
    let mut b = thread_id.to_le_bytes().to_vec();
    b.extend_from_slice(&0u32.to_le_bytes()); // execution time
    b.push(db.len() as u8);
    b.extend_from_slice(&0u16.to_le_bytes()); // error code
    b.extend_from_slice(&(status.len() as u16).to_le_bytes());
    b.extend_from_slice(status);
    b.extend_from_slice(db.as_bytes());
    b.push(0);
    b.extend_from_slice(statement);
    b
}

/// An XID body: the storage engine's transaction id.
pub fn xid(xid: u64) -> Vec<u8> {
    xid.to_le_bytes().to_vec()
}

/// An X/Open XA transaction id: format id, global transaction id and branch qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xid<'a> {
    /// The format id (1 unless the application gives one).
    pub format_id: u32,
    /// The global transaction id.
    pub gtrid: &'a [u8],
    /// The branch qualifier.
    pub bqual: &'a [u8],
}

/// An XA_PREPARE body (`XA PREPARE`, or `XA COMMIT ... ONE PHASE` when `one_phase`).
pub fn xa_prepare(one_phase: bool, xid: &Xid<'_>) -> Vec<u8> {
    let mut b = vec![u8::from(one_phase)];
    b.extend_from_slice(&xid.format_id.to_le_bytes());
    b.extend_from_slice(&(xid.gtrid.len() as u32).to_le_bytes());
    b.extend_from_slice(&(xid.bqual.len() as u32).to_le_bytes());
    b.extend_from_slice(xid.gtrid);
    b.extend_from_slice(xid.bqual);
    b
}

/// MariaDB GTID flags2: the group has no BEGIN/COMMIT (DDL, non-transactional).
pub const FL_STANDALONE: u8 = 1;
/// MariaDB GTID flags2: a commit id follows.
pub const FL_GROUP_COMMIT_ID: u8 = 2;
/// MariaDB GTID flags2: the group only changes transactional tables.
pub const FL_TRANSACTIONAL: u8 = 4;
/// MariaDB GTID flags2: the group may be applied in parallel.
pub const FL_ALLOW_PARALLEL: u8 = 8;
/// MariaDB GTID flags2: the group is DDL.
pub const FL_DDL: u8 = 32;
/// MariaDB GTID flags2: the group is the prepare part of an XA transaction.
pub const FL_PREPARED_XA: u8 = 64;
/// MariaDB GTID flags2: the group is `XA COMMIT` or `XA ROLLBACK` of a prepared one.
pub const FL_COMPLETED_XA: u8 = 128;

/// MariaDB GTID flags2 of an InnoDB transaction (0x0c).
pub const TRX: u8 = FL_TRANSACTIONAL | FL_ALLOW_PARALLEL;
/// MariaDB GTID flags2 of DDL (0x29).
pub const DDL: u8 = FL_STANDALONE | FL_ALLOW_PARALLEL | FL_DDL;
/// MariaDB GTID flags2 of the prepare part of an XA transaction (0x4c).
pub const XA_PREPARED: u8 = FL_TRANSACTIONAL | FL_ALLOW_PARALLEL | FL_PREPARED_XA;
/// MariaDB GTID flags2 of `XA COMMIT` / `XA ROLLBACK` of a prepared transaction (0x8d).
pub const XA_COMPLETED: u8 = FL_STANDALONE | FL_TRANSACTIONAL | FL_ALLOW_PARALLEL | FL_COMPLETED_XA;

/// A MariaDB GTID body: `seq`, `domain`, `flags` (`FL_*`), then `commit_id` when the flags
/// have [`FL_GROUP_COMMIT_ID`] and `xid` when they have an XA flag; zeros up to the
/// 19-byte post-header when shorter, as the server pads it.
pub fn maria_gtid(
    seq: u64,
    domain: u32,
    flags: u8,
    commit_id: u64,
    xid: Option<&Xid<'_>>,
) -> Vec<u8> {
    let mut b = seq.to_le_bytes().to_vec();
    b.extend_from_slice(&domain.to_le_bytes());
    b.push(flags);
    if flags & FL_GROUP_COMMIT_ID != 0 {
        b.extend_from_slice(&commit_id.to_le_bytes());
    }
    if let Some(xid) = xid {
        b.extend_from_slice(&xid.format_id.to_le_bytes());
        b.push(xid.gtrid.len() as u8);
        b.push(xid.bqual.len() as u8);
        b.extend_from_slice(xid.gtrid);
        b.extend_from_slice(xid.bqual);
    }
    if b.len() < 19 {
        b.resize(19, 0);
    }
    b
}

/// A MariaDB GTID_LIST body of `(domain, server, seq)` GTIDs.
pub fn maria_gtid_list(gtids: &[(u32, u32, u64)]) -> Vec<u8> {
    let mut b = (gtids.len() as u32).to_le_bytes().to_vec();
    for &(domain, server, seq) in gtids {
        b.extend_from_slice(&domain.to_le_bytes());
        b.extend_from_slice(&server.to_le_bytes());
        b.extend_from_slice(&seq.to_le_bytes());
    }
    b
}

/// A MariaDB BINLOG_CHECKPOINT body naming `file`.
pub fn maria_binlog_checkpoint(file: &str) -> Vec<u8> {
    let mut b = (file.len() as u32).to_le_bytes().to_vec();
    b.extend_from_slice(file.as_bytes());
    b
}

/// TRANSACTION_PAYLOAD compression type: zstd.
pub const PAYLOAD_ZSTD: u64 = 0;
/// TRANSACTION_PAYLOAD compression type: none.
pub const PAYLOAD_NONE: u64 = 255;

/// A MySQL TRANSACTION_PAYLOAD body: the compression type (field 2) and the uncompressed
/// size (field 3), then `fields` as `(field type, value)` as they are (MySQL 8 writes the
/// payload size here, field 1), the end mark and the payload (the events, compressed as
/// `compression` says, without checksums).
pub fn transaction_payload(
    compression: u64,
    uncompressed_size: u64,
    fields: &[(u64, Vec<u8>)],
    payload: &[u8],
) -> Vec<u8> {
    let mut body = vec![2];
    body.extend(packed_bytes(&packed(compression)));
    body.push(3);
    body.extend(packed_bytes(&packed(uncompressed_size)));
    for (field, value) in fields {
        body.extend(packed(*field));
        body.extend(packed_bytes(value));
    }
    body.push(0);
    body.extend_from_slice(payload);
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_post_header_lengths_are_those_a_recorded_mariadb_announces() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../mwcdc-binlog/tests/fixtures/binlogs/mariadb-bin.000001"
        );
        let file = std::fs::read(path).expect("the recorded MariaDB binlog");
        // The magic, the FDE's header, binlog version, server version, created, header length.
        let table = &file[4 + HEADER_LEN + 57..][..171];
        assert_eq!(table, mariadb_post_header_lens());
        let body = format_description(MARIADB_10_11, 0, &mariadb_post_header_lens(), 1);
        assert_eq!(body[57..57 + 171], *table);
        assert_eq!(body.len(), 57 + 171 + 1);
    }

    #[test]
    fn a_maria_gtid_is_padded_to_its_post_header() {
        assert_eq!(maria_gtid(1, 0, TRX, 0, None).len(), 19);
        assert_eq!(
            maria_gtid(1, 0, TRX | FL_GROUP_COMMIT_ID, 5, None).len(),
            21
        );
        let xid = Xid {
            format_id: 1,
            gtrid: b"x1",
            bqual: b"",
        };
        let xa = maria_gtid(1, 0, XA_PREPARED, 0, Some(&xid));
        assert_eq!(xa.len(), 13 + 6 + 2);
    }
}
