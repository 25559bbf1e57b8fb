//! Snapshots against the real server: an `initial_only` snapshot taken while the MediaWiki
//! workload and a writer of hot rows change the tables, then the stream after it; folding the
//! row topics in partition order gives the tables exactly, row for row.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

use crate::harness::*;
use crate::truth::run_workload;

/// The MediaWiki tables the test captures and snapshots.
const TABLES: [&str; 5] = ["revision", "archive", "logging", "page", "user_groups"];

/// Rows of the hot table, and rows per chunk.
const HOT_ROWS: u64 = 5_000;
const CHUNK_ROWS: u64 = 100;

/// A column value as a row record renders it with `output.binary = "utf8"`.
fn rendered(value: mysql_async::Value) -> Value {
    match value {
        mysql_async::Value::NULL => Value::Null,
        mysql_async::Value::Int(v) => json!(v),
        mysql_async::Value::UInt(v) => json!(v),
        mysql_async::Value::Float(v) => json!(v),
        mysql_async::Value::Double(v) => json!(v),
        mysql_async::Value::Bytes(b) => match String::from_utf8(b) {
            Ok(s) => json!(s),
            Err(e) => {
                json!({"base64": base64::engine::general_purpose::STANDARD.encode(e.as_bytes())})
            }
        },
        other => panic!("a value the MediaWiki tables do not hold: {other:?}"),
    }
}

/// Every row of `db`.`table` as a record's `after` object, by its key object's text.
async fn table_rows(
    conn: &mut mysql_async::Conn,
    db: &str,
    table: &str,
    key: &[&str],
) -> HashMap<String, Value> {
    let rows: Vec<mysql_async::Row> = conn
        .exec(format!("SELECT * FROM `{db}`.`{table}`"), ())
        .await
        .unwrap_or_else(|e| panic!("{db}.{table}: {e}"));
    rows.into_iter()
        .map(|row| {
            let names: Vec<String> = row
                .columns_ref()
                .iter()
                .map(|c| c.name_str().into_owned())
                .collect();
            let after: serde_json::Map<String, Value> = names
                .into_iter()
                .zip(row.unwrap().into_iter().map(rendered))
                .collect();
            let key: serde_json::Map<String, Value> = key
                .iter()
                .map(|k| (k.to_string(), after[*k].clone()))
                .collect();
            (Value::Object(key).to_string(), Value::Object(after))
        })
        .collect()
}

/// The key columns of the captured tables.
fn key_of(table: &str) -> &'static [&'static str] {
    match table {
        "revision" => &["rev_id"],
        "archive" => &["ar_id"],
        "logging" => &["log_id"],
        "page" => &["page_id"],
        "user_groups" => &["ug_user", "ug_group"],
        _ => &["id"],
    }
}

/// Updates fifty hot rows, one in each chunk of the hot table, per transaction (every hundredth
/// transaction all of them), back to back until `stop`: a chunk of the hot table read while
/// the stream runs ahead of it then nearly always has a row changed after its read position.
async fn write_hot_rows(db: String, stop: Arc<AtomicBool>) -> u64 {
    let mut conn = crate::harness::db().await;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let offset = n % CHUNK_ROWS + 1;
        // Now and then every row at once: a transaction large enough to keep the stream
        // behind the chunks read meanwhile for a moment.
        let rows = if n % 100 == 99 {
            "id > 0".to_string()
        } else {
            format!("id % {CHUNK_ROWS} = {offset}")
        };
        conn.query_drop(format!("UPDATE `{db}`.hot SET n = n + 1 WHERE {rows}"))
            .await
            .expect("hot update");
        n += 1;
    }
    n
}

