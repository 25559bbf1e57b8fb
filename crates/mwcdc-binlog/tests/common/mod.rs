//! Helpers shared by the recorded-binlog tests: loading fixtures and decoding a whole file.

#![allow(dead_code)]

use std::collections::HashMap;

use mwcdc_binlog::{
    file_events, payload_events, Collations, DecodeError, Event, EventDecoder, TableMap,
};

/// The bytes of a recorded binlog in `tests/fixtures/binlogs`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/binlogs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {path}: {e}"))
}

/// What decoding a whole file produced.
#[derive(Debug, Default)]
pub struct Summary {
    /// Events decoded, payload contents included.
    pub events: usize,
    /// Row images decoded.
    pub rows: usize,
    /// Events decoded from inside TRANSACTION_PAYLOADs.
    pub payload_events: usize,
}

/// Where and why decoding a file stopped.
#[derive(Debug)]
pub struct Failure {
    /// Start offset of the event (of the TRANSACTION_PAYLOAD for inner events).
    pub offset: usize,
    /// The error.
    pub error: DecodeError,
}

/// Decodes every event of a binlog file, rows against their table maps and the contents of
/// transaction payloads, stopping at the first error.
pub fn decode_file(file: &[u8]) -> Result<Summary, Failure> {
    let mut dec = EventDecoder::new(Collations::default());
    let mut maps = HashMap::new();
    let mut summary = Summary::default();
    for item in file_events(file) {
        let (offset, bytes) = item.map_err(|error| Failure { offset: 0, error })?;
        let fail = |error| Failure { offset, error };
        let (_, event) = dec.decode(bytes).map_err(fail)?;
        summary.events += 1;
        if let Event::TransactionPayload(payload) = &event {
            for inner in payload_events(payload) {
                let inner = inner.map_err(fail)?;
                let (_, event) = dec.decode_unchecked(inner).map_err(fail)?;
                summary.events += 1;
                summary.payload_events += 1;
                handle(event, &mut maps, &mut summary).map_err(fail)?;
            }
        } else {
            handle(event, &mut maps, &mut summary).map_err(fail)?;
        }
    }
    Ok(summary)
}

fn handle(
    event: Event<'_>,
    maps: &mut HashMap<u64, TableMap>,
    summary: &mut Summary,
) -> Result<(), DecodeError> {
    match event {
        Event::TableMap(map) => {
            maps.insert(map.table_id, map);
        }
        Event::Rows(rows) => {
            let map = maps
                .get(&rows.table_id)
                .ok_or(DecodeError::UnknownTable(rows.table_id))?;
            summary.rows += rows.decode(map)?.len();
        }
        Event::TransactionPayload(_) => {
            return Err(DecodeError::Invalid("nested payload".into()));
        }
        _ => {}
    }
    Ok(())
}
