//! A MariaDB 10.11 binlog dump as a replica receives it: checksummed events at their file
//! positions, with the artificial events the server sends at the start of a dump.

use super::events::{self, Xid, FL_COMPLETED_XA, FL_GROUP_COMMIT_ID, FL_PREPARED_XA};
use super::frame::{self, event_type as et, Checksum, Header};
use super::frame::{LOG_EVENT_ARTIFICIAL_F, LOG_EVENT_SUPPRESS_USE_F, TIMESTAMP};
use super::rows::Rows;

/// The commit id of the GTID events [`Stream::gtid`] flags with `FL_GROUP_COMMIT_ID`.
pub const COMMIT_ID: u64 = 77;
/// The thread id of the QUERY events of a [`Stream`].
pub const THREAD_ID: u32 = 16;
/// The Q_XID of the DDL QUERY events of a [`Stream`].
pub const DDL_XID: u64 = 56;

/// A binlog file of a MariaDB 10.11 server with `binlog_checksum=CRC32`, being dumped: every
/// event gets a CRC32 and, unless artificial, the position after it as its log_pos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// The file's name.
    pub file: String,
    /// The server id in the headers (and so in the GTIDs).
    pub server_id: u32,
    /// Where the next event starts.
    pub pos: u32,
    /// Timestamp of the next events.
    pub ts: u32,
}

impl Stream {
    /// A dump of `file` from server 1 starting at `pos` (4: the start of the file), at
    /// [`TIMESTAMP`].
    pub fn new(file: &str, pos: u32) -> Self {
        Self {
            file: file.to_string(),
            server_id: 1,
            pos,
            ts: TIMESTAMP,
        }
    }

    /// A header of this stream.
    fn header(&self, type_code: u8, log_pos: u32, flags: u16) -> Header {
        Header {
            timestamp: self.ts,
            type_code,
            server_id: self.server_id,
            log_pos,
            flags,
        }
    }

    /// An event at the current position, with `flags`; advances the position past it.
    pub fn event(&mut self, type_code: u8, flags: u16, body: &[u8]) -> Vec<u8> {
        self.pos += frame::event_size(body.len(), Checksum::Crc32);
        frame::event(
            &self.header(type_code, self.pos, flags),
            body,
            Checksum::Crc32,
        )
    }

    /// An event sent but not written at this position, with `log_pos`: the position stays.
    pub fn artificial(&self, type_code: u8, log_pos: u32, flags: u16, body: &[u8]) -> Vec<u8> {
        frame::event(
            &self.header(type_code, log_pos, flags),
            body,
            Checksum::Crc32,
        )
    }

    /// What the server sends before the file's events: the artificial ROTATE, the
    /// FORMAT_DESCRIPTION, the GTID_LIST (artificial, at the position, when resuming inside
    /// the file) and, at the start of the file, a BINLOG_CHECKPOINT.
    pub fn preamble(&mut self, gtid_list: &[(u32, u32, u64)]) -> Vec<Vec<u8>> {
        let resumed = self.pos > 4;
        let mut out = vec![self.rotate(), self.fde()];
        if resumed {
            let body = events::maria_gtid_list(gtid_list);
            out.push(self.artificial(et::MARIA_GTID_LIST, self.pos, LOG_EVENT_ARTIFICIAL_F, &body));
        } else {
            out.push(self.gtid_list(gtid_list));
            let body = events::maria_binlog_checkpoint(&self.file);
            out.push(self.event(et::MARIA_BINLOG_CHECKPOINT, 0, &body));
        }
        out
    }

    /// The artificial ROTATE a dump starts with (log_pos 0), to position 4 of the file.
    pub fn rotate(&self) -> Vec<u8> {
        let body = events::rotate(4, &self.file);
        self.artificial(et::ROTATE, 0, LOG_EVENT_ARTIFICIAL_F, &body)
    }

