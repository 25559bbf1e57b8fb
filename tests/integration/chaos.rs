//! The fault-injection run. The MediaWiki workload generator writes while mwcdc streams to
//! the broker, and a seeded schedule injects faults at random moments:
//! - SIGKILL of mwcdc and a restart;
//! - MariaDB stopped and started again;
//! - the Kafka broker stopped (a controlled shutdown) or killed (SIGKILL), and started again
//!   after up to 5 seconds;
//! - mwcdc's connection to MariaDB cut or stalled, and its connection to Kafka cut (or, in
//!   at-least-once and transactional mode, stalled), for 5 to 30 seconds, through
//!   [`crate::proxy`];
//! - a switch to a replica that is still behind mwcdc's position (the server refuses with
//!   error 1236 "not in the master's binlog" until it catches up), and a failover to that
//!   replica, promoted and written to (new server id in the GTIDs).
//!
//! Kafka is then compared with the generator's ground truth (every entity change, in order)
//! and with the database (every row of every captured table, from the row records), and the
//! figures are printed: transactions written, records checked, lost, out of order per key
//! (judged on the first occurrence of each `mwcdc.id`), duplicates (each must repeat an id
//! produced before a fault). `make test` runs a small schedule in each of the three delivery modes;
//! `make chaos` (`MWCDC_CHAOS=full`) the full one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::cluster::{Cluster, Instance};
use crate::harness::*;
use crate::proxy::Mode;
use crate::truth::{compare, run_workload, Truth};

/// The size of a run.
#[derive(Debug, Clone, Copy)]
struct Scale {
    /// Workload phases on the primary before the replica scenarios.
    primary_phases: usize,
    wikis: u16,
    ops: u64,
    /// Operations per second.
    rate: u32,
    kills: usize,
    mysql_faults: usize,
    kafka_faults: usize,
    /// MariaDB restarts (between primary phases).
    restarts: usize,
    /// Broker restarts, at random moments.
    broker_restarts: usize,
    /// Shortest and longest connection fault, seconds.
    fault_secs: (u64, u64),
}

/// `make test`'s run.
const SMALL: Scale = Scale {
    primary_phases: 2,
    wikis: 2,
    ops: 300,
    rate: 100,
    kills: 4,
    mysql_faults: 2,
    kafka_faults: 2,
    restarts: 1,
    broker_restarts: 1,
    fault_secs: (5, 6),
};

/// `make chaos`'s run.
const FULL: Scale = Scale {
    primary_phases: 5,
    wikis: 3,
    ops: 2_500,
    rate: 150,
    kills: 24,
    mysql_faults: 5,
    kafka_faults: 5,
    restarts: 3,
    broker_restarts: 4,
    fault_secs: (5, 30),
};

/// Where the workload writes and mwcdc reads during a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Writes on the primary, mwcdc reads the primary.
    Primary,
    /// The replica's replication is stopped: it falls behind.
    ReplicaStopped,
    /// Writes on the primary, mwcdc reads the replica.
    ViaReplica,
    /// The replica is promoted: writes on it.
    Promoted,
}

/// A fault during a phase.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// SIGKILL, then a restart after this many milliseconds.
    Kill(u64),
    /// The MariaDB connection: cut or stalled for this many seconds.
    Mysql(Mode, u64),
    /// The Kafka connection: cut or stalled for this many seconds.
    Kafka(Mode, u64),
    /// The broker stopped (killed with SIGKILL when `killed`), then started again after this
    /// many milliseconds.
    Broker { killed: bool, down_ms: u64 },
}

