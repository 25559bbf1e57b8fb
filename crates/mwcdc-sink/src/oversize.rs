//! `[sink] oversize = "skip"`: the marker record written in place of a record too large to
//! send, and the counter of such records.

use mwcdc_record::Record;

/// The marker that replaces `record`, `size` bytes, over `limit`: the same topic, key and
/// id, and a value that names the row and says why its record is missing.
pub fn marker(record: &Record, size: usize, limit: usize) -> Record {
    let value = serde_json::json!({
        "oversize": {
            "id": record.id,
            "db": record.table.db,
            "table": record.table.table,
            "size": size,
            "limit": limit,
            "reason": "the record is larger than the producer's message.max.bytes; it was skipped ([sink] oversize = \"skip\")",
        }
    });
    Record {
        topic: record.topic.clone(),
        key: record.key.clone(),
        key_encoding: record.key_encoding,
        value: Some(value.to_string().into_bytes()),
        id: record.id.clone(),
        table: record.table.clone(),
        // In the place of the record, it is ordered as the record would have been.
        snapshot_key: record.snapshot_key.clone(),
    }
}

/// A record's key as text, for messages (invalid UTF-8 replaced; `null` for none).
pub fn key_text(record: &Record) -> String {
    record.key.as_deref().map_or_else(
        || "null".into(),
        |k| String::from_utf8_lossy(k).into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mwcdc_record::KeyEncoding;
    use std::sync::Arc;

    #[test]
    fn the_marker_keeps_topic_key_and_id_and_names_the_row() {
        let record = Record {
            topic: "p.enwiki.revision".into(),
            key: Some(br#"{"rev_id":7}"#.to_vec()),
            key_encoding: KeyEncoding::Json,
            value: Some(vec![b'x'; 100]),
            id: "0-1-5/0/0".into(),
            table: Arc::new(mwcdc_change::TableSchema::new(
                "enwiki".into(),
                "revision".into(),
                vec!["rev_id".into()],
                vec![0],
            )),
            snapshot_key: Some("[7]".into()),
        };
        let m = marker(&record, 2_000_000, 1_000_000);
        assert_eq!(
            (&m.topic, &m.key, &m.id, &m.snapshot_key),
            (&record.topic, &record.key, &record.id, &record.snapshot_key)
        );
        let v: serde_json::Value = serde_json::from_slice(m.value.as_deref().unwrap()).unwrap();
        assert_eq!(v["oversize"]["db"], "enwiki");
        assert_eq!(v["oversize"]["table"], "revision");
        assert_eq!(v["oversize"]["size"], 2_000_000);
        assert_eq!(v["oversize"]["limit"], 1_000_000);
        assert_eq!(v["oversize"]["id"], "0-1-5/0/0");
        assert_eq!(key_text(&record), r#"{"rev_id":7}"#);
    }
}
