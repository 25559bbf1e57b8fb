//! The MediaWiki workload generator's ground truth and its comparison with the entity
//! records read back from Kafka, shared by the entity and chaos tests.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use clap::Parser;
use serde_json::Value;

use crate::harness::Msg;

/// One ground-truth line of `mwcdc-workload`.
#[derive(Debug, Clone)]
pub struct Expected {
    /// `revision`, `page`, `log` or `user_group`.
    pub entity: String,
    /// The action.
    pub action: String,
    /// The whole line.
    pub line: Value,
}

/// Runs the generator with `args` (after `--url`, `--db-prefix` and `--truth`) against the
/// server at `url` into databases `<prefix>0..`; returns its ground truth by entity and Kafka
/// key, in commit order, and the number of transactions it wrote.
pub async fn run_workload(url: &str, prefix: &str, dir: &Path, args: &[&str]) -> (Truth, u64) {
    let truth = dir.join(format!("{prefix}truth.jsonl"));
    let mut argv = vec![
        "mwcdc-workload",
        "--url",
        url,
        "--db-prefix",
        prefix,
        "--truth",
        truth.to_str().expect("path"),
    ];
    argv.extend_from_slice(args);
    let args = mwcdc_workload::Args::parse_from(argv);
    args.validate().expect("workload arguments");
    let summary = mwcdc_workload::run(&args).await.expect("workload run");
    eprintln!("workload: {summary}");
    (load_truth(&truth), summary.transactions())
}

/// Reads a ground truth file: its lines by entity and Kafka key, in commit order.
pub fn load_truth(truth: &Path) -> Truth {
    let mut by_key: BTreeMap<(String, String), Vec<Expected>> = BTreeMap::new();
    for line in std::fs::read_to_string(truth).expect("truth").lines() {
        let line: Value = serde_json::from_str(line).expect("truth line is JSON");
        let field = |k: &str| line[k].as_str().expect("truth field").to_string();
        by_key
            .entry((field("entity"), field("key")))
            .or_default()
            .push(Expected {
                entity: field("entity"),
                action: field("action"),
                line,
            });
    }
    by_key
}

/// Whether every field of `expected` (an object) has the same value in `actual`.
pub fn subset_mismatch(expected: &Value, actual: &Value) -> Option<String> {
    let fields = expected.as_object()?;
    fields
        .iter()
        .find(|(k, v)| actual.get(k.as_str()) != Some(v))
        .map(|(k, v)| {
            format!(
                "{k}: expected {v}, got {}",
                actual.get(k.as_str()).unwrap_or(&Value::Null)
            )
        })
}

/// Entity records by entity and Kafka key, first occurrence of each id, in partition order;
/// and the number of repeated ids.
pub fn entity_records(msgs: &[Msg]) -> (BTreeMap<(String, String), Vec<&Msg>>, usize) {
    let mut seen = HashSet::new();
    let mut dups = 0;
    let mut by_key: BTreeMap<(String, String), Vec<&Msg>> = BTreeMap::new();
    for m in msgs.iter().filter(|m| m.topic.contains(".entity.")) {
        if !seen.insert(m.id.clone()) {
            dups += 1;
            continue;
        }
        let key = m.key.as_str().expect("entity keys are strings").to_string();
        let entity = m.value["entity"].as_str().unwrap_or_default().to_string();
        by_key.entry((entity, key)).or_default().push(m);
    }
    (by_key, dups)
}

/// The number of entity records among `msgs`.
pub fn entity_count(msgs: &[Msg]) -> usize {
    msgs.iter().filter(|m| m.topic.contains(".entity.")).count()
}

/// Truth by entity and Kafka key.
pub type Truth = BTreeMap<(String, String), Vec<Expected>>;

/// What a comparison of Kafka with the truth found.
pub struct Comparison {
    /// Keys whose records differ from the truth.
    pub problems: Vec<String>,
    /// Keys the truth does not have.
    pub extra: Vec<(String, String)>,
    /// Records compared (first occurrences).
    pub checked: usize,
    /// Repeated ids.
    pub dups: usize,
    /// Truth lines without their record.
    pub lost: usize,
}

/// Compares the entity records in `msgs` with `truth`: the same (entity, action) sequence per
/// key, the truth's `data` and `prior` fields and `entity_ts` equal, every record valid by
/// its JSON Schema, no key the truth lacks.
pub fn compare(truth: &Truth, msgs: &[Msg]) -> Comparison {
    let (actual, dups) = entity_records(msgs);
    let mut problems = Vec::new();
    let mut lost = 0;
    for (key, want) in truth {
        let got = actual.get(key).map(Vec::as_slice).unwrap_or_default();
        let want_seq: Vec<(&str, &str)> = want
            .iter()
            .map(|e| (e.entity.as_str(), e.action.as_str()))
            .collect();
        let got_seq: Vec<(&str, &str)> = got
            .iter()
            .map(|m| {
                (
                    m.value["entity"].as_str().unwrap_or_default(),
                    m.value["action"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        let mut unmatched: Vec<&(&str, &str)> = got_seq.iter().collect();
        for w in &want_seq {
            match unmatched.iter().position(|g| *g == w) {
                Some(i) => {
                    unmatched.swap_remove(i);
                }
                None => lost += 1,
            }
        }
        if want_seq != got_seq {
            problems.push(format!("{key:?}: expected {want_seq:?}, got {got_seq:?}"));
            continue;
        }
        for (e, m) in want.iter().zip(got) {
            for part in ["data", "prior"] {
                if let Some(why) = subset_mismatch(&e.line[part], &m.value[part]) {
                    problems.push(format!("{key:?} {} {part} {why}", e.action));
                }
            }
            if let Some(ts) = e.line.get("entity_ts") {
                if *ts != m.value["entity_ts"] {
                    problems.push(format!(
                        "{key:?} {}: entity_ts {ts} != {}",
                        e.action, m.value["entity_ts"]
                    ));
                }
            }
            mwcdc_test_support::schemas::validate_entity(&m.value);
        }
    }
    let extra = actual
        .keys()
        .filter(|k| !truth.contains_key(*k))
        .cloned()
        .collect();
    let checked = actual.values().map(Vec::len).sum();
    Comparison {
        problems,
        extra,
        checked,
        dups,
        lost,
    }
}

impl Comparison {
    /// Asserts that Kafka held exactly the `expected` truth records, once each.
    pub fn assert_exact(&self, expected: usize) {
        eprintln!(
            "entities: {expected} expected, {} records checked, {} duplicates, {} problems, {} extra keys",
            self.checked,
            self.dups,
            self.problems.len(),
            self.extra.len()
        );
        assert!(
            self.problems.is_empty(),
            "{} problems, first: {:#?}",
            self.problems.len(),
            &self.problems[..self.problems.len().min(20)]
        );
        assert!(
            self.extra.is_empty(),
            "records of entities the workload did not touch: {:?}",
            &self.extra[..self.extra.len().min(20)]
        );
        assert_eq!(self.checked, expected);
        assert_eq!(self.dups, 0, "no restart, no duplicates");
    }
}
