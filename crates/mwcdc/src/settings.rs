//! The settings that decide which records a transaction gives, in which order (their
//! `mwcdc.index`) and to which topics, stored with every checkpoint. Exactly-once delivery
//! recognises what a partition already holds by position and index: if these change between
//! runs, the indexes shift and records would be skipped or written twice.

use mwcdc_checkpoint::Checkpoint;
use mwcdc_sink::Delivery;
use serde_json::{json, Value};
use tracing::{info, warn};

use crate::config::{Config, ConfigError};

/// The settings of `config` that records depend on, as stored in the checkpoint.
pub fn of(config: &Config) -> Value {
    json!({
        "source.include": config.source.include,
        "source.exclude": config.source.exclude,
        "source.table_prefix": config.source.table_prefix,
        "sink.topic_prefix": config.sink.topic_prefix,
        "output.rows": config.output.rows,
        "output.entities": config.output.entities,
        "output.tombstones": config.output.tombstones,
        "output.topic": config.output.topic.as_str(),
        "output.entity_topic": config.output.entity_topic.as_str(),
    })
}

/// The keys whose values differ between `stored` and `current` (a key absent from one side
/// counts as changed, unless absent means its default: `source.table_prefix` came later).
fn changed(stored: &Value, current: &Value) -> Vec<String> {
    let (Some(stored), Some(current)) = (stored.as_object(), current.as_object()) else {
        return vec!["(all)".into()];
    };
    let empty = json!({});
    current
        .iter()
        .filter(|(key, value)| match stored.get(*key) {
            Some(old) => old != *value,
            None => !(key.as_str() == "source.table_prefix" && **value == empty),
        })
        .map(|(key, _)| key.clone())
        .chain(
            stored
                .keys()
                .filter(|key| !current.contains_key(*key))
                .cloned(),
        )
        .collect()
}

/// Compares the settings stored with `checkpoint` with `current`. A change stops an
/// exactly-once or transactional run (unless `sink.topic_prefix` changed too: new topics hold nothing to
/// compare with) and is a warning in at-least-once mode.
pub fn check(
    checkpoint: &Checkpoint,
    current: &Value,
    delivery: Delivery,
) -> Result<(), ConfigError> {
    let Some(stored) = &checkpoint.settings else {
        info!("the checkpoint was written before output settings were stored; they are stored from now on");
        return Ok(());
    };
    let changed = changed(stored, current);
    if changed.is_empty() {
        return Ok(());
    }
    let list = changed.join(", ");
    let new_topics = changed.iter().any(|k| k == "sink.topic_prefix");
    match delivery {
        Delivery::ExactlyOnce | Delivery::Transactional if !new_topics => {
            Err(ConfigError::SettingsChanged {
                name: checkpoint.name.clone(),
                changed: list,
            })
        }
        _ => {
            warn!(changed = %list, "output settings changed since the checkpoint was written: records after it follow the new settings (a record already written under the old ones is not produced again, and ids of records that now come out differently differ)");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(settings: Option<Value>) -> Checkpoint {
        Checkpoint {
            name: "c".into(),
            position: mwcdc_position::Position::parse_any("0-1-1").unwrap(),
            file: String::new(),
            pos: 0,
            commit_ts: None,
            updated_at: chrono::Utc::now(),
            settings,
            snapshot: None,
        }
    }

    fn settings(rows: bool, prefix: &str) -> Value {
        json!({"output.rows": rows, "sink.topic_prefix": prefix, "source.table_prefix": {}})
    }

    #[test]
    fn a_change_stops_exactly_once_and_warns_at_least_once() {
        let stored = checkpoint(Some(settings(true, "mwcdc")));
        let err = check(&stored, &settings(false, "mwcdc"), Delivery::ExactlyOnce).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("output.rows")
                && text.contains("checkpoint reset")
                && text.contains("topic_prefix"),
            "{text}"
        );
        check(&stored, &settings(false, "mwcdc"), Delivery::AtLeastOnce).unwrap();
        check(&stored, &settings(true, "mwcdc"), Delivery::ExactlyOnce).unwrap();
        // New topics: nothing to compare with.
        check(&stored, &settings(false, "mwcdc2"), Delivery::ExactlyOnce).unwrap();
    }

    #[test]
    fn stores_written_before_keep_opening() {
        check(
            &checkpoint(None),
            &settings(false, "x"),
            Delivery::ExactlyOnce,
        )
        .unwrap();
        // Settings stored before the table prefix existed: its default is no change.
        let stored = checkpoint(Some(
            json!({"output.rows": true, "sink.topic_prefix": "mwcdc"}),
        ));
        check(&stored, &settings(true, "mwcdc"), Delivery::ExactlyOnce).unwrap();
        assert_eq!(
            changed(
                &json!({"output.rows": true, "sink.topic_prefix": "mwcdc"}),
                &json!({"output.rows": true, "sink.topic_prefix": "mwcdc", "source.table_prefix": {"enwiki": "mw_"}})
            ),
            vec!["source.table_prefix".to_string()]
        );
    }
}
