//! Nothing is lost across restarts: a clean stop resumes from the checkpoint without
//! duplicates; SIGKILL in the middle of a stream of thousands of transactions, then a
//! restart, leaves every change in Kafka at least once, in order per row.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use rand::{Rng, SeedableRng};

use crate::harness::*;

/// What the writer did to one row, in order: (op, value of the probe column).
type Truth = BTreeMap<(String, String, u64), Vec<(String, u64)>>;

/// Writes `txns` transactions spread over `dbs` (one writer task per database, so each
/// row's changes happen in a known order) and returns the ground truth.
async fn write_workload(dbs: &[String], txns: usize, seed: u64) -> Truth {
    let per_db = txns / dbs.len();
    let mut tasks = Vec::new();
    for (n, dbname) in dbs.iter().enumerate() {
        let dbname = dbname.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed + n as u64);
            let mut conn = db().await;
            let mut truth: Truth = BTreeMap::new();
            let mut live: Vec<u64> = Vec::new();
            let mut next_rev = 1u64;
            let mut next_log = 1u64;
            for _ in 0..per_db {
                let roll = rng.random_range(0..100);
                if roll < 45 || live.is_empty() {
                    let (id, len) = (next_rev, rng.random_range(1..10_000u64));
                    next_rev += 1;
                    exec(&mut conn, &format!("INSERT INTO `{dbname}`.revision (rev_id, rev_page, rev_timestamp, rev_len) VALUES ({id}, 1, '20261126080000', {len})")).await;
                    truth.entry((dbname.clone(), "revision".into(), id)).or_default().push(("c".into(), len));
                    live.push(id);
                } else if roll < 70 {
                    let id = live[rng.random_range(0..live.len())];
                    let len = rng.random_range(10_000..20_000u64);
                    exec(&mut conn, &format!("UPDATE `{dbname}`.revision SET rev_len = {len} WHERE rev_id = {id}")).await;
                    truth.entry((dbname.clone(), "revision".into(), id)).or_default().push(("u".into(), len));
                } else if roll < 80 {
                    // A page deletion: the revision moves to the archive in one transaction.
                    let id = live.swap_remove(rng.random_range(0..live.len()));
                    exec(&mut conn, &format!("BEGIN; INSERT INTO `{dbname}`.archive (ar_id, ar_comment_id, ar_actor, ar_timestamp, ar_rev_id, ar_len) VALUES ({id}, 1, 1, '20261126080000', {id}, {id}); DELETE FROM `{dbname}`.revision WHERE rev_id = {id}; COMMIT")).await;
                    truth.entry((dbname.clone(), "archive".into(), id)).or_default().push(("c".into(), id));
                    truth.entry((dbname.clone(), "revision".into(), id)).or_default().push(("d".into(), 0));
                } else {
                    let id = next_log;
                    next_log += 1;
                    exec(&mut conn, &format!("INSERT INTO `{dbname}`.logging (log_id, log_actor, log_comment_id, log_params, log_page) VALUES ({id}, 1, 1, 'a:0:{{}}', {id})")).await;
                    truth.entry((dbname.clone(), "logging".into(), id)).or_default().push(("c".into(), id));
                }
            }
            truth
        }));
    }
    let mut truth = Truth::new();
    for t in tasks {
        truth.extend(t.await.expect("writer"));
    }
    truth
}

fn expected_records(truth: &Truth) -> usize {
    truth.values().map(Vec::len).sum()
}

