//! TABLE_MAP events: the column layout that the rows events after them refer to.
//!
//! The column types and their type-specific metadata are resolved once per TABLE_MAP into
//! [`ColumnKind`]s, so decoding a row never rebuilds metadata.

use std::sync::Arc;

use crate::charset::{Collations, TextEncoding, BINARY_COLLATION};
use crate::{DecodeError, Reader};

/// Binlog column type codes.
#[allow(missing_docs)]
pub mod column_type {
    pub const DECIMAL: u8 = 0;
    pub const TINY: u8 = 1;
    pub const SHORT: u8 = 2;
    pub const LONG: u8 = 3;
    pub const FLOAT: u8 = 4;
    pub const DOUBLE: u8 = 5;
    pub const NULL: u8 = 6;
    pub const TIMESTAMP: u8 = 7;
    pub const LONGLONG: u8 = 8;
    pub const INT24: u8 = 9;
    pub const DATE: u8 = 10;
    pub const TIME: u8 = 11;
    pub const DATETIME: u8 = 12;
    pub const YEAR: u8 = 13;
    pub const NEWDATE: u8 = 14;
    pub const VARCHAR: u8 = 15;
    pub const BIT: u8 = 16;
    pub const TIMESTAMP2: u8 = 17;
    pub const DATETIME2: u8 = 18;
    pub const TIME2: u8 = 19;
    pub const VECTOR: u8 = 242;
    pub const JSON: u8 = 245;
    pub const NEWDECIMAL: u8 = 246;
    pub const ENUM: u8 = 247;
    pub const SET: u8 = 248;
    pub const TINY_BLOB: u8 = 249;
    pub const MEDIUM_BLOB: u8 = 250;
    pub const LONG_BLOB: u8 = 251;
    pub const BLOB: u8 = 252;
    pub const VAR_STRING: u8 = 253;
    pub const STRING: u8 = 254;
    pub const GEOMETRY: u8 = 255;
}
use column_type as ct;

/// How a column's values are laid out in a row image, resolved from type and metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Integer of 1, 2, 3, 4 or 8 bytes.
    Int {
        /// Width in bytes.
        bytes: u8,
    },
    /// 4-byte IEEE float.
    Float,
    /// 8-byte IEEE double.
    Double,
    /// Packed DECIMAL.
    Decimal {
        /// Total digits.
        precision: u8,
        /// Digits after the point.
        scale: u8,
    },
    /// YEAR, one byte.
    Year,
    /// DATE, 3 bytes.
    Date,
    /// Old TIME, 3 bytes.
    Time,
    /// TIME(fsp), MySQL 5.6+ format.
    Time2 {
        /// Fractional second digits.
        fsp: u8,
    },
    /// Old DATETIME, 8 bytes.
    DateTime,
    /// DATETIME(fsp), MySQL 5.6+ format.
    DateTime2 {
        /// Fractional second digits.
        fsp: u8,
    },
    /// Old TIMESTAMP, 4 bytes.
    Timestamp,
    /// TIMESTAMP(fsp), MySQL 5.6+ format.
    Timestamp2 {
        /// Fractional second digits.
        fsp: u8,
    },
    /// CHAR/BINARY(n): a length prefix, then the bytes with trailing padding stripped.
    FixedString {
        /// The column's maximum length in bytes.
        max_len: u16,
    },
    /// VARCHAR/VARBINARY: a 1- or 2-byte length prefix.
    VarString {
        /// Width of the length prefix.
        len_bytes: u8,
    },
    /// BLOB/TEXT, GEOMETRY and VECTOR: a 1- to 4-byte length prefix.
    Blob {
        /// Width of the length prefix.
        len_bytes: u8,
    },
    /// MySQL binary JSON with a length prefix.
    Json {
        /// Width of the length prefix.
        len_bytes: u8,
    },
    /// ENUM: the 1-based index in 1 or 2 bytes.
    Enum {
        /// Width of the index.
        bytes: u8,
    },
    /// SET: a bit mask of 1 to 8 bytes.
    Set {
        /// Width of the mask.
        bytes: u8,
    },
    /// BIT(n).
    Bit {
        /// Number of bits.
        bits: u16,
    },
    /// The NULL type: no bytes.
    Null,
}