/// The seeded schedule: per phase, faults at offsets (seconds) from its start.
fn schedule(
    scale: Scale,
    phases: &[Phase],
    exactly_once: bool,
    seed: u64,
) -> Vec<Vec<(f64, Fault)>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let duration = scale.ops as f64 / f64::from(scale.rate);
    let mut plan: Vec<Vec<(f64, Fault)>> = vec![Vec::new(); phases.len()];
    let secs = |rng: &mut StdRng| rng.random_range(scale.fault_secs.0..=scale.fault_secs.1);
    let mut faults = Vec::new();
    for _ in 0..scale.kills {
        faults.push(Fault::Kill(rng.random_range(200..3_000)));
    }
    for _ in 0..scale.mysql_faults {
        let mode = if rng.random_bool(0.5) {
            Mode::Cut
        } else {
            Mode::Stall
        };
        faults.push(Fault::Mysql(mode, secs(&mut rng)));
    }
    for _ in 0..scale.kafka_faults {
        // A produce request held by a stalled network and delivered after the restart that
        // followed a kill would be written twice: exactly-once mode cannot fence it without
        // broker transactions (docs/adr/0005), so its schedule cuts connections instead.
        let mode = if !exactly_once && rng.random_bool(0.5) {
            Mode::Stall
        } else {
            Mode::Cut
        };
        faults.push(Fault::Kafka(mode, secs(&mut rng)));
    }
    for _ in 0..scale.broker_restarts {
        faults.push(Fault::Broker {
            killed: rng.random_bool(0.5),
            down_ms: rng.random_range(500..5_000),
        });
    }
    for fault in faults {
        let phase = rng.random_range(0..phases.len());
        plan[phase].push((rng.random_range(0.0..duration), fault));
    }
    for faults in &mut plan {
        faults.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    plan
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The run's state: the cluster, the connector, what was written, when faults happened.
struct Run {
    cluster: Cluster,
    mwcdc: Connector,
    name: String,
    truth: Truth,
    transactions: u64,
    wikis: Vec<String>,
    /// Start and end of every fault, ms since the epoch.
    faults: Vec<(i64, i64)>,
    /// Exits nobody asked for, with the log's tail.
    unexpected_exits: Vec<String>,
    counts: BTreeMap<&'static str, usize>,
}

impl Run {
    /// Restarts mwcdc if it exited on its own (a supervisor's job), noting it.
    fn supervise(&mut self) {
        if let Some(status) = self.mwcdc.exited() {
            let log = self.mwcdc.log();
            let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join("\n");
            self.unexpected_exits.push(format!("{status}: {tail}"));
            self.mwcdc.spawn();
        }
    }

    async fn fault(&mut self, fault: Fault) {
        let start = now_ms();
        match fault {
            Fault::Kill(down_ms) => {
                self.supervise();
                self.mwcdc.kill();
                tokio::time::sleep(Duration::from_millis(down_ms)).await;
                self.mwcdc.spawn();
                *self.counts.entry("kill").or_default() += 1;
            }
            Fault::Broker { killed, down_ms } => {
                self.cluster
                    .restart_broker(killed, Duration::from_millis(down_ms))
                    .await;
                let label = if killed {
                    "broker killed"
                } else {
                    "broker stopped"
                };
                *self.counts.entry(label).or_default() += 1;
            }
            Fault::Mysql(mode, secs) | Fault::Kafka(mode, secs) => {
                let (proxy, label) = match (fault, mode) {
                    (Fault::Mysql(..), Mode::Cut) => (&self.cluster.mysql, "mysql cut"),
                    (Fault::Mysql(..), _) => (&self.cluster.mysql, "mysql stall"),
                    (_, Mode::Cut) => (&self.cluster.kafka, "kafka cut"),
                    _ => (&self.cluster.kafka, "kafka stall"),
                };
                proxy.set(mode);
                tokio::time::sleep(Duration::from_secs(secs)).await;
                proxy.set(Mode::Pass);
                *self.counts.entry(label).or_default() += 1;
            }
        }
        self.faults.push((start, now_ms()));
    }

    /// Runs one workload phase with its faults.
    async fn phase(&mut self, n: usize, target: Instance, scale: Scale, faults: &[(f64, Fault)]) {
        let prefix = format!("{}_p{n}_", self.name);
        let url = self.cluster.admin_url(target);
        let args = [
            "--wikis".to_string(),
            scale.wikis.to_string(),
            "--ops".into(),
            scale.ops.to_string(),
            "--rate".into(),
            scale.rate.to_string(),
            "--seed".into(),
            (1000 + n).to_string(),
            "--big-pages".into(),
            "1".into(),
            "--big-page-revisions".into(),
            (scale.ops / 3).to_string(),
            "--delete-batch-size".into(),
            "100".into(),
        ];
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().to_path_buf();
        let workload_prefix = prefix.clone();
        let workload = tokio::spawn(async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_workload(&url, &workload_prefix, &path, &args).await
        });
        let started = Instant::now();
        for &(at, fault) in faults {
            let wait = Duration::from_secs_f64(at).saturating_sub(started.elapsed());
            tokio::time::sleep(wait).await;
            self.supervise();
            eprintln!("chaos: phase {n}: {fault:?}");
            self.fault(fault).await;
        }
        let (truth, transactions) = workload.await.expect("workload task");
        drop(dir);
        self.transactions += transactions;
        for (key, changes) in truth {
            self.truth.entry(key).or_default().extend(changes);
        }
        self.wikis
            .extend((0..scale.wikis).map(|w| format!("{prefix}{w}")));
        self.supervise();
    }

    async fn restart_mariadb(&mut self, instance: Instance) {
        let start = now_ms();
        eprintln!("chaos: restarting the MariaDB {instance:?}");
        self.cluster.stop(instance);
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        self.cluster.start_again(instance);
        self.faults.push((start, now_ms()));
        *self.counts.entry("mariadb restart").or_default() += 1;
    }

    /// Reads the output until every truth record is there (first occurrences), or the time is
    /// up: a wait, not a count (the comparison reads everything once more).
    fn read_until_complete(&self, timeout: Duration) {
        let expected: usize = self.truth.values().map(Vec::len).sum();
        read_topics_from(&self.cluster.brokers(), &self.name, timeout, |msgs| {
            let ids: HashSet<&str> = msgs
                .iter()
                .filter(|m| m.topic.contains(".entity."))
                .map(|m| m.id.as_str())
                .collect();
            ids.len() >= expected
        });
    }
}