#[tokio::test(flavor = "multi_thread")]
async fn an_initial_only_snapshot_under_writes_then_the_stream_give_the_tables_exactly() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("snapshot");
    let prefix = format!("{name}_");
    let wikis: Vec<String> = (0..5).map(|i| format!("{prefix}{i}")).collect();
    let hot_db = format!("{prefix}hot");
    let mut admin = db().await;
    exec(&mut admin, &format!("CREATE DATABASE `{hot_db}`")).await;
    exec(
        &mut admin,
        &format!("CREATE TABLE `{hot_db}`.hot (id INT UNSIGNED PRIMARY KEY, n BIGINT NOT NULL)"),
    )
    .await;
    exec(
        &mut admin,
        &format!("INSERT INTO `{hot_db}`.hot SELECT seq, 0 FROM `{hot_db}`.seq_1_to_{HOT_ROWS}"),
    )
    .await;

    // The workload writes at 500 operations a second for about 20 s.
    let dir = tempfile::tempdir().expect("temp dir");
    let workload = {
        let (prefix, path) = (prefix.clone(), dir.path().to_path_buf());
        tokio::spawn(async move {
            run_workload(
                &mysql_url(),
                &prefix,
                &path,
                &[
                    "--wikis",
                    "5",
                    "--ops",
                    "10000",
                    "--rate",
                    "500",
                    "--big-pages",
                    "0",
                    "--seed",
                    "16",
                ],
            )
            .await
        })
    };
    let stop_hot = Arc::new(AtomicBool::new(false));
    let hot = tokio::spawn(write_hot_rows(hot_db.clone(), stop_hot.clone()));
    // Let the workload fill the tables for a while before the snapshot begins.
    tokio::time::sleep(Duration::from_secs(6)).await;

    let include: Vec<String> = TABLES
        .iter()
        .map(|t| format!("\"{prefix}?.{t}\""))
        .chain([format!("\"{hot_db}.hot\"")])
        .collect();
    let mut mwcdc = Connector::with_output(
        &name,
        server_id,
        &format!("include = [{}]", include.join(", ")),
        "",
        &format!(
            "rows = true\nentities = true\n[snapshot]\nmode = \"initial_only\"\nchunk_rows = {CHUNK_ROWS}"
        ),
    );
    mwcdc.spawn();
    let status = mwcdc.wait(Duration::from_secs(300));
    // The hot rows only change while the snapshot reads.
    stop_hot.store(true, Ordering::Relaxed);
    let hot_updates = hot.await.expect("hot writer");
    let log = mwcdc.log();
    assert!(
        status.success(),
        "initial_only ends with 0: {status}\n{log}"
    );
    assert!(log.contains("the snapshot job is delivered"), "{log}");
    let counters = log
        .lines()
        .find(|l| l.contains("snapshot: every table is read"))
        .expect("the job's end is logged")
        .to_string();
    let count = |field: &str| -> u64 {
        counters
            .split(&format!("{field}="))
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{field} in {counters}"))
    };
    eprintln!("snapshot: {counters}");
    assert_eq!(count("tables"), 26, "5 wikis of 5 tables and the hot table");
    assert!(count("chunks_held") > 0, "the wait path: {counters}");
    assert!(count("rows_dropped") > 0, "the drop path: {counters}");
    let (_, status_json, _) = mwcdc.command_output(&["status", "--json"]);
    let status_json: Value = serde_json::from_str(&status_json).expect("status JSON");
    let done_at = status_json["checkpoint"]["snapshot"]["done_at"].clone();
    assert!(
        done_at.is_string(),
        "status shows the job done: {status_json}"
    );

    // The workload ends; the next run in `initial` mode streams on from the checkpoint.
    let (truth, transactions) = workload.await.expect("workload task");
    eprintln!(
        "workload: {transactions} transactions, {} entity changes; {hot_updates} hot updates",
        truth.len()
    );
    let err = stream_on_to_now(&mwcdc, &mut admin).await;
    assert!(
        !err.contains("snapshot: reading"),
        "a delivered job is not read again: {err}"
    );

    // Fold every row topic in partition order: the tables, row for row.
    let msgs = read_to_end(&kafka(), &name, Duration::from_secs(120));
    let mut state: HashMap<(String, String), Value> = HashMap::new();
    let mut reads = 0;
    for m in msgs.iter().filter(|m| !m.topic.contains(".entity.")) {
        let k = (m.topic.clone(), m.key.to_string());
        match m.value["op"].as_str() {
            None => continue,
            Some("d") => {
                state.remove(&k);
            }
            Some(op) => {
                if op == "r" {
                    reads += 1;
                    mwcdc_test_support::schemas::validate_row(&m.value, Some(&m.key));
                    assert!(m.id.starts_with("snapshot/initial-"), "{}", m.id);
                }
                state.insert(k, m.value["after"].clone());
            }
        }
    }
    let mut compared = 0;
    let mut wrong = Vec::new();
    let mut tables: Vec<(String, &str)> = wikis
        .iter()
        .flat_map(|w| TABLES.iter().map(move |t| (w.clone(), *t)))
        .collect();
    tables.push((hot_db.clone(), "hot"));
    for (db, table) in &tables {
        let topic = format!("{name}.{db}.{table}");
        let rows = table_rows(&mut admin, db, table, key_of(table)).await;
        let folded: HashMap<&String, &Value> = state
            .iter()
            .filter(|((t, _), _)| *t == topic)
            .map(|((_, k), v)| (k, v))
            .collect();
        for (key, row) in &rows {
            compared += 1;
            match folded.get(key) {
                Some(after) if *after == row => {}
                Some(after) => wrong.push(format!(
                    "{topic} {key}: {after} in Kafka, {row} in the table"
                )),
                None => wrong.push(format!("{topic} {key}: in the table, not in Kafka")),
            }
        }
        for key in folded.keys().filter(|k| !rows.contains_key(**k)) {
            wrong.push(format!("{topic} {key}: in Kafka, not in the table"));
        }
    }
    eprintln!("snapshot: {compared} rows compared, {reads} snapshot rows read");
    assert!(
        wrong.is_empty(),
        "{} rows differ:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );
    assert_eq!(
        compared,
        state.len(),
        "every key in Kafka is a row of a table"
    );
    // Each MediaWiki row the snapshot published has its entity record.
    let entity_reads = changes(&msgs)
        .iter()
        .filter(|m| m.topic.contains(".entity.") && m.value["action"] == "snapshot")
        .inspect(|m| mwcdc_test_support::schemas::validate_entity(&m.value))
        .count();
    let hot_reads = msgs
        .iter()
        .filter(|m| m.topic.ends_with(".hot") && m.value["op"] == "r")
        .count();
    assert_eq!(entity_reads, reads - hot_reads);
    drop_dbs(
        &mut admin,
        &wikis
            .iter()
            .map(String::as_str)
            .chain([hot_db.as_str()])
            .collect::<Vec<_>>(),
    )
    .await;
}