/// One column of a mapped table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's name, from the optional metadata or the schema lookup.
    pub name: Option<String>,
    /// The binlog type code, with CHAR's real type (ENUM, SET) resolved.
    pub type_code: u8,
    /// Layout in the row image.
    pub kind: ColumnKind,
    /// Whether an integer or decimal column is UNSIGNED.
    pub unsigned: bool,
    /// Whether the column may be NULL.
    pub nullable: bool,
    /// For string, blob, enum and set columns: the collation id, when known.
    pub collation: Option<u16>,
    /// How string bytes convert to text.
    pub text: TextEncoding,
    /// ENUM or SET member names, when known.
    pub members: Option<Arc<[String]>>,
}

impl Column {
    /// Whether the column holds bytes that are never text (the `binary` character set, or a
    /// GEOMETRY or VECTOR value).
    pub fn is_binary(&self) -> bool {
        self.text == TextEncoding::Binary
    }

    fn is_numeric(&self) -> bool {
        matches!(
            self.type_code,
            ct::TINY
                | ct::SHORT
                | ct::INT24
                | ct::LONG
                | ct::LONGLONG
                | ct::NEWDECIMAL
                | ct::FLOAT
                | ct::DOUBLE
                | ct::DECIMAL
        )
    }

    /// Whether the column takes a place in the character set metadata. GEOMETRY does (its
    /// server-side type derives from BLOB), as the test MariaDB shows: without it, the
    /// character set of every text column after a GEOMETRY column would be its neighbour's.
    fn is_character(&self) -> bool {
        matches!(
            self.type_code,
            ct::STRING | ct::VAR_STRING | ct::VARCHAR | ct::BLOB | ct::GEOMETRY
        )
    }

    fn is_enum_or_set(&self) -> bool {
        matches!(self.type_code, ct::ENUM | ct::SET)
    }
}

/// A decoded TABLE_MAP event.
#[derive(Debug, Clone, PartialEq)]
pub struct TableMap {
    /// The id rows events use to refer to this mapping.
    pub table_id: u64,
    /// Database name.
    pub db: String,
    /// Table name.
    pub table: String,
    /// The columns, in table order.
    pub columns: Vec<Column>,
    /// Primary key column indexes, when the optional metadata carried them.
    pub primary_key: Option<Vec<usize>>,
    /// Whether the event carried column names (`binlog_row_metadata=FULL`).
    pub has_full_metadata: bool,
}

const META_SIGNEDNESS: u8 = 1;
const META_DEFAULT_CHARSET: u8 = 2;
const META_COLUMN_CHARSET: u8 = 3;
const META_COLUMN_NAME: u8 = 4;
const META_SET_STR_VALUE: u8 = 5;
const META_ENUM_STR_VALUE: u8 = 6;
const META_SIMPLE_PRIMARY_KEY: u8 = 8;
const META_PRIMARY_KEY_WITH_PREFIX: u8 = 9;
const META_ENUM_AND_SET_DEFAULT_CHARSET: u8 = 10;
const META_ENUM_AND_SET_COLUMN_CHARSET: u8 = 11;