/// What the comparison found.
#[derive(Debug, Default)]
struct Figures {
    records: usize,
    entity_checked: usize,
    lost: usize,
    rows_lost: usize,
    out_of_order: usize,
    duplicates: usize,
    unexplained_duplicates: usize,
}

/// (GTID sequence number, index) of a record: its place in the output order. All writes are
/// in GTID domain 0, whose sequence numbers a promoted replica continues.
fn order(m: &Msg) -> (u64, u32) {
    let gtid = m.id.split('/').next().unwrap_or_default();
    let seq = gtid.rsplit('-').next().and_then(|s| s.parse().ok());
    (
        seq.unwrap_or_else(|| panic!("record id {} has no GTID", m.id)),
        m.index,
    )
}

/// Duplicates and order, per topic and key, on first occurrences.
fn check_stream(msgs: &[Msg], faults: &[(i64, i64)], figures: &mut Figures) {
    let mut first: HashMap<(&str, &str), &Msg> = HashMap::new();
    let mut last_order: HashMap<(&str, String), (u64, u32)> = HashMap::new();
    for m in msgs {
        if let Some(original) = first.get(&(m.topic.as_str(), m.id.as_str())) {
            figures.duplicates += 1;
            // A repeat comes from a replay: some fault lies between the two writes.
            let explained = faults
                .iter()
                .any(|&(start, end)| original.timestamp_ms <= end && start <= m.timestamp_ms);
            if !explained {
                figures.unexplained_duplicates += 1;
            }
            continue;
        }
        first.insert((m.topic.as_str(), m.id.as_str()), m);
        let key = (m.topic.as_str(), m.key.to_string());
        let place = order(m);
        if let Some(previous) = last_order.insert(key, place) {
            if previous > place {
                figures.out_of_order += 1;
            }
        }
    }
    figures.records = msgs.len();
}

