//! The entity stream against the MediaWiki workload generator's ground truth: every entity
//! change the generator caused is in Kafka, nothing else is, each entity's changes in order.

use std::time::Duration;

use serde_json::Value;

use crate::harness::*;
use crate::truth::{compare, entity_count, run_workload, Expected, Truth};

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
    let (truth, _) = run_workload(
        &mysql_url(),
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
    let (truth, _) = run_workload(
        &mysql_url(),
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
