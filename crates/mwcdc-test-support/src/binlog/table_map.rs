//! Builds TABLE_MAP bodies: the columns' types, metadata and nullability, and the optional
//! metadata fields (`binlog_row_metadata`).

use super::frame::{packed, packed_bytes};

/// Optional metadata field: signedness of the numeric columns, most significant bit first.
pub const SIGNEDNESS: u8 = 1;
/// Optional metadata field: the default collation of the character columns and exceptions.
pub const DEFAULT_CHARSET: u8 = 2;
/// Optional metadata field: the collation of each character column.
pub const COLUMN_CHARSET: u8 = 3;
/// Optional metadata field: the column names (`binlog_row_metadata=FULL`).
pub const COLUMN_NAME: u8 = 4;
/// Optional metadata field: the members of each SET column.
pub const SET_STR_VALUE: u8 = 5;
/// Optional metadata field: the members of each ENUM column.
pub const ENUM_STR_VALUE: u8 = 6;
/// Optional metadata field: the primary key's column indexes.
pub const SIMPLE_PRIMARY_KEY: u8 = 8;
/// Optional metadata field: the primary key's column indexes with their prefix lengths.
pub const PRIMARY_KEY_WITH_PREFIX: u8 = 9;
/// Optional metadata field: the default collation of the ENUM and SET columns and exceptions.
pub const ENUM_AND_SET_DEFAULT_CHARSET: u8 = 10;
/// Optional metadata field: the collation of each ENUM and SET column.
pub const ENUM_AND_SET_COLUMN_CHARSET: u8 = 11;

/// A TABLE_MAP body with a 6-byte table id and the flags servers write (1,
/// `TM_BIT_LEN_EXACT_F`): `columns` as `(type code, metadata bytes, nullable)`, and the
/// optional metadata fields as `(field type, value)`. Counts and lengths are length-encoded
/// integers, as servers write them.
pub fn table_map(
    table_id: u64,
    db: &str,
    table: &str,
    columns: &[(u8, &[u8], bool)],
    optional: &[(u8, Vec<u8>)],
) -> Vec<u8> {
    let mut b = table_id.to_le_bytes()[..6].to_vec();
    b.extend_from_slice(&1u16.to_le_bytes());
    for name in [db, table] {
        b.push(name.len() as u8);
        b.extend_from_slice(name.as_bytes());
        b.push(0);
    }
    b.extend(packed(columns.len() as u64));
    b.extend(columns.iter().map(|c| c.0));
    let meta: Vec<u8> = columns.iter().flat_map(|c| c.1.iter().copied()).collect();
    b.extend(packed_bytes(&meta));
    let mut nulls = vec![0u8; columns.len().div_ceil(8)];
    for (i, c) in columns.iter().enumerate() {
        if c.2 {
            nulls[i / 8] |= 1 << (i % 8);
        }
    }
    b.extend(nulls);
    for (field, value) in optional {
        b.push(*field);
        b.extend(packed_bytes(value));
    }
    b
}

/// The [`COLUMN_NAME`] field of `names`.
pub fn column_names(names: &[&str]) -> (u8, Vec<u8>) {
    let v = names
        .iter()
        .flat_map(|n| packed_bytes(n.as_bytes()))
        .collect();
    (COLUMN_NAME, v)
}