impl TableMap {
    /// Parses a TABLE_MAP body. `post_header_len` is the FDE's (6 means a 4-byte table id).
    pub fn parse(
        body: &[u8],
        post_header_len: usize,
        collations: &Collations,
    ) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let (table_id, db, table) = read_names(&mut r, post_header_len)?;
        r.skip(1)?;
        let count = r.packed_len()?;
        let types = r.take(count)?;
        let meta_len = r.packed_len()?;
        let mut meta = Reader::new(r.take(meta_len)?);
        let nulls = r.take(count.div_ceil(8))?;
        let mut columns = Vec::with_capacity(count);
        for (i, &type_code) in types.iter().enumerate() {
            let (type_code, kind) = resolve_kind(type_code, &mut meta).map_err(|e| match e {
                DecodeError::UnsupportedColumnType { type_code, .. } => {
                    DecodeError::UnsupportedColumnType {
                        type_code,
                        column: i,
                        table: format!("{db}.{table}"),
                    }
                }
                other => other,
            })?;
            let text = match type_code {
                ct::GEOMETRY | ct::VECTOR => TextEncoding::Binary,
                _ => TextEncoding::Unknown,
            };
            columns.push(Column {
                name: None,
                type_code,
                kind,
                unsigned: false,
                nullable: bit(nulls, i),
                collation: None,
                text,
                members: None,
            });
        }
        let mut map = Self {
            table_id,
            db,
            table,
            columns,
            primary_key: None,
            has_full_metadata: false,
        };
        map.parse_optional_metadata(r.rest(), collations)?;
        Ok(map)
    }

    /// Reads only the table id, database and table name of a TABLE_MAP body, so that events
    /// of tables that are not captured need no further decoding.
    pub fn peek_name(
        body: &[u8],
        post_header_len: usize,
    ) -> Result<(u64, String, String), DecodeError> {
        read_names(&mut Reader::new(body), post_header_len)
    }

    /// `db.table`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.db, self.table)
    }

    fn parse_optional_metadata(
        &mut self,
        bytes: &[u8],
        collations: &Collations,
    ) -> Result<(), DecodeError> {
        let mut r = Reader::new(bytes);
        while r.remaining() > 0 {
            let field = r.u8()?;
            let len = r.packed_len()?;
            let mut v = Reader::new(r.take(len)?);
            match field {
                META_SIGNEDNESS => {
                    let bits = v.rest();
                    for (n, col) in self
                        .columns
                        .iter_mut()
                        .filter(|c| c.is_numeric())
                        .enumerate()
                    {
                        col.unsigned = bit_msb(bits, n);
                    }
                }
                META_DEFAULT_CHARSET | META_ENUM_AND_SET_DEFAULT_CHARSET => {
                    let enum_set = field == META_ENUM_AND_SET_DEFAULT_CHARSET;
                    let default = to_u16(v.packed()?)?;
                    let mut overrides = Vec::new();
                    while v.remaining() > 0 {
                        overrides.push((v.packed_len()?, to_u16(v.packed()?)?));
                    }
                    let targets = self.charset_targets(enum_set);
                    for (n, &col) in targets.iter().enumerate() {
                        let collation = overrides
                            .iter()
                            .find(|(idx, _)| *idx == n)
                            .map_or(default, |(_, c)| *c);
                        self.set_collation(col, collation, collations);
                    }
                }
                META_COLUMN_CHARSET | META_ENUM_AND_SET_COLUMN_CHARSET => {
                    let targets = self.charset_targets(field == META_ENUM_AND_SET_COLUMN_CHARSET);
                    for col in targets {
                        let collation = to_u16(v.packed()?)?;
                        self.set_collation(col, collation, collations);
                    }
                }
                META_COLUMN_NAME => {
                    for col in &mut self.columns {
                        let n = v.packed_len()?;
                        col.name = Some(utf8_name(v.take(n)?));
                    }
                    self.has_full_metadata = true;
                }
                META_SET_STR_VALUE | META_ENUM_STR_VALUE => {
                    let wanted = if field == META_SET_STR_VALUE {
                        ct::SET
                    } else {
                        ct::ENUM
                    };
                    for col in self.columns.iter_mut().filter(|c| c.type_code == wanted) {
                        let count = v.packed_len()?;
                        let mut members = Vec::with_capacity(count.min(1024));
                        for _ in 0..count {
                            let n = v.packed_len()?;
                            members.push(String::from_utf8_lossy(v.take(n)?).into_owned());
                        }
                        col.members = Some(members.into());
                    }
                }
                META_SIMPLE_PRIMARY_KEY => {
                    let mut pk = Vec::new();
                    while v.remaining() > 0 {
                        pk.push(self.column_index(v.packed_len()?)?);
                    }
                    self.primary_key = Some(pk);
                }
                META_PRIMARY_KEY_WITH_PREFIX => {
                    let mut pk = Vec::new();
                    while v.remaining() > 0 {
                        pk.push(self.column_index(v.packed_len()?)?);
                        let _prefix = v.packed()?;
                    }
                    self.primary_key = Some(pk);
                }
                // Geometry types, column visibility and fields added later: length-delimited,
                // not needed to decode values.
                _ => {}
            }
        }
        Ok(())
    }

    fn column_index(&self, idx: usize) -> Result<usize, DecodeError> {
        if idx < self.columns.len() {
            Ok(idx)
        } else {
            Err(DecodeError::Invalid(format!(
                "primary key column {idx} out of range in {}",
                self.qualified_name()
            )))
        }
    }

    fn charset_targets(&self, enum_set: bool) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                if enum_set {
                    c.is_enum_or_set()
                } else {
                    c.is_character()
                }
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn set_collation(&mut self, col: usize, collation: u16, collations: &Collations) {
        let column = &mut self.columns[col];
        column.collation = Some(collation);
        column.text = if collation == BINARY_COLLATION {
            TextEncoding::Binary
        } else {
            collations.encoding(collation)
        };
    }
}

