//! Test-only helpers shared by the workspace's tests, one module per job.
//!
//! - [`schemas`] validates records against the JSON Schemas in `docs/schemas`, for the tests
//!   of mwcdc-record, mwcdc-mediawiki and the integration tests.
//!
//! It depends on no crate of the workspace, so that a crate's unit tests can use it without
//! seeing two copies of that crate's types: it checks JSON, nothing else.

#![warn(missing_docs)]

pub mod schemas;
