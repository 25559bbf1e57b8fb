//! Values written as text in the configuration (positions, templates, addresses, durations,
//! sizes), parsed once when it is read.

/// Values written as text and parsed once, when the configuration is read: a malformed one
/// is an error naming its key.
pub mod parsed {
    use std::net::SocketAddr;

    use mwcdc_mediawiki::EntityTopicTemplate;
    use mwcdc_position::Position;
    use mwcdc_record::TopicTemplate;
    use mwcdc_source::StartPosition;
    use serde::{Deserialize, Deserializer};

    /// The text of a value, given to `parse`; its error becomes the key's message.
    fn text<'de, D: Deserializer<'de>, T>(
        d: D,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }

    /// `source.start`: `earliest`, `latest` or a GTID position.
    pub fn start<'de, D: Deserializer<'de>>(d: D) -> Result<StartPosition, D::Error> {
        text(d, |s| {
            Ok(match s {
                "earliest" => StartPosition::Earliest,
                "latest" => StartPosition::Latest,
                other => StartPosition::At(Position::parse_any(other).map_err(|e| {
                    format!("expected \"earliest\", \"latest\" or a GTID position: {e}")
                })?),
            })
        })
    }

    /// `source.stop`: a GTID position.
    pub fn stop<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Position>, D::Error> {
        text(d, |s| stop_position(s).map(Some))
    }

    /// A stop position (`source.stop`, `--stop-at`).
    pub fn stop_position(text: &str) -> Result<Position, String> {
        Position::parse_any(text).map_err(|e| format!("expected a GTID position: {e}"))
    }

    /// `output.topic`.
    pub fn topic<'de, D: Deserializer<'de>>(d: D) -> Result<TopicTemplate, D::Error> {
        text(d, |s| TopicTemplate::parse(s).map_err(|e| e.to_string()))
    }

    /// `output.entity_topic`.
    pub fn entity_topic<'de, D: Deserializer<'de>>(d: D) -> Result<EntityTopicTemplate, D::Error> {
        text(d, |s| {
            EntityTopicTemplate::parse(s).map_err(|e| e.to_string())
        })
    }

    /// `http.listen`: `ip:port`, or `""` for none.
    pub fn listen<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
        text(d, |s| {
            if s.is_empty() {
                return Ok(None);
            }
            s.parse().map(Some).map_err(|_| {
                format!("expected ip:port like \"127.0.0.1:9187\" (or \"\" to disable), not {s:?}")
            })
        })
    }
}

/// Durations written like `1s`, `500ms`, `2m`.
pub mod humantime_serde_compat {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(|e| {
            serde::de::Error::custom(format!("expected a duration like \"1s\" or \"500ms\": {e}"))
        })
    }
}

/// Byte sizes written as an integer or like `"64MiB"`, `"512KiB"`, `"1GiB"`, `"100MB"`.
pub mod byte_size {
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(n),
            Raw::Text(s) => parse(&s).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "expected a size like \"64MiB\", \"512KiB\" or a number of bytes, not {s:?}"
                ))
            }),
        }
    }

    /// Parses `<number><unit>`; units B, KB, MB, GB (powers of 1000), KiB, MiB, GiB.
    pub fn parse(s: &str) -> Option<u64> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (digits, unit) = s.split_at(split);
        let n: u64 = digits.parse().ok()?;
        let factor: u64 = match unit.trim() {
            "" | "B" => 1,
            "KB" => 1000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            _ => return None,
        };
        n.checked_mul(factor)
    }
}
