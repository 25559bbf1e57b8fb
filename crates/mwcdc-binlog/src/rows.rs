//! Rows events (WRITE/UPDATE/DELETE, v1 and v2, and MariaDB's compressed forms): the row
//! images of one statement on one table.

use std::borrow::Cow;

use crate::header::event_type as et;
use crate::table_map::{bit, read_table_id, TableMap};
use crate::value::{decode_value, Value};
use crate::{DecodeError, Reader};

/// What a rows event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowsKind {
    /// WRITE_ROWS: inserted rows.
    Insert,
    /// UPDATE_ROWS: before and after images.
    Update,
    /// DELETE_ROWS: deleted rows.
    Delete,
}

/// Rows-event flag: the last rows event of its statement.
pub const STMT_END_F: u16 = 1;

/// One changed row. `before` is set for updates and deletes, `after` for inserts and updates.
#[derive(Debug, Clone, PartialEq)]
pub struct RowImage {
    /// The row before the change, one value per table column.
    pub before: Option<Vec<Value>>,
    /// The row after the change, one value per table column.
    pub after: Option<Vec<Value>>,
}

/// A parsed rows event whose row images are decoded on demand against its table map.
#[derive(Debug, Clone)]
pub struct RowsEvent<'a> {
    /// Insert, update or delete.
    pub kind: RowsKind,
    /// The TABLE_MAP id the event refers to.
    pub table_id: u64,
    /// Event flags ([`STMT_END_F`]).
    pub flags: u16,
    /// Number of columns in the table.
    pub width: usize,
    present: &'a [u8],
    present_after: Option<&'a [u8]>,
    rows: Cow<'a, [u8]>,
}

impl<'a> RowsEvent<'a> {
    /// Parses a rows event body of type `type_code`; `post_header_len` comes from the FDE.
    pub fn parse(
        type_code: u8,
        body: &'a [u8],
        post_header_len: usize,
    ) -> Result<Self, DecodeError> {
        let (kind, v2, compressed) = match type_code {
            et::WRITE_ROWS_V1 => (RowsKind::Insert, false, false),
            et::UPDATE_ROWS_V1 => (RowsKind::Update, false, false),
            et::DELETE_ROWS_V1 => (RowsKind::Delete, false, false),
            et::WRITE_ROWS => (RowsKind::Insert, true, false),
            et::UPDATE_ROWS => (RowsKind::Update, true, false),
            et::DELETE_ROWS => (RowsKind::Delete, true, false),
            et::MARIA_WRITE_ROWS_COMPRESSED_V1 => (RowsKind::Insert, false, true),
            et::MARIA_UPDATE_ROWS_COMPRESSED_V1 => (RowsKind::Update, false, true),
            et::MARIA_DELETE_ROWS_COMPRESSED_V1 => (RowsKind::Delete, false, true),
            et::MARIA_WRITE_ROWS_COMPRESSED => (RowsKind::Insert, true, true),
            et::MARIA_UPDATE_ROWS_COMPRESSED => (RowsKind::Update, true, true),
            et::MARIA_DELETE_ROWS_COMPRESSED => (RowsKind::Delete, true, true),
            other => {
                return Err(DecodeError::Invalid(format!(
                    "event type {other} is not a rows event this decoder reads"
                )))
            }
        };
        let mut r = Reader::new(body);
        let table_id = read_table_id(&mut r, post_header_len)?;
        let flags = r.u16()?;
        if v2 {
            let extra_len = usize::from(r.u16()?);
            r.skip(extra_len.checked_sub(2).ok_or_else(|| {
                DecodeError::Invalid(format!("rows event extra data length {extra_len} < 2"))
            })?)?;
        }
        let width = r.packed_len()?;
        let bitmap_len = width.div_ceil(8);
        let present = r.take(bitmap_len)?;
        let present_after = match kind {
            RowsKind::Update => Some(r.take(bitmap_len)?),
            _ => None,
        };
        let rows = if compressed {
            Cow::Owned(crate::compression::mariadb_uncompress(r.rest())?)
        } else {
            Cow::Borrowed(r.rest())
        };
        Ok(Self {
            kind,
            table_id,
            flags,
            width,
            present,
            present_after,
            rows,
        })
    }

    /// Reads only the table id of a rows event body, so that events of tables that are not
    /// captured need no further decoding.
    pub fn peek_table_id(body: &[u8], post_header_len: usize) -> Result<u64, DecodeError> {
        read_table_id(&mut Reader::new(body), post_header_len)
    }

    /// Whether every column is present in every image (`binlog_row_image=FULL`).
    pub fn is_full_image(&self) -> bool {
        let full = |bits: &[u8]| (0..self.width).all(|i| bit(bits, i));
        full(self.present) && self.present_after.is_none_or(full)
    }

