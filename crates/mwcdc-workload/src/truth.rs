//! The ground truth: one JSON line per entity change, in the connector's vocabulary
//! (`/work/notes/entity-spec.md`), with the subset of `data`/`prior` a test must find equal.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

use crate::clock::Ts;

/// The entity a change is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A revision, live (`revision`) or deleted (`archive`); keyed by rev_id.
    Revision,
    /// A page; keyed by page_id.
    Page,
    /// A `logging` row; keyed by log_id.
    Log,
    /// A user's membership of a group.
    UserGroup,
}

/// What happened to the entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A new revision, page or log row.
    Create,
    /// A revision moved to `archive` by a page deletion.
    Archive,
    /// An archived revision moved back by an undeletion.
    Restore,
    /// A revision's `rev_deleted` bits changed.
    VisibilityChange,
    /// An archived revision removed for good.
    Purge,
    /// A page renamed.
    Move,
    /// A page deleted.
    Delete,
    /// A page restored.
    Undelete,
    /// A page's `page_is_redirect` flipped.
    RedirectChange,
    /// A group membership granted.
    Add,
    /// A group membership revoked.
    Remove,
    /// A group membership's expiry changed.
    ExpiryChange,
}

/// One line of the truth file.
#[derive(Debug, Serialize)]
pub struct TruthLine {
    wiki: String,
    entity: Entity,
    action: Action,
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    entity_ts: Option<String>,
    data: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    prior: Option<Value>,
}

impl TruthLine {
    fn new(wiki: &str, entity: Entity, action: Action, key: String, data: Value) -> Self {
        TruthLine {
            wiki: wiki.to_owned(),
            entity,
            action,
            key,
            entity_ts: None,
            data,
            prior: None,
        }
    }

    /// A change of revision `rev_id`, keyed `<wiki>:<rev_id>`.
    pub fn revision(wiki: &str, rev_id: u64, action: Action, data: Value) -> Self {
        Self::new(
            wiki,
            Entity::Revision,
            action,
            format!("{wiki}:{rev_id}"),
            data,
        )
    }

    /// A change of page `page_id`, keyed `<wiki>:<page_id>`.
    pub fn page(wiki: &str, page_id: u64, action: Action, data: Value) -> Self {
        Self::new(
            wiki,
            Entity::Page,
            action,
            format!("{wiki}:{page_id}"),
            data,
        )
    }

    /// A new log row `log_id`, keyed `<wiki>:<log_id>`.
    pub fn log(wiki: &str, log_id: u64, data: Value) -> Self {
        Self::new(
            wiki,
            Entity::Log,
            Action::Create,
            format!("{wiki}:{log_id}"),
            data,
        )
    }

    /// A change of a `user_groups` row, keyed `<wiki>:<ug_user>:<group>`.
    pub fn user_group(wiki: &str, user: u32, group: &str, action: Action, data: Value) -> Self {
        let key = format!("{wiki}:{user}:{group}");
        Self::new(wiki, Entity::UserGroup, action, key, data)
    }

    /// A group change of a user of another wiki, known from a `rights/rights` log row of
    /// `wiki` alone; keyed `<user wiki>:<user name>:<group>`.
    pub fn remote_user_group(
        wiki: &str,
        user_wiki: &str,
        user_name: &str,
        group: &str,
        action: Action,
        data: Value,
    ) -> Self {
        let key = format!("{user_wiki}:{user_name}:{group}");
        Self::new(wiki, Entity::UserGroup, action, key, data)
    }

    /// Sets `entity_ts`.
    pub fn at(mut self, ts: Ts) -> Self {
        self.entity_ts = Some(ts.rfc3339());
        self
    }

    /// Sets `prior`.
    pub fn prior(mut self, prior: Value) -> Self {
        self.prior = Some(prior);
        self
    }
}

/// Writes truth lines to a file, one JSON object per line.
pub struct TruthWriter {
    out: BufWriter<File>,
    lines: u64,
}

impl TruthWriter {
    /// Creates (or truncates) the truth file.
    pub fn create(path: &Path) -> Result<Self> {
        let file = File::create(path)
            .with_context(|| format!("creating truth file {}", path.display()))?;
        Ok(TruthWriter {
            out: BufWriter::new(file),
            lines: 0,
        })
    }

    /// Appends lines.
    pub fn write(&mut self, lines: &[TruthLine]) -> Result<()> {
        for line in lines {
            serde_json::to_writer(&mut self.out, line)?;
            self.out.write_all(b"\n")?;
        }
        self.lines += lines.len() as u64;
        Ok(())
    }

    /// Flushes the file and returns the number of lines written.
    pub fn finish(mut self) -> Result<u64> {
        self.out.flush().context("writing truth file")?;
        Ok(self.lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::binary_json;
    use crate::clock::Clock;
    use rand::{rngs::StdRng, SeedableRng};
    use serde_json::json;

    #[test]
    fn page_line_with_binary_title() {
        let line = TruthLine::page(
            "wl_0",
            7,
            Action::Move,
            json!({"page_namespace": 1, "page_title": binary_json(b"A\xff")}),
        )
        .at(Clock::at_start().advance(&mut StdRng::seed_from_u64(0)))
        .prior(json!({"page_namespace": 0, "page_title": binary_json("Zürich".as_bytes())}));
        let text = serde_json::to_string(&line).unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(value["key"], "wl_0:7");
        assert_eq!(value["entity"], "page");
        assert_eq!(value["action"], "move");
        assert_eq!(value["data"]["page_title"], json!({"base64": "Qf8="}));
        assert_eq!(value["prior"]["page_title"], "Zürich");
        assert!(value["entity_ts"]
            .as_str()
            .is_some_and(|ts| ts.starts_with("2026-01-01T00:00:")));
    }

    #[test]
    fn optional_fields_are_omitted_and_keys_follow_the_spec() {
        let line = TruthLine::remote_user_group(
            "wl_1",
            "otherwiki",
            "User_3",
            "sysop",
            Action::ExpiryChange,
            json!({}),
        );
        let text = serde_json::to_string(&line).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"wiki":"wl_1","entity":"user_group","action":"expiry_change","key":"otherwiki:User_3:sysop","data":{}}"#
        );
        let local = TruthLine::user_group("wl_1", 3, "bot", Action::Add, json!({}));
        assert_eq!(local.key, "wl_1:3:bot");
    }
}
