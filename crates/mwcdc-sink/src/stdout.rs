//! The stdout sink: one JSON object per line, for demos and pipes.

use std::io::Write;
use std::time::Duration;

use mwcdc_record::{write_json_str, KeyEncoding, Record};

use crate::ack::delivered_now;
use crate::headers::with_headers;
use crate::{AckSender, Origin, Sent, Sink, SinkError};

/// Writes `{"topic","key","value","headers"}` lines to standard output, one write per
/// record, and acknowledges each record once its line is written.
pub struct StdoutSink {
    acks: AckSender,
}

impl StdoutSink {
    /// A sink that reports acknowledgements on `acks`.
    pub fn new(acks: AckSender) -> Self {
        Self { acks }
    }
}

/// Formats one record as a line (without the newline).
pub fn line(record: &Record, origin: &Origin<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + record.value.as_ref().map_or(0, Vec::len));
    out.extend_from_slice(b"{\"topic\":");
    write_json_str(&mut out, &record.topic);
    out.extend_from_slice(b",\"key\":");
    match (&record.key, record.key_encoding) {
        (None, _) => out.extend_from_slice(b"null"),
        (Some(key), KeyEncoding::Json) => out.extend_from_slice(key),
        (Some(key), KeyEncoding::Text) => {
            write_json_str(&mut out, &String::from_utf8_lossy(key));
        }
    }
    out.extend_from_slice(b",\"value\":");
    out.extend_from_slice(record.value.as_deref().unwrap_or(b"null"));
    out.extend_from_slice(b",\"headers\":{");
    with_headers(record, origin, |headers| {
        for (n, &(name, value)) in headers.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            write_json_str(&mut out, name);
            out.push(b':');
            write_json_str(&mut out, value);
        }
    });
    out.extend_from_slice(b"}}");
    out
}

impl Sink for StdoutSink {
    async fn send(
        &mut self,
        record: Record,
        origin: Origin<'_>,
        ticket: usize,
    ) -> Result<Sent, SinkError> {
        let mut l = line(&record, &origin);
        l.push(b'\n');
        let mut out = std::io::stdout().lock();
        out.write_all(&l)?;
        out.flush()?;
        Ok(delivered_now(&self.acks, ticket))
    }

    async fn flush(&mut self, _timeout: Duration) -> Result<(), SinkError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_record;

    #[test]
    fn line_is_one_json_object() {
        let r = test_record::record("mwcdc.w.t\"x", None, "0-1-2/0/0/tombstone");
        let position = test_record::position();
        let origin = test_record::origin(&position, 1);
        let parsed: serde_json::Value = serde_json::from_slice(&line(&r, &origin)).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"topic": "mwcdc.w.t\"x", "key": {"id": 1}, "value": null,
                "headers": {"mwcdc.id": "0-1-2/0/0/tombstone", "mwcdc.position": "0-1-2",
                    "mwcdc.index": "1"}})
        );
        let entity = Record {
            key: Some(b"enwiki:12".to_vec()),
            key_encoding: KeyEncoding::Text,
            value: Some(b"{}".to_vec()),
            ..r
        };
        let parsed: serde_json::Value = serde_json::from_slice(&line(&entity, &origin)).unwrap();
        assert_eq!(
            parsed["key"], "enwiki:12",
            "a text key becomes a JSON string"
        );
    }
}