    /// Decodes every row of the event. Fails on a partial row image, a width that does not
    /// match the table map, or bytes that do not decode.
    pub fn decode(&self, table: &TableMap) -> Result<Vec<RowImage>, DecodeError> {
        if self.width != table.columns.len() {
            return Err(DecodeError::Invalid(format!(
                "rows event has {} columns, TABLE_MAP of {} has {}",
                self.width,
                table.qualified_name(),
                table.columns.len()
            )));
        }
        if !self.is_full_image() {
            return Err(DecodeError::Invalid(format!(
                "partial row image for {}",
                table.qualified_name()
            )));
        }
        if table.columns.is_empty() && !self.rows.is_empty() {
            // A row of no columns takes no bytes: the bytes would never be consumed.
            return Err(DecodeError::Invalid(format!(
                "rows event for {}, a table of no columns, holds {} bytes of rows",
                table.qualified_name(),
                self.rows.len()
            )));
        }
        let mut r = Reader::new(&self.rows);
        let mut out = Vec::new();
        while r.remaining() > 0 {
            let first = decode_row(&mut r, table)?;
            out.push(match self.kind {
                RowsKind::Insert => RowImage {
                    before: None,
                    after: Some(first),
                },
                RowsKind::Delete => RowImage {
                    before: Some(first),
                    after: None,
                },
                RowsKind::Update => RowImage {
                    before: Some(first),
                    after: Some(decode_row(&mut r, table)?),
                },
            });
        }
        Ok(out)
    }
}

fn decode_row(r: &mut Reader<'_>, table: &TableMap) -> Result<Vec<Value>, DecodeError> {
    let nulls = r.take(table.columns.len().div_ceil(8))?;
    // Sized once: collecting through `Result` would grow the vector as it goes.
    let mut row = Vec::with_capacity(table.columns.len());
    for (i, column) in table.columns.iter().enumerate() {
        row.push(if bit(nulls, i) {
            Value::Null
        } else {
            decode_value(column, r)?
        });
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use mwcdc_test_support::binlog::table_map::column_names;
    use mwcdc_test_support::binlog::{table_map, Present, Rows};

    use super::*;
    use crate::charset::Collations;
    use crate::table_map::column_type as ct;

    fn table() -> TableMap {
        let body = table_map(
            9,
            "w",
            "t",
            &[(ct::LONGLONG, &[], false), (ct::VARCHAR, &[20, 0], true)],
            &[
                column_names(&["id", "title"]),
                (1, vec![0x80]),
                (2, vec![63]),
            ],
        );
        TableMap::parse(&body, 8, &Collations::default()).unwrap()
    }

    /// A rows event body of `type_code` on the two columns of [`table`], each bitmap
    /// `present`.
    fn rows_body(type_code: u8, rows: &[u8], present: u8) -> Vec<u8> {
        Rows::new(type_code, 9, 2, rows)
            .present(Present::Each(present))
            .body()
    }

    #[test]
    fn decodes_insert_and_update_rows() {
        let t = table();
        let mut rows = vec![0b00];
        rows.extend_from_slice(&u64::MAX.to_le_bytes());
        rows.extend_from_slice(&[2, 0xff, b'x']);
        rows.push(0b10); // second row: title NULL
        rows.extend_from_slice(&7u64.to_le_bytes());
        let body = rows_body(et::WRITE_ROWS_V1, &rows, 0b11);
        let ev = RowsEvent::parse(et::WRITE_ROWS_V1, &body, 8).unwrap();
        let images = ev.decode(&t).unwrap();
        assert_eq!(images.len(), 2);
        assert_eq!(
            images[0].after,
            Some(vec![Value::UInt(u64::MAX), Value::Bytes(vec![0xff, b'x'])])
        );
        assert_eq!(images[1].after, Some(vec![Value::UInt(7), Value::Null]));

        let mut upd = vec![0b10];
        upd.extend_from_slice(&7u64.to_le_bytes());
        upd.push(0b00);
        upd.extend_from_slice(&7u64.to_le_bytes());
        upd.extend_from_slice(&[1, b'y']);
        let body = rows_body(et::UPDATE_ROWS_V1, &upd, 0b11);
        let ev = RowsEvent::parse(et::UPDATE_ROWS_V1, &body, 8).unwrap();
        let images = ev.decode(&t).unwrap();
        assert_eq!(images[0].before, Some(vec![Value::UInt(7), Value::Null]));
        assert_eq!(
            images[0].after,
            Some(vec![Value::UInt(7), Value::Bytes(b"y".to_vec())])
        );
    }

    #[test]
    fn rows_of_a_table_without_columns_are_an_error_not_an_endless_loop() {
        let body = table_map(9, "w", "t", &[], &[]);
        let t = TableMap::parse(&body, 8, &Collations::default()).unwrap();
        // Width 0, no bitmap, one byte of rows.
        let body = Rows::new(et::WRITE_ROWS_V1, 9, 0, &[0x2a]).body();
        let ev = RowsEvent::parse(et::WRITE_ROWS_V1, &body, 8).unwrap();
        assert!(matches!(ev.decode(&t), Err(DecodeError::Invalid(_))));
        let ev = RowsEvent::parse(et::WRITE_ROWS_V1, &body[..body.len() - 1], 8).unwrap();
        assert!(ev.decode(&t).unwrap().is_empty());
    }

    #[test]
    fn partial_image_and_truncation_are_errors() {
        let t = table();
        let body = rows_body(et::DELETE_ROWS_V1, &[0, 1, 0, 0, 0, 0, 0, 0, 0], 0b01);
        let ev = RowsEvent::parse(et::DELETE_ROWS_V1, &body, 8).unwrap();
        assert!(!ev.is_full_image());
        assert!(ev.decode(&t).is_err());
        let mut rows = vec![0b00];
        rows.extend_from_slice(&7u64.to_le_bytes());
        rows.extend_from_slice(&[5, b'a']);
        let body = rows_body(et::WRITE_ROWS_V1, &rows, 0b11);
        let ev = RowsEvent::parse(et::WRITE_ROWS_V1, &body, 8).unwrap();
        assert!(matches!(ev.decode(&t), Err(DecodeError::Truncated { .. })));
    }
}
