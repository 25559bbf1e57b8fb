//! Builds rows event bodies (WRITE, UPDATE and DELETE; v1, v2 and MariaDB's compressed
//! forms) around row images the caller encodes.

use super::frame::packed;
use super::values::mariadb_compressed;

/// Rows event flag: the last rows event of its statement.
pub const STMT_END_F: u16 = 1;

/// The columns-present bitmaps of a rows event (one per image: two for an UPDATE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Present {
    /// Every column, as a server writes it with `binlog_row_image=FULL`: every byte 0xff,
    /// the bits past the last column set too.
    All,
    /// Every byte of each bitmap is this byte.
    Each(u8),
    /// The bitmaps' bytes as they are, the after image's after the before image's.
    Bitmaps(Vec<u8>),
}

/// A rows event to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    /// Event type: 23 to 25 (v1), 30 to 32 (v2) or MariaDB's 166 to 171 (compressed).
    pub type_code: u8,
    /// The TABLE_MAP id, written in 6 bytes.
    pub table_id: u64,
    /// Rows event flags ([`STMT_END_F`]).
    pub flags: u16,
    /// Number of columns.
    pub width: usize,
    /// The columns-present bitmaps.
    pub present: Present,
    /// A v2 event's extra data after its length (none from MySQL 8 or MariaDB).
    pub extra: Vec<u8>,
    /// The row images: for each row a null bitmap and the values (before, then after, for
    /// an UPDATE). Compressed for MariaDB's compressed types.
    pub rows: Vec<u8>,
}

impl Rows {
    /// The last rows event of a statement on `width` columns, all present, around `rows`.
    pub fn new(type_code: u8, table_id: u64, width: usize, rows: &[u8]) -> Self {
        Self {
            type_code,
            table_id,
            flags: STMT_END_F,
            width,
            present: Present::All,
            extra: Vec::new(),
            rows: rows.to_vec(),
        }
    }

    /// The same with other columns-present bitmaps.
    pub fn present(self, present: Present) -> Self {
        Self { present, ..self }
    }

    /// The same with v2 extra data.
    pub fn extra(self, extra: &[u8]) -> Self {
        Self {
            extra: extra.to_vec(),
            ..self
        }
    }

    /// Whether the type is a v2 rows event (with extra data).
    fn is_v2(&self) -> bool {
        matches!(self.type_code, 30..=32 | 169..=171)
    }

    /// Whether the type is an UPDATE (two images, two bitmaps).
    fn is_update(&self) -> bool {
        matches!(self.type_code, 24 | 31 | 167 | 170)
    }

    /// Whether the type is one of MariaDB's compressed rows events.
    fn is_compressed(&self) -> bool {
        matches!(self.type_code, 166..=171)
    }

    /// The event body.
    pub fn body(&self) -> Vec<u8> {
        let mut b = self.table_id.to_le_bytes()[..6].to_vec();
        b.extend_from_slice(&self.flags.to_le_bytes());
        if self.is_v2() {
            b.extend_from_slice(&((self.extra.len() + 2) as u16).to_le_bytes());
            b.extend_from_slice(&self.extra);
        }
        b.extend(packed(self.width as u64));
        let bitmaps = if self.is_update() { 2 } else { 1 };
        let len = self.width.div_ceil(8);
        match &self.present {
            Present::All => b.extend(std::iter::repeat_n(0xff, bitmaps * len)),
            Present::Each(byte) => b.extend(std::iter::repeat_n(*byte, bitmaps * len)),
            Present::Bitmaps(bytes) => b.extend_from_slice(bytes),
        }
        if self.is_compressed() {
            b.extend(mariadb_compressed(&self.rows, self.rows.len() as u64));
        } else {
            b.extend_from_slice(&self.rows);
        }
        b
    }
}