/// Reads the table id, flags, database and table name at the start of a TABLE_MAP body.
fn read_names(
    r: &mut Reader<'_>,
    post_header_len: usize,
) -> Result<(u64, String, String), DecodeError> {
    let table_id = read_table_id(r, post_header_len)?;
    let _flags = r.u16()?;
    let db = utf8_name(r.u8_prefixed()?);
    r.skip(1)?;
    let table = utf8_name(r.u8_prefixed()?);
    Ok((table_id, db, table))
}

/// Reads a 6-byte table id, or a 4-byte one from binlogs whose post-header is 6 bytes long.
pub(crate) fn read_table_id(
    r: &mut Reader<'_>,
    post_header_len: usize,
) -> Result<u64, DecodeError> {
    if post_header_len == 6 {
        Ok(u64::from(r.u32()?))
    } else {
        r.uint_le(6)
    }
}

fn resolve_kind(type_code: u8, meta: &mut Reader<'_>) -> Result<(u8, ColumnKind), DecodeError> {
    let kind = match type_code {
        ct::TINY => ColumnKind::Int { bytes: 1 },
        ct::SHORT => ColumnKind::Int { bytes: 2 },
        ct::INT24 => ColumnKind::Int { bytes: 3 },
        ct::LONG => ColumnKind::Int { bytes: 4 },
        ct::LONGLONG => ColumnKind::Int { bytes: 8 },
        ct::FLOAT => {
            meta.u8()?;
            ColumnKind::Float
        }
        ct::DOUBLE => {
            meta.u8()?;
            ColumnKind::Double
        }
        ct::NEWDECIMAL => ColumnKind::Decimal {
            precision: meta.u8()?,
            scale: meta.u8()?,
        },
        ct::YEAR => ColumnKind::Year,
        ct::DATE | ct::NEWDATE => ColumnKind::Date,
        ct::TIME => ColumnKind::Time,
        ct::DATETIME => ColumnKind::DateTime,
        ct::TIMESTAMP => ColumnKind::Timestamp,
        ct::TIME2 => ColumnKind::Time2 { fsp: fsp(meta)? },
        ct::DATETIME2 => ColumnKind::DateTime2 { fsp: fsp(meta)? },
        ct::TIMESTAMP2 => ColumnKind::Timestamp2 { fsp: fsp(meta)? },
        ct::VARCHAR | ct::VAR_STRING => {
            let max = meta.u16()?;
            ColumnKind::VarString {
                len_bytes: if max < 256 { 1 } else { 2 },
            }
        }
        ct::BLOB | ct::GEOMETRY | ct::VECTOR | ct::JSON => {
            let len_bytes = meta.u8()?;
            if !(1..=4).contains(&len_bytes) {
                return Err(DecodeError::Invalid(format!(
                    "blob length width {len_bytes} out of range"
                )));
            }
            if type_code == ct::JSON {
                ColumnKind::Json { len_bytes }
            } else {
                ColumnKind::Blob { len_bytes }
            }
        }
        ct::BIT => {
            let bits = u16::from(meta.u8()?);
            let bytes = u16::from(meta.u8()?);
            ColumnKind::Bit {
                bits: bytes * 8 + bits,
            }
        }
        ct::STRING => {
            let b0 = meta.u8()?;
            let b1 = meta.u8()?;
            let (real_type, max_len) = if b0 & 0x30 != 0x30 {
                // CHAR longer than 255 bytes: two bits of the length live in the type byte.
                (
                    b0 | 0x30,
                    (u16::from((b0 & 0x30) ^ 0x30) << 4) | u16::from(b1),
                )
            } else {
                (b0, u16::from(b1))
            };
            return Ok(match real_type {
                ct::ENUM => (ct::ENUM, ColumnKind::Enum { bytes: b1 }),
                ct::SET => (ct::SET, ColumnKind::Set { bytes: b1 }),
                _ => (ct::STRING, ColumnKind::FixedString { max_len }),
            });
        }
        ct::ENUM => ColumnKind::Enum {
            bytes: (meta.u16()? >> 8) as u8,
        },
        ct::SET => ColumnKind::Set {
            bytes: (meta.u16()? >> 8) as u8,
        },
        ct::NULL => ColumnKind::Null,
        other => {
            return Err(DecodeError::UnsupportedColumnType {
                type_code: other,
                column: 0,
                table: String::new(),
            })
        }
    };
    Ok((type_code, kind))
}

