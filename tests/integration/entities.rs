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

#[tokio::test(flavor = "multi_thread")]
async fn the_entity_stream_equals_the_ground_truth_of_a_mediawiki_workload() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("entities");
    let prefix = format!("{name}_");
    let tables = ["revision", "archive", "logging", "page", "user_groups"]
        .map(|t| format!("\"{prefix}*.{t}\""))
        .join(", ");
    let mut mwcdc = Connector::with_output(
        &name,
        server_id,
        &format!("include = [{tables}]\ntransaction_memory = \"4MiB\""),
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
    let (actual, dups) = entity_records(&msgs);
    let mut problems = Vec::new();
    for (key, want) in &truth {
        let got = actual.get(key).map(Vec::as_slice).unwrap_or_default();
        let pairs = |xs: &mut dyn Iterator<Item = (String, String)>| xs.collect::<Vec<_>>();
        let want_seq = pairs(&mut want.iter().map(|e| (e.entity.clone(), e.action.clone())));
        let got_seq = pairs(&mut got.iter().map(|m| {
            (
                m.value["entity"].as_str().unwrap_or_default().to_string(),
                m.value["action"].as_str().unwrap_or_default().to_string(),
            )
        }));
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
    let extra: Vec<&(String, String)> = actual.keys().filter(|k| !truth.contains_key(*k)).collect();
    let checked: usize = actual.values().map(Vec::len).sum();
    eprintln!(
        "entities: {expected} expected, {checked} records checked, {} keys, {dups} duplicates, {} problems, {} extra keys",
        truth.len(),
        problems.len(),
        extra.len()
    );
    assert!(
        problems.is_empty(),
        "{} problems, first: {:#?}",
        problems.len(),
        &problems[..problems.len().min(20)]
    );
    assert!(
        extra.is_empty(),
        "records of entities the workload did not touch: {:?}",
        &extra[..extra.len().min(20)]
    );
    assert_eq!(checked, expected);
    assert_eq!(dups, 0, "no restart, no duplicates");
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
    let mut conn = db().await;
    let dbs: Vec<String> = (0..5).map(|i| format!("{prefix}{i}")).collect();
    drop_dbs(
        &mut conn,
        &dbs.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
}
