//! The headers every record is sent with, whatever the sink: its deterministic id, the
//! position after its transaction and its index among that transaction's records; and, while
//! a snapshot job runs, where the record stands in the job ([`crate::JobPlace`]).

use mwcdc_record::{Record, ID_HEADER};

use crate::Origin;

/// The header with the position after the record's transaction.
pub const POSITION_HEADER: &str = "mwcdc.position";
/// The header with the record's index among its transaction's records (from 0).
pub const INDEX_HEADER: &str = "mwcdc.index";
/// The header with where the record stands in a snapshot job (see [`crate::JobPlace`]).
pub const SNAPSHOT_HEADER: &str = "mwcdc.snapshot";

/// Calls `f` with the record's headers, names and values, in the order they are written.
pub(crate) fn with_headers<R>(
    record: &Record,
    origin: &Origin<'_>,
    f: impl FnOnce(&[(&'static str, &str)]) -> R,
) -> R {
    let mut digits = itoa::Buffer::new();
    let headers = [
        (ID_HEADER, record.id.as_str()),
        (POSITION_HEADER, origin.position_text),
        (INDEX_HEADER, digits.format(origin.index)),
        (SNAPSHOT_HEADER, origin.snapshot.map_or("", |p| p.text())),
    ];
    let count = if origin.snapshot.is_some() { 4 } else { 3 };
    f(&headers[..count])
}

/// The bytes a Kafka message of `record` carries: key, value and headers (what the
/// producer's `message.max.bytes` limits).
pub(crate) fn message_bytes(record: &Record, origin: &Origin<'_>) -> usize {
    record.key.as_ref().map_or(0, Vec::len)
        + record.value.as_ref().map_or(0, Vec::len)
        + with_headers(record, origin, |headers| {
            headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
        })
}