/// A database `db` with table `t` of `rows` rows (`id` 1..rows, a payload), for the tests of
/// large and changing tables.
async fn numbered_table(conn: &mut mysql_async::Conn, db: &str, rows: u64) {
    exec(conn, &format!("CREATE DATABASE `{db}`")).await;
    exec(
        conn,
        &format!(
            "CREATE TABLE `{db}`.t (id BIGINT UNSIGNED PRIMARY KEY, payload VARBINARY(64) NOT NULL, n INT NOT NULL)"
        ),
    )
    .await;
    exec(
        conn,
        &format!(
            "INSERT INTO `{db}`.t SELECT seq, UNHEX(SHA2(seq, 256)), 0 FROM `{db}`.seq_1_to_{rows}"
        ),
    )
    .await;
}

/// The row records of topic `topic` folded in partition order: key text -> `after`, and the
/// number of snapshot records.
fn fold(msgs: &[Msg], topic: &str) -> (HashMap<String, Value>, usize) {
    let mut folded = Folded::default();
    for m in msgs.iter().filter(|m| m.topic == topic) {
        folded.apply(m, Value::clone);
    }
    (folded.state, folded.reads)
}

/// A row topic folded record by record: key text -> what `keep` keeps of each `after`, and
/// the number of snapshot records.
struct Folded<T> {
    state: HashMap<String, T>,
    reads: usize,
}

impl<T> Default for Folded<T> {
    fn default() -> Self {
        Self {
            state: HashMap::new(),
            reads: 0,
        }
    }
}

impl<T> Folded<T> {
    /// Applies the next record of a partition.
    fn apply(&mut self, m: &Msg, keep: impl Fn(&Value) -> T) {
        match m.value["op"].as_str() {
            None => {}
            Some("d") => {
                self.state.remove(&m.key.to_string());
            }
            Some(op) => {
                self.reads += usize::from(op == "r");
                self.state
                    .insert(m.key.to_string(), keep(&m.value["after"]));
            }
        }
    }
}

/// The values of `columns` of a row (a record's `after`) as one text.
fn digest(after: &Value, columns: &[&str]) -> String {
    let values: Vec<String> = columns.iter().map(|c| after[*c].to_string()).collect();
    values.join("|")
}

/// Whether the fold has exactly the table's rows, on the columns `columns`.
fn assert_fold_is(state: &HashMap<String, Value>, rows: &HashMap<String, Value>, columns: &[&str]) {
    let digests = |rows: &HashMap<String, Value>| -> HashMap<String, String> {
        rows.iter()
            .map(|(k, after)| (k.clone(), digest(after, columns)))
            .collect()
    };
    assert_digests_are(&digests(state), &digests(rows));
}