fn fsp(meta: &mut Reader<'_>) -> Result<u8, DecodeError> {
    let fsp = meta.u8()?;
    if fsp > 6 {
        return Err(DecodeError::Invalid(format!(
            "fractional seconds precision {fsp} out of range"
        )));
    }
    Ok(fsp)
}

fn to_u16(v: u64) -> Result<u16, DecodeError> {
    u16::try_from(v).map_err(|_| DecodeError::Invalid(format!("collation id {v} out of range")))
}

fn utf8_name(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Bit `i` of a little-endian-bit-order bitmap (null bitmaps, column bitmaps).
pub(crate) fn bit(bits: &[u8], i: usize) -> bool {
    bits.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
}

/// Bit `i` of a most-significant-bit-first bitmap (the signedness metadata).
fn bit_msb(bits: &[u8], i: usize) -> bool {
    bits.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
}

#[cfg(test)]
mod tests {
    use mwcdc_test_support::binlog::table_map::{column_names, table_map};

    use super::*;

    #[test]
    fn parses_revision_like_table_with_full_metadata() {
        let body = table_map(
            77,
            "enwiki",
            "revision",
            &[
                (ct::LONGLONG, &[], false),
                (ct::STRING, &[ct::STRING, 14], false),
                (ct::VARCHAR, &[32, 0], false),
                (ct::TINY, &[], true),
                (ct::BLOB, &[2], true),
            ],
            &[
                (META_SIGNEDNESS, vec![0b1000_0000]),
                (META_DEFAULT_CHARSET, vec![63, 2, 45]),
                column_names(&[
                    "rev_id",
                    "rev_timestamp",
                    "rev_sha1",
                    "rev_minor_edit",
                    "note",
                ]),
                (META_SIMPLE_PRIMARY_KEY, vec![0]),
            ],
        );
        let map = TableMap::parse(&body, 8, &Collations::default()).unwrap();
        assert_eq!(map.table_id, 77);
        assert_eq!(map.qualified_name(), "enwiki.revision");
        assert!(map.has_full_metadata);
        assert_eq!(map.primary_key, Some(vec![0]));
        let c = &map.columns;
        assert!(c[0].unsigned && !c[3].unsigned);
        assert_eq!(c[1].kind, ColumnKind::FixedString { max_len: 14 });
        assert!(c[1].is_binary() && c[2].is_binary());
        assert_eq!(c[4].collation, Some(45));
        assert_eq!(c[4].text, TextEncoding::Utf8);
        assert_eq!(c[2].kind, ColumnKind::VarString { len_bytes: 1 });
        assert!(c[3].nullable && !c[0].nullable);
        assert_eq!(c[0].name.as_deref(), Some("rev_id"));
    }

    #[test]
    fn resolves_enum_set_and_long_char() {
        let body = table_map(
            1,
            "d",
            "t",
            &[
                (ct::STRING, &[ct::ENUM, 1], false),
                (ct::STRING, &[ct::SET, 2], false),
                (ct::STRING, &[0xee, 0x2c], false), // CHAR of 300 bytes: two length bits in the type byte
            ],
            &[],
        );
        let map = TableMap::parse(&body, 8, &Collations::default()).unwrap();
        assert_eq!(map.columns[0].kind, ColumnKind::Enum { bytes: 1 });
        assert_eq!(map.columns[1].kind, ColumnKind::Set { bytes: 2 });
        assert_eq!(
            map.columns[2].kind,
            ColumnKind::FixedString { max_len: 300 }
        );
        assert!(!map.has_full_metadata);
    }

    #[test]
    fn truncated_table_map_is_an_error() {
        let body = table_map(1, "d", "t", &[(ct::VARCHAR, &[10, 0], false)], &[]);
        for cut in [3, 12, body.len() - 1] {
            assert!(TableMap::parse(&body[..cut], 8, &Collations::default()).is_err());
        }
    }

    #[test]
    fn unsupported_type_names_the_column() {
        let body = table_map(
            1,
            "d",
            "t",
            &[(ct::TINY, &[], false), (141, &[], false)],
            &[],
        );
        let err = TableMap::parse(&body, 8, &Collations::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported column type 141 in column 1 of d.t"
        );
    }
}
