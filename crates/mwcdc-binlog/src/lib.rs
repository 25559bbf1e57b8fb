//! Decoding of MariaDB and MySQL binlog events, from raw event bytes to typed events and
//! lossless row values.
//!
//! The decoder works on the bytes of one event at a time, verifies each event's CRC32 and
//! resolves a table's column layout once per TABLE_MAP, so decoding a row only walks bytes.
//! Nothing here does I/O: the source feeds it events from the server, tests feed it events
//! from recorded binlog files.
//!
//! # Error handling
//! Every malformed input is a [`DecodeError`]; nothing panics on input bytes and no event is
//! skipped unless the format says it may be (ANNOTATE_ROWS, BINLOG_CHECKPOINT, ignorable).

#![warn(missing_docs)]

pub mod charset;
pub mod compression;
mod decimal;
mod error;
mod event;
pub mod events;
pub mod header;
mod json;
mod reader;
pub mod rows;
pub mod table_map;
mod temporal;
pub mod value;

pub use charset::{Collations, TextEncoding};
pub use error::DecodeError;
pub use event::{file_events, payload_events, Event, EventDecoder};
pub use header::{EventHeader, RawEvent};
pub use reader::Reader;
pub use rows::{RowImage, RowsEvent, RowsKind};
pub use table_map::{Column, ColumnKind, TableMap};
pub use temporal::civil_from_days;
pub use value::Value;
