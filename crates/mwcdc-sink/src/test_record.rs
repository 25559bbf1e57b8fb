//! Test helpers: a record of table `w.t` and where it comes from, as the sinks' unit tests use
//! them.

use std::sync::Arc;

use mwcdc_change::TableSchema;
use mwcdc_position::Position;
use mwcdc_record::{KeyEncoding, Record};

use crate::Origin;

/// A record of table `w.t` keyed `{"id":1}`, with this topic, value and id.
pub(crate) fn record(topic: &str, value: Option<&[u8]>, id: &str) -> Record {
    Record {
        topic: topic.into(),
        key: Some(br#"{"id":1}"#.to_vec()),
        key_encoding: KeyEncoding::Json,
        value: value.map(<[u8]>::to_vec),
        id: id.into(),
        table: Arc::new(TableSchema::new(
            "w".into(),
            "t".into(),
            vec!["id".into()],
            vec![0],
        )),
        snapshot_key: None,
    }
}

/// The position `0-1-2`, for [`origin`].
pub(crate) fn position() -> Position {
    Position::parse_any("0-1-2").expect("a MariaDB position")
}

/// Record `index` of the transaction ending at `position` (`0-1-2`).
pub(crate) fn origin(position: &Position, index: u32) -> Origin<'_> {
    Origin {
        position,
        position_text: "0-1-2",
        index,
        snapshot: None,
    }
}
