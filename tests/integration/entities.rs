//! The entity stream against the MediaWiki workload generator's ground truth: every entity
//! change the generator caused is in Kafka, nothing else is, each entity's changes in order.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use clap::Parser;
use serde_json::Value;

use crate::harness::*;

/// One ground-truth line of `mwcdc-workload`.
#[derive(Debug, Clone)]
struct Expected {
    entity: String,
    action: String,
    line: Value,
}

/// Runs the generator with `args` (after `--url`, `--db-prefix` and `--truth`) into databases
/// `<prefix>0..` and returns its ground truth by entity and Kafka key (topic and key), in
/// commit order.
async fn run_workload(
    prefix: &str,
    dir: &Path,
    args: &[&str],
) -> BTreeMap<(String, String), Vec<Expected>> {
    let truth = dir.join("truth.jsonl");
    let url = mysql_url();
    let mut argv = vec![
        "mwcdc-workload",
        "--url",
        &url,
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
    let mut by_key: BTreeMap<(String, String), Vec<Expected>> = BTreeMap::new();
    for line in std::fs::read_to_string(&truth).expect("truth").lines() {
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
fn subset_mismatch(expected: &Value, actual: &Value) -> Option<String> {
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
fn entity_records(msgs: &[Msg]) -> (BTreeMap<(String, String), Vec<&Msg>>, usize) {
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

fn entity_count(msgs: &[Msg]) -> usize {
    msgs.iter().filter(|m| m.topic.contains(".entity.")).count()
}

/// Truth by entity and Kafka key.
type Truth = BTreeMap<(String, String), Vec<Expected>>;

/// What a comparison of Kafka with the truth found.
struct Comparison {
    problems: Vec<String>,
    extra: Vec<(String, String)>,
    checked: usize,
    dups: usize,
}

/// Compares the entity records in `msgs` with `truth`: the same (entity, action) sequence per
/// key, the truth's `data` and `prior` fields and `entity_ts` equal, every record valid by
/// its JSON Schema, no key the truth lacks.
fn compare(truth: &Truth, msgs: &[Msg]) -> Comparison {
    let (actual, dups) = entity_records(msgs);
    let mut problems = Vec::new();
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
            crate::schemas::validate_entity(&m.value);
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
    }
}

impl Comparison {
    /// Asserts that Kafka held exactly the `expected` truth records, once each.
    fn assert_exact(&self, expected: usize) {
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

fn include(prefix: &str, tables: &[&str]) -> String {
    let patterns: Vec<String> = tables
        .iter()
        .map(|t| format!("\"{prefix}*.{t}\""))
        .collect();
    format!("include = [{}]", patterns.join(", "))
}

async fn drop_wikis(prefix: &str, n: usize) {
    let mut conn = db().await;
    let dbs: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    drop_dbs(
        &mut conn,
        &dbs.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_entity_stream_equals_the_ground_truth_of_a_mediawiki_workload() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("entities");
    let prefix = format!("{name}_");
    let tables = ["revision", "archive", "logging", "page", "user_groups"];
    let mut mwcdc = Connector::with_output(
        &name,
        server_id,
        &format!(
            "{}\ntransaction_memory = \"4MiB\"",
            include(&prefix, &tables)
        ),
        "",
        "rows = false",
    );
    mwcdc.start();
    let dir = tempfile::tempdir().expect("temp dir");
    let truth = run_workload(
        &prefix,
        dir.path(),
        &[
            "--wikis",
            "5",
            "--ops",
            "20000",
            "--seed",
            "20261126",
            "--big-pages",
            "2",
            "--big-page-revisions",
            "5000",
            "--delete-batch-size",
            "1000",
        ],
    )
    .await;
    let expected: usize = truth.values().map(Vec::len).sum();
    let msgs = read_topics(&name, Duration::from_secs(600), |m| {
        entity_count(m) >= expected
    });
    compare(&truth, &msgs).assert_exact(expected);
    assert!(
        mwcdc
            .log()
            .contains("a large transaction was spilled to disk"),
        "the 5,000-revision undeletions exceed transaction_memory"
    );
    assert!(
        !mwcdc.log().contains("WARN"),
        "no warnings expected: {}",
        mwcdc.log()
    );
    mwcdc.stop();
    drop_wikis(&prefix, 5).await;
}

/// The truth as the default capture (revision, archive, logging) can tell it: page and user
/// group changes from log rows alone. Redirect changes and the redirects moves leave behind
/// have no log row; the log names users by name (the generator's `User_<id>`), carries no
/// redirect flag, gives a move's new title as text, and a removal's old expiry as `prior`.
fn as_logged(truth: Truth) -> Truth {
    let mut out = Truth::new();
    for ((entity, key), changes) in truth {
        let mut key = key;
        if entity == "user_group" {
            let parts: Vec<&str> = key.splitn(3, ':').collect();
            if let [wiki, user, group] = parts[..] {
                if user.parse::<u32>().is_ok() {
                    key = format!("{wiki}:User_{user}:{group}");
                }
            }
        }
        let kept: Vec<Expected> = changes
            .into_iter()
            .filter(|e| {
                !(e.entity == "page"
                    && (e.action == "redirect_change" || e.line.get("entity_ts").is_none()))
            })
            .map(|mut e| {
                let data = &mut e.line["data"];
                match (e.entity.as_str(), e.action.as_str()) {
                    ("page", "create") => {
                        data.as_object_mut().map(|d| d.remove("page_is_redirect"));
                    }
                    ("page", "move") => *data = Value::Null,
                    ("user_group", "remove") => {
                        data.as_object_mut().map(|d| d.remove("ug_expiry"));
                    }
                    _ => {}
                }
                e
            })
            .collect();
        if !kept.is_empty() {
            out.entry((entity, key)).or_default().extend(kept);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_default_tables_page_and_group_changes_come_from_the_log() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("entities_logged");
    let prefix = format!("{name}_");
    let mut mwcdc = Connector::with_output(
        &name,
        server_id,
        &include(&prefix, &["revision", "archive", "logging"]),
        "",
        "rows = false",
    );
    mwcdc.start();
    let dir = tempfile::tempdir().expect("temp dir");
    let truth = run_workload(
        &prefix,
        dir.path(),
        &[
            "--wikis",
            "2",
            "--ops",
            "2000",
            "--seed",
            "7",
            "--big-pages",
            "0",
        ],
    )
    .await;
    let truth = as_logged(truth);
    let expected: usize = truth.values().map(Vec::len).sum();
    let msgs = read_topics(&name, Duration::from_secs(300), |m| {
        entity_count(m) >= expected
    });
    let comparison = compare(&truth, &msgs);
    comparison.assert_exact(expected);
    let from_log = |entity: &str| {
        msgs.iter()
            .filter(|m| {
                m.value["entity"] == entity && m.value["tables"] == serde_json::json!(["logging"])
            })
            .count()
    };
    assert!(from_log("page") > 100, "page changes from log rows");
    assert!(from_log("user_group") > 50, "group changes from log rows");
    mwcdc.stop();
    drop_wikis(&prefix, 2).await;
}
