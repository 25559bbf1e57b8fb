//! Reading `logging.log_params`: the decoded value entity records carry, and the ids, strings
//! and group changes the folding reads in it.

use base64::Engine;
use mwcdc_record::BinaryMode;
use serde_json::Value;

use crate::entity::Action;
use crate::php::{bytes_to_json, decode_log_params, LogParams};

/// Decoded log parameters, and how they were read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Params {
    json: Value,
    flag: Option<&'static str>,
}

impl Params {
    /// Decodes a `log_params` value: serialize() output as JSON, legacy values as a list
    /// (flagged `log_params_legacy`), anything else raw by the binary rule (flagged
    /// `log_params_undecoded`), never dropped.
    pub(crate) fn decode(raw: &[u8], binary: BinaryMode) -> Self {
        match decode_log_params(raw, binary) {
            LogParams::Decoded(json) => Self { json, flag: None },
            LogParams::Legacy(json) => Self {
                json,
                flag: Some("log_params_legacy"),
            },
            LogParams::Undecodable => Self {
                json: bytes_to_json(raw, binary),
                flag: Some("log_params_undecoded"),
            },
        }
    }

    /// The parameters as JSON.
    pub(crate) fn json(&self) -> &Value {
        &self.json
    }

    /// The name of the flag field that says how the value was read, if it was not decoded.
    pub(crate) fn flag(&self) -> Option<&'static str> {
        self.flag
    }
}

/// The entries of a PHP array decoded to JSON with their PHP keys: a list's positions, an
/// object's keys (`array_diff` keeps keys, so `[1 => "sysop"]` decodes to an object).
pub(crate) fn keyed(v: &serde_json::Value) -> Vec<(String, &serde_json::Value)> {
    match v {
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (i.to_string(), item))
            .collect(),
        serde_json::Value::Object(entries) => {
            entries.iter().map(|(k, item)| (k.clone(), item)).collect()
        }
        _ => Vec::new(),
    }
}

/// An id or a number in log params: a number or a decimal string.
pub(crate) fn json_id(v: &serde_json::Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// The bytes of a string read from log params in UTF-8 mode (a string, or `{"base64"}` for
/// bytes that are not UTF-8).
pub(crate) fn param_bytes(v: &serde_json::Value) -> Option<Vec<u8>> {
    match v {
        serde_json::Value::String(s) => Some(s.as_bytes().to_vec()),
        serde_json::Value::Object(o) => o
            .get("base64")
            .and_then(|b| b.as_str())
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()),
        _ => None,
    }
}

/// One group change read from a `rights/rights` log row.
#[derive(Debug, Clone)]
pub(crate) struct GroupChange {
    /// The wiki of the user: the `@otherwiki` of the title, else the log row's.
    pub(crate) user_wiki: String,
    /// The log title without `@otherwiki`: the user name with underscores.
    pub(crate) user_name: Vec<u8>,
    pub(crate) group: Vec<u8>,
    pub(crate) expiry: Option<Vec<u8>>,
    pub(crate) prior_expiry: Option<Vec<u8>>,
}

/// The group changes a `rights/rights` or `rights/autopromote` log row records: groups
/// added, removed, or whose expiry changed, from `4::oldgroups`, `5::newgroups`,
/// `oldmetadata` and `newmetadata`. Each group's metadata is the entry under the same PHP key
/// (MediaWiki computes the new groups with `array_diff`, which keeps keys, and `array_merge`,
/// which renumbers them), not the same position.
///
/// `title` is the log row's `log_title`, `wiki` the log row's wiki.
pub(crate) fn group_changes(
    params: &Params,
    title: &[u8],
    wiki: &str,
) -> Vec<(Action, GroupChange)> {
    let params = params.json();
    let entries = |key: &str| params.get(key).map(keyed).unwrap_or_default();
    let groups = |key: &str| -> Vec<(String, Vec<u8>)> {
        entries(key)
            .into_iter()
            .filter_map(|(k, v)| Some((k, param_bytes(v)?)))
            .collect()
    };
    let (old, new) = (groups("4::oldgroups"), groups("5::newgroups"));
    let (old_meta, new_meta) = (entries("oldmetadata"), entries("newmetadata"));
    let expiry = |meta: &[(String, &serde_json::Value)], key: &str| {
        meta.iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, m)| m.get("expiry"))
            .and_then(param_bytes)
    };
    let (user_name, user_wiki) = match title.iter().position(|&b| b == b'@') {
        Some(at) => (
            title[..at].to_vec(),
            String::from_utf8_lossy(&title[at + 1..]).into_owned(),
        ),
        None => (title.to_vec(), wiki.to_string()),
    };
    let change = |group: &[u8], expiry, prior_expiry| GroupChange {
        user_wiki: user_wiki.clone(),
        user_name: user_name.clone(),
        group: group.to_vec(),
        expiry,
        prior_expiry,
    };
    let mut out = Vec::new();
    for (key, g) in &new {
        let new_expiry = expiry(&new_meta, key);
        match old.iter().find(|(_, o)| o == g) {
            None => out.push((Action::Add, change(g, new_expiry, None))),
            Some((old_key, _)) => {
                let old_expiry = expiry(&old_meta, old_key);
                if old_expiry != new_expiry {
                    out.push((Action::ExpiryChange, change(g, new_expiry, old_expiry)));
                }
            }
        }
    }
    for (key, g) in &old {
        if !new.iter().any(|(_, n)| n == g) {
            out.push((Action::Remove, change(g, None, expiry(&old_meta, key))));
        }
    }
    out
}
