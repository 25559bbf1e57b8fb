//! Builds the bytes of binlog events as MariaDB 10.11 and MySQL 8 write them, for tests of
//! the decoder and the source.
//!
//! Bytes only: the tests decode them with the crate under test. What a real server writes
//! is the rule (the recorded binlogs in `crates/mwcdc-binlog/tests/fixtures/binlogs` show
//! it); where a test needs something else, it is an explicit option saying so.
//!
//! - [`frame`]: the common header, the CRC32 footer, length-encoded integers;
//! - [`events`]: FORMAT_DESCRIPTION, ROTATE, QUERY, XID, XA_PREPARE, MariaDB GTID, GTID_LIST
//!   and BINLOG_CHECKPOINT, MySQL TRANSACTION_PAYLOAD bodies;
//! - [`table_map`]: TABLE_MAP bodies with column metadata and optional metadata;
//! - [`rows`]: WRITE/UPDATE/DELETE rows event bodies, v1, v2 and MariaDB-compressed;
//! - [`values`]: binary JSON, packed DECIMAL, MariaDB's compressed form;
//! - [`stream`]: a MariaDB dump, each event at its position, with the dump's preamble.

pub mod events;
pub mod frame;
pub mod rows;
pub mod stream;
pub mod table_map;
pub mod values;

pub use frame::{event, Checksum, Header};
pub use rows::{Present, Rows};
pub use stream::Stream;
pub use table_map::table_map;