/// Whether the fold's row digests ([`digest`]) are exactly the table's.
fn assert_digests_are(state: &HashMap<String, String>, rows: &HashMap<String, String>) {
    let mut wrong = Vec::new();
    for (key, row) in rows {
        match state.get(key) {
            Some(after) if after == row => {}
            other => wrong.push(format!("{key}: {other:?} in Kafka, {row} in the table")),
        }
    }
    wrong.extend(
        state
            .keys()
            .filter(|k| !rows.contains_key(*k))
            .map(|k| format!("{k}: in Kafka only")),
    );
    assert!(
        wrong.is_empty(),
        "{} rows differ:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );
}

/// The digests ([`digest`]) of `columns` of every row of `db`.`table`, by the key object's
/// text of its one key column `key`: read row by row, for tables of millions of rows.
async fn table_digests(
    conn: &mut mysql_async::Conn,
    db: &str,
    table: &str,
    key: &str,
    columns: &[&str],
) -> HashMap<String, String> {
    let sql = format!("SELECT {} FROM `{db}`.`{table}`", columns.join(", "));
    let mut out = HashMap::new();
    // The binary protocol, as `table_rows`: integers come as integers.
    conn.exec_iter(sql, ())
        .await
        .unwrap_or_else(|e| panic!("{db}.{table}: {e}"))
        .for_each(|row| {
            let after: serde_json::Map<String, Value> = columns
                .iter()
                .map(|c| c.to_string())
                .zip(row.unwrap().into_iter().map(rendered))
                .collect();
            let after = Value::Object(after);
            out.insert(
                json!({ key: after[key] }).to_string(),
                digest(&after, columns),
            );
        })
        .await
        .unwrap_or_else(|e| panic!("{db}.{table}: {e}"));
    out
}

/// A connector of row records only for the tables `include` (a `db.table` glob), with the
/// `[snapshot]` lines `snapshot`.
fn row_connector(name: &str, server_id: u32, include: &str, snapshot: &str) -> Connector {
    Connector::with_output(
        name,
        server_id,
        &format!("include = [\"{include}\"]"),
        "",
        &format!("rows = true\nentities = false\n[snapshot]\n{snapshot}"),
    )
}

/// After an `initial_only` run: runs `mwcdc` in `initial` mode up to the server's position
/// now (the stream after the snapshot) and returns its stderr; it must exit 0.
async fn stream_on_to_now(mwcdc: &Connector, admin: &mut mysql_async::Conn) -> String {
    let end = gtid_position(admin).await;
    let config = std::fs::read_to_string(&mwcdc.config).expect("config");
    std::fs::write(
        &mwcdc.config,
        config.replace("\"initial_only\"", "\"initial\""),
    )
    .expect("config");
    let (status, _, err) = mwcdc.command_output(&["run", "--stop-at", &end]);
    assert!(status.success(), "{err}");
    err
}

/// Waits until the running connector's snapshot published at least `rows` rows.
fn wait_for_snapshot_rows(mwcdc: &mut Connector, rows: f64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    // The listener is up a moment after the process starts.
    let published = |m: &Connector| {
        std::net::TcpStream::connect(m.http)
            .is_ok()
            .then(|| m.metric("mwcdc_snapshot_rows_total"))
            .flatten()
            .unwrap_or(0.0)
    };
    while published(mwcdc) < rows {
        assert!(mwcdc.exited().is_none(), "mwcdc exited:\n{}", mwcdc.log());
        assert!(
            std::time::Instant::now() < deadline,
            "no {rows} snapshot rows:\n{}",
            mwcdc.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How a snapshot that is killed three times is run.
struct Kills {
    /// The connector's name prefix.
    prefix: &'static str,
    /// `sink.delivery`.
    delivery: &'static str,
    /// Rows of the table.
    rows: u64,
    /// `[snapshot]` settings besides the mode.
    snapshot: &'static str,
    /// Rows each run publishes before it is killed.
    kill_after: f64,
    /// `checkpoint.interval`: a long one leaves delivered chunks after the checkpoint at
    /// every kill, which the restarts then read again.
    checkpoint_interval: &'static str,
}

/// What a snapshot killed three times left in Kafka.
struct Killed {
    /// The `mwcdc.id`s that records of the table's row topic have more than once (one entry
    /// per record after the first).
    duplicates: Vec<String>,
    /// The snapshot records among them.
    reads: usize,
    /// The connector's log of the four runs of the job.
    log: String,
}

/// Snapshots a table of `kills.rows` rows while a writer updates, deletes and inserts rows
/// all over it, SIGKILLs the connector three times during the snapshot (each run after it
/// published `kills.kill_after` rows), lets the fourth run finish the job and streams on to
/// now. Asserts that the job was resumed three times and that the row topic folds to the
/// table, row for row.
async fn snapshot_killed_three_times(kills: Kills) -> Killed {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique(kills.prefix);
    let db = format!("{name}_big");
    let rows = kills.rows;
    let mut admin = crate::harness::db().await;
    let began = std::time::Instant::now();
    numbered_table(&mut admin, &db, rows).await;
    let filled = began.elapsed();
    let mut mwcdc = Connector::with_output(
        &name,
        server_id,
        &format!("include = [\"{db}.t\"]"),
        &format!("delivery = \"{}\"", kills.delivery),
        &format!(
            "rows = true\nentities = false\n[snapshot]\nmode = \"initial_only\"\n{}",
            kills.snapshot
        ),
    );
    let config = std::fs::read_to_string(&mwcdc.config).expect("config");
    std::fs::write(
        &mwcdc.config,
        config.replace(
            "interval = \"200ms\"",
            &format!("interval = \"{}\"", kills.checkpoint_interval),
        ),
    )
    .expect("config");
    // Four partitions: each restart compares every partition's end on its own.
    let topic = format!("{name}.{db}.t");
    create_topic(&kafka(), &topic, 4).await;
    // Changes while the snapshot runs: updates all over the table, deletes, and inserts
    // after its end.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop) = (db.clone(), stop.clone());
        tokio::spawn(async move {
            let mut conn = crate::harness::db().await;
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let id = n * 7919 % rows + 1;
                let sql = match n % 3 {
                    0 => format!("UPDATE `{db}`.t SET n = n + 1 WHERE id = {id}"),
                    1 => format!("DELETE FROM `{db}`.t WHERE id = {id}"),
                    _ => format!("INSERT INTO `{db}`.t VALUES ({}, 'new', 1)", rows + n),
                };
                conn.query_drop(sql).await.expect("write");
                n += 1;
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            n
        })
    };
    mwcdc.spawn();
    for kill in 1..=3 {
        wait_for_snapshot_rows(&mut mwcdc, kills.kill_after);
        mwcdc.kill();
        eprintln!("snapshot ({}): killed ({kill})", kills.delivery);
        mwcdc.spawn();
    }
    let status = mwcdc.wait(Duration::from_secs(300));
    assert!(status.success(), "{status}:\n{}", mwcdc.log());
    let log = mwcdc.log();
    assert_eq!(
        log.matches("snapshot: reading job=").count(),
        4,
        "the job was read in four runs"
    );
    // On the same server, each restart places its first chunks by the checkpoint's binlog
    // coordinates.
    assert!(
        !log.contains("the checkpoint's binlog coordinates are not where"),
        "{log}"
    );
    let snapshotted = began.elapsed();
    stop.store(true, Ordering::Relaxed);
    let writes = writer.await.expect("writer");
    // The stream after the snapshot, up to now.
    stream_on_to_now(&mwcdc, &mut admin).await;
    // Two million records do not fit in memory as JSON values: folded as they are read.
    let columns = ["id", "payload", "n"];
    let (mut folded, mut records, mut seen, mut duplicates) =
        (Folded::default(), 0usize, HashSet::new(), Vec::new());
    scan_to_end(&kafka(), &name, Duration::from_secs(300), |m| {
        if m.topic != topic {
            return;
        }
        records += 1;
        if !seen.insert(m.id.clone()) {
            duplicates.push(m.id.clone());
        }
        folded.apply(&m, |after| digest(after, &columns));
    });
    let table = table_digests(&mut admin, &db, "t", "id", &columns).await;
    assert_digests_are(&folded.state, &table);
    let reads = folded.reads;
    eprintln!(
        "snapshot ({}): {records} records, {reads} of them snapshot records, for {rows} rows; {writes} writes meanwhile; table filled in {filled:?}, snapshot done at {snapshotted:?}, compared at {:?}",
        kills.delivery,
        began.elapsed()
    );
    drop_dbs(&mut admin, &[&db]).await;
    Killed {
        duplicates,
        reads,
        log,
    }
}

/// Asserts that the restarts found snapshot rows their partitions already held (the skip of
/// exactly-once replays was taken, not only the writes after it); prints how many.
fn assert_replays_skipped_snapshot_rows(log: &str) {
    let skipped: u64 = log
        .lines()
        .filter(|l| l.contains("past the snapshot rows this partition already holds"))
        .filter_map(|l| l.split("rows_skipped=").nth(1))
        .filter_map(|v| {
            v.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum();
    eprintln!("snapshot: the restarts skipped {skipped} snapshot rows their partitions held");
    assert!(skipped > 0, "no restart skipped a snapshot row:\n{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_killed_three_times_resumes_from_its_checkpoint() {
    const ROWS: u64 = 200_000;
    let killed = snapshot_killed_three_times(Kills {
        prefix: "snapresume",
        delivery: "at-least-once",
        rows: ROWS,
        snapshot: "chunk_rows = 1000\nmax_rows_per_second = 40000",
        kill_after: 30_000.0,
        checkpoint_interval: "200ms",
    })
    .await;
    // Each restart reads again what its checkpoint did not cover: at most the chunk being
    // read, the records in flight and those acknowledged since the last checkpoint write.
    let again = killed.reads.saturating_sub(ROWS as usize);
    eprintln!("snapshot: {again} rows read again over 3 kills");
    assert!(again <= 3 * 20_000, "{again} rows read again");
}

/// [`snapshot_killed_three_times`] in an exactly-once mode: the restarts skipped snapshot rows
/// their partitions held, and no `mwcdc.id` is in the topic twice.
async fn killed_three_times_without_a_duplicate(kills: Kills) {
    let killed = snapshot_killed_three_times(kills).await;
    assert_replays_skipped_snapshot_rows(&killed.log);
    let duplicates = &killed.duplicates;
    assert!(
        duplicates.is_empty(),
        "{} duplicates, such as {:?}",
        duplicates.len(),
        &duplicates[..duplicates.len().min(5)]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exactly_once_snapshot_of_two_million_rows_killed_three_times_has_no_duplicate() {
    killed_three_times_without_a_duplicate(Kills {
        prefix: "snapexactly",
        delivery: "exactly-once",
        rows: 2_000_000,
        snapshot: "chunk_rows = 10000",
        kill_after: 400_000.0,
        checkpoint_interval: "2s",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transactional_snapshot_killed_three_times_has_no_duplicate() {
    killed_three_times_without_a_duplicate(Kills {
        prefix: "snaptxn",
        delivery: "transactional",
        rows: 200_000,
        snapshot: "chunk_rows = 1000\nmax_rows_per_second = 40000",
        kill_after: 30_000.0,
        checkpoint_interval: "2s",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alter_table_during_a_snapshot_waits_for_one_chunk_and_the_snapshot_reads_on() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("snapalter");
    let db = format!("{name}_alter");
    let mut admin = crate::harness::db().await;
    numbered_table(&mut admin, &db, 30_000).await;
    let mut mwcdc = row_connector(
        &name,
        server_id,
        &format!("{db}.t"),
        "mode = \"initial_only\"\nchunk_rows = 500\nmax_rows_per_second = 3000",
    );
    mwcdc.spawn();
    wait_for_snapshot_rows(&mut mwcdc, 3_000.0);
    // A whole-table read view would hold the ALTER for the ten seconds the snapshot takes.
    let started = std::time::Instant::now();
    exec(
        &mut admin,
        &format!("ALTER TABLE `{db}`.t ADD COLUMN extra INT NOT NULL DEFAULT 7"),
    )
    .await;
    let waited = started.elapsed();
    let status = mwcdc.wait(Duration::from_secs(120));
    assert!(status.success(), "{status}:\n{}", mwcdc.log());
    let log = mwcdc.log();
    assert!(log.contains("the table's columns changed"), "{log}");
    eprintln!("snapshot: the ALTER TABLE took {waited:?}");
    assert!(
        waited < Duration::from_secs(5),
        "the ALTER waited {waited:?}"
    );
    let msgs = read_to_end(&kafka(), &name, Duration::from_secs(60));
    let (state, reads) = fold(&msgs, &format!("{name}.{db}.t"));
    assert_eq!(reads, 30_000);
    let rows = table_rows(&mut admin, &db, "t", &["id"]).await;
    assert_fold_is(&state, &rows, &["id", "payload", "n"]);
    // Rows read after the ALTER have the new column, those before it do not.
    let with_extra = state.values().filter(|a| a["extra"] == 7).count();
    assert!(
        with_extra > 0 && with_extra < 30_000,
        "{with_extra} rows with the new column"
    );
    drop_dbs(&mut admin, &[&db]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_without_a_key_stops_the_snapshot_naming_it() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("snapnokey");
    let db = format!("{name}_nokey");
    let mut admin = crate::harness::db().await;
    exec(&mut admin, &format!("CREATE DATABASE `{db}`")).await;
    exec(
        &mut admin,
        &format!("CREATE TABLE `{db}`.loose (a INT, b INT)"),
    )
    .await;
    exec(
        &mut admin,
        &format!("INSERT INTO `{db}`.loose VALUES (1, 1), (1, 1)"),
    )
    .await;
    let mut mwcdc = row_connector(&name, server_id, &format!("{db}.*"), "mode = \"initial\"");
    mwcdc.spawn();
    let status = mwcdc.wait(Duration::from_secs(60));
    assert_eq!(status.code(), Some(3), "{}", mwcdc.log());
    let log = mwcdc.log();
    assert!(
        log.contains(&format!("table `{db}`.`loose` has no primary key")),
        "{log}"
    );
    drop_dbs(&mut admin, &[&db]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_xa_transaction_prepared_before_a_chunk_and_committed_after_it_is_in_the_fold() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("snapxa");
    let db = format!("{name}_xa");
    let mut admin = crate::harness::db().await;
    numbered_table(&mut admin, &db, 20_000).await;
    let mut mwcdc = row_connector(
        &name,
        server_id,
        &format!("{db}.t"),
        "mode = \"initial_only\"\nchunk_rows = 500\nmax_rows_per_second = 4000",
    );
    mwcdc.spawn();
    wait_for_snapshot_rows(&mut mwcdc, 2_000.0);
    // Prepared while the snapshot reads: rows before the cursor and after it change, one
    // is deleted, one is added; the chunks read meanwhile do not see them.
    let mut xa = crate::harness::db().await;
    let xid = format!("'{name}'");
    for sql in [
        format!("XA START {xid}"),
        format!("UPDATE `{db}`.t SET n = 100 WHERE id IN (10, 15000)"),
        format!("DELETE FROM `{db}`.t WHERE id = 15001"),
        format!("INSERT INTO `{db}`.t VALUES (30000, 'xa', 1)"),
        format!("XA END {xid}"),
        format!("XA PREPARE {xid}"),
    ] {
        exec(&mut xa, &sql).await;
    }
    wait_for_snapshot_rows(&mut mwcdc, 6_000.0);
    exec(&mut xa, &format!("XA COMMIT {xid}")).await;
    let status = mwcdc.wait(Duration::from_secs(120));
    assert!(status.success(), "{status}:\n{}", mwcdc.log());
    stream_on_to_now(&mwcdc, &mut admin).await;
    let msgs = read_to_end(&kafka(), &name, Duration::from_secs(60));
    let (state, _) = fold(&msgs, &format!("{name}.{db}.t"));
    let rows = table_rows(&mut admin, &db, "t", &["id"]).await;
    assert_eq!(rows[&json!({"id": 15000}).to_string()]["n"], 100);
    assert!(!rows.contains_key(&json!({"id": 15001}).to_string()));
    assert_fold_is(&state, &rows, &["id", "payload", "n"]);
    drop_dbs(&mut admin, &[&db]).await;
}

/// The replica's statement counters that any write would move.
const WRITE_COUNTERS: &str =
    "'Com_insert', 'Com_insert_select', 'Com_update', 'Com_update_multi', \
    'Com_delete', 'Com_delete_multi', 'Com_replace', 'Com_replace_select', 'Com_truncate', \
    'Com_create_table', 'Com_alter_table', 'Com_drop_table', 'Com_lock_tables', 'Com_flush', \
    'Com_backup', 'Com_create_db'";

async fn write_counters(conn: &mut mysql_async::Conn) -> Vec<(String, String)> {
    conn.query(format!(
        "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
         WHERE VARIABLE_NAME IN ({}) ORDER BY VARIABLE_NAME",
        WRITE_COUNTERS.to_uppercase()
    ))
    .await
    .expect("write counters")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_of_a_read_only_replica_writes_nothing_there() {
    use crate::cluster::{Cluster, Instance};
    let cluster = Cluster::start("snapshot-replica", 23_600);
    let (name, server_id) = unique("snapreplica");
    let db = format!("{name}_ro");
    let mut primary = cluster.admin(Instance::Primary).await;
    numbered_table(&mut primary, &db, 20_000).await;
    cluster.wait_for_replica().await;
    cluster
        .exec(Instance::Replica, "SET GLOBAL read_only = 1")
        .await;
    let mut replica = cluster.admin(Instance::Replica).await;
    let counters = write_counters(&mut replica).await;
    let binlog = cluster.variable(Instance::Replica, "gtid_binlog_pos").await;
    let replica_address = cluster.address(Instance::Replica).to_string();
    let mut mwcdc = Connector::at(
        &name,
        server_id,
        [&replica_address, &cluster.brokers()],
        [
            &format!("include = [\"{db}.t\"]"),
            "",
            "rows = true\nentities = false\n[snapshot]\nmode = \"initial_only\"\nchunk_rows = 1000",
        ],
    );
    mwcdc.spawn();
    let status = mwcdc.wait(Duration::from_secs(120));
    assert!(status.success(), "{status}:\n{}", mwcdc.log());
    // The least-privilege account (REPLICATION SLAVE, REPLICATION CLIENT, SELECT) read every
    // row, and the replica wrote nothing: no statement that writes, no binlog event of its own.
    let msgs = read_to_end(&cluster.brokers(), &name, Duration::from_secs(60));
    let (state, reads) = fold(&msgs, &format!("{name}.{db}.t"));
    assert_eq!(reads, 20_000);
    let rows = table_rows(&mut replica, &db, "t", &["id"]).await;
    assert_fold_is(&state, &rows, &["id", "payload", "n"]);
    assert_eq!(write_counters(&mut replica).await, counters);
    assert_eq!(
        cluster.variable(Instance::Replica, "gtid_binlog_pos").await,
        binlog
    );
    assert_eq!(cluster.variable(Instance::Replica, "read_only").await, "1");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failover_to_the_replica_in_the_middle_of_a_job_resumes_the_job_there() {
    use crate::cluster::{Cluster, Instance};
    let cluster = Cluster::start("snapshot-failover", 23_650);
    let (name, server_id) = unique("snapfailover");
    let db = format!("{name}_fo");
    let mut primary = cluster.admin(Instance::Primary).await;
    numbered_table(&mut primary, &db, 40_000).await;
    cluster.wait_for_replica().await;
    // mwcdc reads whichever server the proxy forwards to, as behind a virtual IP.
    let mut mwcdc = Connector::at(
        &name,
        server_id,
        [&cluster.mysql.address(), &cluster.brokers()],
        [
            &format!("include = [\"{db}.t\"]"),
            "",
            "rows = true\nentities = false\n[snapshot]\nmode = \"initial_only\"\nchunk_rows = 500\nmax_rows_per_second = 5000",
        ],
    );
    mwcdc.spawn();
    wait_for_snapshot_rows(&mut mwcdc, 10_000.0);
    for id in [3, 20_003, 39_003] {
        exec(
            &mut primary,
            &format!("UPDATE `{db}`.t SET n = 1 WHERE id = {id}"),
        )
        .await;
    }
    // The failover: the replica, caught up, is promoted; the primary stops; the address moves.
    cluster.wait_for_replica().await;
    drop(primary);
    cluster
        .exec(Instance::Replica, "STOP SLAVE; RESET SLAVE ALL")
        .await;
    cluster.stop(Instance::Primary);
    cluster
        .mysql
        .switch_upstream(cluster.address(Instance::Replica));
    let mut promoted = cluster.admin(Instance::Replica).await;
    for id in [5, 20_005, 39_005] {
        exec(
            &mut promoted,
            &format!("UPDATE `{db}`.t SET n = 2 WHERE id = {id}"),
        )
        .await;
    }
    // The run stops at the first chunk read on the new server, or placed by its stream ...
    let status = mwcdc.wait(Duration::from_secs(60));
    assert_eq!(status.code(), Some(1), "{}", mwcdc.log());
    let log = mwcdc.log();
    assert!(log.contains("a failover during the snapshot?"), "{log}");
    // ... and the next one resumes the job there, from its checkpoint.
    mwcdc.spawn();
    let status = mwcdc.wait(Duration::from_secs(120));
    assert!(status.success(), "{status}:\n{}", mwcdc.log());
    let log = mwcdc.log();
    assert_eq!(log.matches("snapshot: reading job=").count(), 2, "{log}");

    exec(
        &mut promoted,
        &format!("DELETE FROM `{db}`.t WHERE id IN (7, 39007)"),
    )
    .await;
    stream_on_to_now(&mwcdc, &mut promoted).await;
    let msgs = read_to_end(&cluster.brokers(), &name, Duration::from_secs(60));
    let (state, reads) = fold(&msgs, &format!("{name}.{db}.t"));
    assert!(reads >= 40_000, "{reads} snapshot records");
    let rows = table_rows(&mut promoted, &db, "t", &["id"]).await;
    assert_eq!(rows.len(), 39_998);
    assert_fold_is(&state, &rows, &["id", "payload", "n"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_dropped_during_its_snapshot_is_left_and_the_job_reads_on() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("snapdrop");
    let db = format!("{name}_drop");
    let mut admin = crate::harness::db().await;
    numbered_table(&mut admin, &db, 30_000).await;
    exec(&mut admin, &format!("CREATE TABLE `{db}`.u LIKE `{db}`.t")).await;
    exec(
        &mut admin,
        &format!("INSERT INTO `{db}`.u SELECT * FROM `{db}`.t WHERE id <= 5000"),
    )
    .await;
    let mut mwcdc = row_connector(
        &name,
        server_id,
        &format!("{db}.*"),
        "mode = \"initial_only\"\nchunk_rows = 500\nmax_rows_per_second = 5000",
    );
    mwcdc.spawn();
    wait_for_snapshot_rows(&mut mwcdc, 3_000.0);
    exec(&mut admin, &format!("DROP TABLE `{db}`.t")).await;
    let status = mwcdc.wait(Duration::from_secs(120));
    assert!(status.success(), "{status}:\n{}", mwcdc.log());
    let log = mwcdc.log();
    assert!(
        log.contains("the table was dropped during its snapshot"),
        "{log}"
    );
    let msgs = read_to_end(&kafka(), &name, Duration::from_secs(60));
    // The rows of `t` read before the DROP are published, the rest are not; `u`, after it in
    // the job's order, is read whole.
    let (_, dropped_reads) = fold(&msgs, &format!("{name}.{db}.t"));
    assert!(
        (3_000..30_000).contains(&dropped_reads),
        "{dropped_reads} rows of the dropped table"
    );
    let (state, reads) = fold(&msgs, &format!("{name}.{db}.u"));
    assert_eq!(reads, 5_000);
    let rows = table_rows(&mut admin, &db, "u", &["id"]).await;
    assert_fold_is(&state, &rows, &["id", "payload", "n"]);
    drop_dbs(&mut admin, &[&db]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn binlog_coordinates_hold_only_where_the_servers_binlog_has_their_position() {
    // What a resumed job's checkpoint coordinates are checked by: another server's binlog
    // with the same file names (after a failover) has other positions at the same offsets.
    let _shared = SERVER.read().await;
    let mut reader = mwcdc_snapshot::ChunkReader::new(cdc_connect_options());
    let (at, position) = reader.start_point().await.expect("start point");
    assert!(reader.holds(&at, &position).await.expect("holds"));
    let not_there =
        mwcdc_position::Position::parse_any(&format!("{position},77-7-7")).expect("position");
    assert!(!reader.holds(&at, &not_there).await.expect("holds"));
    let purged = mwcdc_snapshot::coordinates::Coordinates {
        file: "mariadb-bin.999999".into(),
        pos: at.pos,
    };
    assert!(!reader.holds(&purged, &position).await.expect("holds"));
}