    /// The FORMAT_DESCRIPTION of [`events::MARIADB_10_11`] with CRC32 (created 0: not the
    /// first file since the server started). Sent with log_pos 0, the position staying, when
    /// the dump resumes inside the file, as the server does.
    pub fn fde(&mut self) -> Vec<u8> {
        let body = events::format_description(
            events::MARIADB_10_11,
            0,
            &events::mariadb_post_header_lens(),
            events::CHECKSUM_ALG_CRC32,
        );
        if self.pos == 4 {
            self.event(et::FORMAT_DESCRIPTION, 0, &body)
        } else {
            self.artificial(et::FORMAT_DESCRIPTION, 0, 0, &body)
        }
    }

    /// A GTID_LIST of `(domain, server, seq)` GTIDs.
    pub fn gtid_list(&mut self, gtids: &[(u32, u32, u64)]) -> Vec<u8> {
        self.event(et::MARIA_GTID_LIST, 0, &events::maria_gtid_list(gtids))
    }

    /// A GTID event `domain-<server id>-seq` with `flags` (flags2: [`events::TRX`],
    /// [`events::DDL`], ...; with `FL_GROUP_COMMIT_ID` the commit id is [`COMMIT_ID`]) and
    /// the header flag MariaDB sets on GTID events; `xa_gtrid` with the XA flags: the XID of
    /// format id 1 and no branch qualifier.
    ///
    /// # Panics
    /// When XA flags and `xa_gtrid` do not go together.
    pub fn gtid(&mut self, domain: u32, seq: u64, flags: u8, xa_gtrid: Option<&[u8]>) -> Vec<u8> {
        assert_eq!(
            flags & (FL_PREPARED_XA | FL_COMPLETED_XA) != 0,
            xa_gtrid.is_some(),
            "XA flags and XID go together"
        );
        let xid = xa_gtrid.map(|gtrid| Xid {
            format_id: 1,
            gtrid,
            bqual: &[],
        });
        let commit_id = if flags & FL_GROUP_COMMIT_ID != 0 {
            COMMIT_ID
        } else {
            0
        };
        let body = events::maria_gtid(seq, domain, flags, commit_id, xid.as_ref());
        self.event(et::MARIA_GTID, LOG_EVENT_SUPPRESS_USE_F, &body)
    }

    /// A QUERY event in session database `db`, from thread [`THREAD_ID`].
    pub fn query(&mut self, db: &str, sql: &str) -> Vec<u8> {
        let status = events::mariadb_query_status(None);
        let body = events::query(THREAD_ID, db, &status, sql.as_bytes());
        self.event(et::QUERY, 0, &body)
    }

    /// A DDL QUERY event: with its Q_XID status variable ([`DDL_XID`]).
    pub fn ddl(&mut self, db: &str, sql: &str) -> Vec<u8> {
        let status = events::mariadb_query_status(Some(DDL_XID));
        let body = events::query(THREAD_ID, db, &status, sql.as_bytes());
        self.event(et::QUERY, 0, &body)
    }

    /// A TABLE_MAP event of a [`super::table_map::table_map`] body.
    pub fn table_map(&mut self, body: &[u8]) -> Vec<u8> {
        self.event(et::TABLE_MAP, 0, body)
    }

    /// A rows event.
    pub fn rows(&mut self, rows: &Rows) -> Vec<u8> {
        self.event(rows.type_code, 0, &rows.body())
    }

    /// An XID event: the commit of a transaction.
    pub fn xid(&mut self, xid: u64) -> Vec<u8> {
        self.event(et::XID, 0, &events::xid(xid))
    }

    /// XA_PREPARE (two-phase) of format id 1 and no branch qualifier.
    pub fn xa_prepare(&mut self, gtrid: &[u8]) -> Vec<u8> {
        let xid = Xid {
            format_id: 1,
            gtrid,
            bqual: &[],
        };
        self.event(et::XA_PREPARE, 0, &events::xa_prepare(false, &xid))
    }
}