/// Checks Kafka against the ground truth: every change present, each row's changes in
/// order (judged on the first occurrence of each `mwcdc.id`), and every duplicate an id
/// seen before. Returns the number of duplicates.
fn verify(prefix: &str, truth: &Truth, msgs: &[Msg]) -> usize {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut duplicates = 0;
    let mut actual: HashMap<(String, String, u64), Vec<(String, u64)>> = HashMap::new();
    for m in changes(msgs) {
        if !seen.insert(m.id.as_str()) {
            duplicates += 1;
            continue;
        }
        let db = m.value["source"]["db"].as_str().expect("db").to_string();
        let table = m.value["source"]["table"]
            .as_str()
            .expect("table")
            .to_string();
        assert_eq!(m.topic, format!("{prefix}.{db}.{table}"));
        let op = m.value["op"].as_str().expect("op").to_string();
        let row = if op == "d" {
            &m.value["before"]
        } else {
            &m.value["after"]
        };
        let (id, probe) = match table.as_str() {
            "revision" => (
                row["rev_id"].as_u64(),
                if op == "d" {
                    Some(0)
                } else {
                    row["rev_len"].as_u64()
                },
            ),
            "archive" => (row["ar_id"].as_u64(), row["ar_len"].as_u64()),
            _ => (row["log_id"].as_u64(), row["log_page"].as_u64()),
        };
        actual
            .entry((db, table, id.expect("key column")))
            .or_default()
            .push((op, probe.expect("probe column")));
    }
    for (key, want) in truth {
        let got = actual.remove(key).unwrap_or_default();
        assert_eq!(
            &got, want,
            "changes of {key:?} in Kafka (first occurrences, in order)"
        );
    }
    assert!(
        actual.is_empty(),
        "records for rows the writer never touched: {actual:?}"
    );
    duplicates
}

#[tokio::test(flavor = "multi_thread")]
async fn clean_stop_and_restart_resume_from_the_checkpoint() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("restart");
    let dbs = vec![format!("{name}_a")];
    let mut conn = db().await;
    create_wiki(&mut conn, &dbs[0]).await;
    let mut mwcdc = Connector::new(&name, server_id, "", "");
    mwcdc.start();
    let mut truth = write_workload(&dbs, 60, 1).await;
    // Wait until everything so far is in Kafka, then stop cleanly.
    let n = expected_records(&truth);
    read_topics(&name, Duration::from_secs(30), |m| changes(m).len() >= n);
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    // Written while mwcdc is down: picked up from the checkpoint.
    let more = vec![format!("{name}_b")];
    create_wiki(&mut conn, &more[0]).await;
    truth.extend(write_workload(&more, 60, 2).await);
    mwcdc.start();
    assert!(
        mwcdc.log().contains("resuming from the checkpoint"),
        "{}",
        mwcdc.log()
    );
    let n = expected_records(&truth);
    let msgs = read_topics(&name, Duration::from_secs(60), |m| changes(m).len() >= n);
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    let dups = verify(&name, &truth, &msgs);
    assert_eq!(dups, 0, "a clean stop checkpoints everything it delivered");
    drop_dbs(&mut conn, &[&dbs[0], &more[0]]).await;
}

/// SIGKILLs mwcdc `kills` times at random moments while `txns` transactions are written to
/// three databases, restarting it each time, then checks Kafka against the ground truth.
async fn kill_while_streaming(test: &str, txns: usize, kills: usize, seed: u64) {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique(test);
    let dbs: Vec<String> = (0..3).map(|i| format!("{name}_w{i}")).collect();
    let mut conn = db().await;
    for d in &dbs {
        create_wiki(&mut conn, d).await;
    }
    let mut mwcdc = Connector::new(&name, server_id, "", "");
    mwcdc.start();
    let writer = tokio::spawn({
        let dbs = dbs.clone();
        async move { write_workload(&dbs, txns, seed).await }
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for k in 0..kills {
        let pause = Duration::from_millis(rng.random_range(300..2500));
        tokio::time::sleep(pause).await;
        mwcdc.kill();
        eprintln!("{test}: SIGKILL {} after {pause:?}", k + 1);
        mwcdc.start();
    }
    let truth = writer.await.expect("writer");
    let n = expected_records(&truth);
    let msgs = read_topics(&name, Duration::from_secs(120), |m| {
        changes(m)
            .iter()
            .map(|m| m.id.as_str())
            .collect::<HashSet<_>>()
            .len()
            >= n
    });
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    let dups = verify(&name, &truth, &msgs);
    eprintln!(
        "{test}: {txns} transactions, {n} changes checked, 0 lost, 0 out of order, {dups} duplicates (ids seen before)"
    );
    drop_dbs(
        &mut conn,
        &dbs.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_in_a_stream_of_thousands_of_transactions_loses_nothing() {
    kill_while_streaming("sigkill", 3_000, 1, 7).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_transactions_with_three_sigkills() {
    kill_while_streaming("tenk", 10_000, 3, 42).await;
}
