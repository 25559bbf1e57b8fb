//! Decoding errors. The source adds the binlog file and position around them.

use thiserror::Error;

/// Why an event or a row could not be decoded. Every variant stops the connector:
/// an event is never skipped.
#[derive(Debug, Error)]
pub enum DecodeError {
    /// The event ended before a field it declares.
    #[error("event truncated: needed {needed} more bytes, {available} available")]
    Truncated {
        /// Bytes the next field needs.
        needed: usize,
        /// Bytes left in the event.
        available: usize,
    },
    /// The CRC32 stored in the event does not match its bytes.
    #[error("checksum mismatch: the event says 0x{expected:08x}, its bytes give 0x{actual:08x}")]
    ChecksumMismatch {
        /// The CRC32 stored in the event.
        expected: u32,
        /// The CRC32 of the bytes received.
        actual: u32,
    },
    /// A field holds a value the format does not allow.
    #[error("invalid event: {0}")]
    Invalid(String),
    /// A column type this decoder cannot represent losslessly.
    #[error("unsupported column type {type_code} in column {column} of {table}")]
    UnsupportedColumnType {
        /// The binlog type code.
        type_code: u8,
        /// The column's index.
        column: usize,
        /// `db.table`.
        table: String,
    },
    /// A compressed event or payload that does not decompress.
    #[error("cannot decompress event: {0}")]
    Decompress(String),
    /// A rows event refers to a table id with no TABLE_MAP before it.
    #[error("rows event for table id {0} without a preceding TABLE_MAP event")]
    UnknownTable(u64),
}