/// The database's rows (primary keys, and `rev_deleted` of revisions) against the state the
/// row records build, for every wiki and captured table. Returns the rows missing or wrong.
async fn check_rows(
    conn: &mut mysql_async::Conn,
    name: &str,
    wikis: &[String],
    msgs: &[Msg],
) -> usize {
    // The state the row records build: the last record of each key, in partition order.
    let mut state: HashMap<(String, String), Value> = HashMap::new();
    for m in msgs.iter().filter(|m| !m.topic.contains(".entity.")) {
        let k = (m.topic.clone(), m.key.to_string());
        if m.value.is_null() || m.value["op"] == "d" {
            state.remove(&k);
        } else {
            state.insert(k, m.value["after"].clone());
        }
    }
    let tables: [(&str, &str); 5] = [
        ("revision", "JSON_OBJECT('rev_id', rev_id), rev_deleted"),
        ("archive", "JSON_OBJECT('ar_id', ar_id), NULL"),
        ("logging", "JSON_OBJECT('log_id', log_id), NULL"),
        ("page", "JSON_OBJECT('page_id', page_id), NULL"),
        (
            "user_groups",
            "JSON_OBJECT('ug_user', ug_user, 'ug_group', CAST(ug_group AS CHAR)), NULL",
        ),
    ];
    let mut wrong = 0;
    let mut rows = 0;
    for wiki in wikis {
        for (table, select) in tables {
            let topic = format!("{name}.{wiki}.{table}");
            let db_rows: Vec<(String, Option<u8>)> = conn
                .query(format!("SELECT {select} FROM `{wiki}`.`{table}`"))
                .await
                .unwrap_or_else(|e| panic!("{wiki}.{table}: {e}"));
            let mut alive: HashSet<String> = state
                .keys()
                .filter(|(t, _)| *t == topic)
                .map(|(_, k)| k.clone())
                .collect();
            for (key, rev_deleted) in db_rows {
                rows += 1;
                let key: Value = serde_json::from_str(&key).expect("JSON key");
                let key = key.to_string();
                match state.get(&(topic.clone(), key.clone())) {
                    Some(after) => {
                        alive.remove(&key);
                        if let Some(bits) = rev_deleted {
                            if after["rev_deleted"] != bits {
                                eprintln!("{topic} {key}: rev_deleted {bits} in the database, {} in Kafka", after["rev_deleted"]);
                                wrong += 1;
                            }
                        }
                    }
                    None => {
                        eprintln!("{topic} {key}: in the database, not in Kafka");
                        wrong += 1;
                    }
                }
            }
            for key in alive {
                eprintln!("{topic} {key}: in Kafka, deleted from the database");
                wrong += 1;
            }
        }
    }
    eprintln!("chaos: {rows} database rows compared with the row records");
    wrong
}

