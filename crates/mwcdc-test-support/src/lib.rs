//! Test-only helpers shared by the workspace's tests, one module per job.
//!
//! - [`binlog`] builds the bytes of binlog events, as MariaDB 10.11 and MySQL 8 write them, for
//!   the tests of the decoder (mwcdc-binlog) and of the source (mwcdc-source);
//! - [`schemas`] validates records against the JSON Schemas in `docs/schemas`, for the tests
//!   of mwcdc-record, mwcdc-mediawiki and the integration tests.
//!
//! It depends on no crate of the workspace, so that a crate's unit tests can use it without
//! seeing two copies of that crate's types: it makes bytes and checks JSON, nothing else.

#![warn(missing_docs)]

pub mod binlog;
pub mod schemas;