/// The whole run in one delivery mode; `base` is the first of the cluster's five ports.
async fn chaos(mode: &str, base: u16, seed: u64) {
    let full = std::env::var("MWCDC_CHAOS").is_ok_and(|v| v == "full");
    let scale = if full { FULL } else { SMALL };
    let exactly_once = mode == "exactly-once";
    let cluster = Cluster::start(mode, base);
    let (name, server_id) = unique(&format!("chaos_{}", mode.replace('-', "_")));
    let include: Vec<String> = ["revision", "archive", "logging", "page", "user_groups"]
        .iter()
        .map(|t| format!("\"{name}_*.{t}\""))
        .collect();
    let mwcdc = Connector::at(
        &name,
        server_id,
        [&cluster.mysql.address(), &cluster.brokers()],
        [
            &format!(
                "include = [{}]\nstart = \"earliest\"\nread_timeout = \"5s\"\nreconnect_max = \"4s\"",
                include.join(", ")
            ),
            &format!("delivery = \"{mode}\""),
            "rows = true\nentities = true",
        ],
    );
    let mut phases = vec![Phase::Primary; scale.primary_phases];
    phases.extend([Phase::ReplicaStopped, Phase::ViaReplica, Phase::Promoted]);
    let plan = schedule(scale, &phases, exactly_once, seed);
    let mut run = Run {
        cluster,
        mwcdc,
        name,
        truth: Truth::new(),
        transactions: 0,
        wikis: Vec::new(),
        faults: Vec::new(),
        unexpected_exits: Vec::new(),
        counts: BTreeMap::new(),
    };
    run.mwcdc.start();
    let started = Instant::now();
    let mut restarts_left = scale.restarts;
    for (n, (&phase, faults)) in phases.iter().zip(&plan).enumerate() {
        eprintln!("chaos: phase {n} {phase:?}, {} faults", faults.len());
        match phase {
            Phase::Primary => {
                run.phase(n, Instance::Primary, scale, faults).await;
                if restarts_left > 0 {
                    run.restart_mariadb(Instance::Primary).await;
                    restarts_left -= 1;
                }
            }
            Phase::ReplicaStopped => {
                run.cluster.exec(Instance::Replica, "STOP SLAVE").await;
                run.phase(n, Instance::Primary, scale, faults).await;
                // mwcdc reads everything written so far, then moves to the replica, which
                // has not: it must wait, not call it a purge.
                run.read_until_complete(Duration::from_secs(600));
                let log_before = run.mwcdc.log().len();
                let switched = now_ms();
                run.cluster
                    .mysql
                    .switch_upstream(run.cluster.address(Instance::Replica));
                let deadline = Instant::now() + Duration::from_secs(60);
                while !run.mwcdc.log()[log_before..].contains("has not reached position") {
                    assert!(
                        Instant::now() < deadline,
                        "no lagging-replica refusal:\n{}",
                        run.mwcdc.log()
                    );
                    run.supervise();
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                tokio::time::sleep(Duration::from_secs(3)).await;
                run.cluster.exec(Instance::Replica, "START SLAVE").await;
                run.cluster.wait_for_replica().await;
                run.faults.push((switched, now_ms()));
                *run.counts.entry("switch to a lagging replica").or_default() += 1;
            }
            Phase::ViaReplica => run.phase(n, Instance::Primary, scale, faults).await,
            Phase::Promoted => {
                run.cluster.wait_for_replica().await;
                let failover = now_ms();
                run.cluster
                    .exec(Instance::Replica, "STOP SLAVE; RESET SLAVE ALL")
                    .await;
                run.cluster.stop(Instance::Primary);
                run.faults.push((failover, now_ms()));
                *run.counts
                    .entry("failover to the promoted replica")
                    .or_default() += 1;
                run.phase(n, Instance::Replica, scale, faults).await;
            }
        }
    }
    let written = started.elapsed();
    // Wait until every change is there, stop, then read everything once more to the end.
    run.read_until_complete(Duration::from_secs(900));
    run.supervise();
    assert_eq!(run.mwcdc.stop().code(), Some(0), "{}", run.mwcdc.log());
    let msgs = read_to_end(&run.cluster.brokers(), &run.name, Duration::from_secs(300));
    let (_, out, _) = run.mwcdc.command_output(&["checkpoint", "show"]);
    let checkpoint: Value = serde_json::from_str(&out).expect("checkpoint");
    let server_position = run
        .cluster
        .variable(Instance::Replica, "gtid_binlog_pos")
        .await;

    let mut figures = Figures::default();
    let comparison = compare(&run.truth, &msgs);
    figures.entity_checked = comparison.checked;
    figures.lost = comparison.lost;
    check_stream(&msgs, &run.faults, &mut figures);
    let mut conn = run.cluster.admin(Instance::Replica).await;
    figures.rows_lost = check_rows(&mut conn, &run.name, &run.wikis, &msgs).await;
    let _ = conn.disconnect().await;

    eprintln!(
        "chaos {mode} ({}): {} transactions written in {:.0?}, faults {:?}; {} records read, \
         {} entity changes checked against {} in the truth, lost {} (rows missing or wrong {}), \
         out of order {}, duplicates {} ({} not explained by a fault), unexpected exits {}, \
         checkpoint {} / server {}",
        if full { "full" } else { "small" },
        run.transactions,
        written,
        run.counts,
        figures.records,
        figures.entity_checked,
        run.truth.values().map(Vec::len).sum::<usize>(),
        figures.lost,
        figures.rows_lost,
        figures.out_of_order,
        figures.duplicates,
        figures.unexplained_duplicates,
        run.unexpected_exits.len(),
        checkpoint["gtid"],
        server_position,
    );
    assert!(
        comparison.problems.is_empty(),
        "{} entity mismatches, first: {:#?}",
        comparison.problems.len(),
        &comparison.problems[..comparison.problems.len().min(10)]
    );
    assert!(
        comparison.extra.is_empty(),
        "unexpected entities: {:?}",
        comparison.extra
    );
    assert_eq!(figures.lost, 0, "lost entity changes");
    assert_eq!(figures.rows_lost, 0, "rows missing or wrong");
    assert_eq!(figures.out_of_order, 0, "out of order per key");
    assert_eq!(
        figures.unexplained_duplicates, 0,
        "duplicates without a fault before them"
    );
    if mode != "at-least-once" {
        assert_eq!(figures.duplicates, 0, "{mode} mode wrote duplicates");
    }
    assert!(
        run.unexpected_exits.is_empty(),
        "mwcdc exited: {:#?}",
        run.unexpected_exits
    );
    assert_eq!(
        checkpoint["gtid"],
        Value::from(server_position),
        "the checkpoint covers everything"
    );
    assert!(run.counts.get("kill").copied().unwrap_or(0) >= scale.kills.min(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn chaos_at_least_once_loses_nothing_and_keeps_order() {
    chaos("at-least-once", 23_300, 4).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chaos_exactly_once_writes_every_change_once() {
    chaos("exactly-once", 23_400, 5).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chaos_transactional_writes_every_change_once_and_fences_stalled_requests() {
    chaos("transactional", 23_500, 6).await;
}

#[test]
fn the_schedule_has_every_fault_and_exactly_once_never_stalls_kafka() {
    let phases = [Phase::Primary, Phase::Primary, Phase::Promoted];
    for (scale, exactly_once) in [(SMALL, false), (FULL, true), (FULL, false)] {
        let plan = schedule(scale, &phases, exactly_once, 9);
        let all: Vec<&Fault> = plan.iter().flatten().map(|(_, f)| f).collect();
        let count = |p: fn(&Fault) -> bool| all.iter().filter(|f| p(f)).count();
        assert_eq!(count(|f| matches!(f, Fault::Kill(_))), scale.kills);
        assert_eq!(count(|f| matches!(f, Fault::Mysql(..))), scale.mysql_faults);
        assert_eq!(count(|f| matches!(f, Fault::Kafka(..))), scale.kafka_faults);
        assert_eq!(
            count(|f| matches!(f, Fault::Broker { .. })),
            scale.broker_restarts
        );
        if exactly_once {
            assert_eq!(count(|f| matches!(f, Fault::Kafka(Mode::Stall, _))), 0);
        }
        assert!(all.iter().all(|f| match f {
            Fault::Mysql(_, s) | Fault::Kafka(_, s) =>
                (scale.fault_secs.0..=scale.fault_secs.1).contains(s),
            Fault::Kill(_) | Fault::Broker { .. } => true,
        }));
    }
    const { assert!(FULL.kills >= 20 && FULL.restarts >= 3 && FULL.broker_restarts >= 3) };
}
