//! Clear failures and special statements: purged binlogs, a STATEMENT-format session, XA
//! rollback and commit, ALTER TABLE while streaming, TRUNCATE, a wrong server setting and a
//! wrong configuration.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use serde_json::json;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread")]
async fn purged_binlog_gives_a_clear_error() {
    let (name, server_id) = unique("purged");
    let mut conn = db().await;
    create_wiki(&mut conn, &name).await;
    let mut mwcdc = Connector::new(&name, server_id, "", "");
    {
        let _shared = SERVER.read().await;
        mwcdc.start();
        exec(&mut conn, &format!("INSERT INTO `{name}`.revision (rev_id, rev_page, rev_timestamp) VALUES (1, 1, '20261126080000')")).await;
        read_topics(&name, Duration::from_secs(30), |m| !m.is_empty());
        assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    }
    let (_, out, _) = mwcdc.command_output(&["checkpoint", "show"]);
    let checkpoint: serde_json::Value = serde_json::from_str(&out).expect("checkpoint");
    // Nobody else may read old binlogs while they are purged.
    let _exclusive = SERVER.write().await;
    for _ in 0..2 {
        exec(&mut conn, "FLUSH BINARY LOGS").await;
        exec(&mut conn, &format!("INSERT INTO `{name}`.logging (log_actor, log_comment_id, log_params) VALUES (1, 1, '')")).await;
    }
    let newest: String = conn
        .query_first::<mysql_async::Row, _>("SHOW MASTER STATUS")
        .await
        .expect("master status")
        .and_then(|row| row.get(0))
        .expect("binlog on");
    exec(&mut conn, &format!("PURGE BINARY LOGS TO '{newest}'")).await;
    let (status, _, err) = mwcdc.command_output(&["run"]);
    assert_eq!(status.code(), Some(3), "{err}");
    let gtid = checkpoint["gtid"].as_str().expect("gtid");
    let (_, after, _) = mwcdc.command_output(&["checkpoint", "show"]);
    let after: serde_json::Value = serde_json::from_str(&after).expect("checkpoint");
    assert_eq!(
        after["gtid"], checkpoint["gtid"],
        "nothing is checkpointed past the gap"
    );
    assert!(
        err.contains(&format!("no longer has the binlogs for position {gtid}")),
        "{err}"
    );
    assert!(
        err.contains("The oldest position the server still has is"),
        "{err}"
    );
    assert!(err.contains("mwcdc checkpoint set"), "{err}");
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn statement_format_on_a_captured_table_stops_with_the_setting() {
    let _shared = SERVER.read().await;
    let (name, mut conn, mut mwcdc) = started_wiki("stmt", "").await;
    exec(&mut conn, "SET SESSION binlog_format = 'STATEMENT'").await;
    exec(&mut conn, &format!("INSERT INTO `{name}`.page (page_namespace, page_title) VALUES (0, 'fine: not captured')")).await;
    exec(&mut conn, &format!("INSERT INTO `{name}`.revision (rev_id, rev_page, rev_timestamp) VALUES (1, 1, '20261126080000')")).await;
    let gtid: String = conn
        .query_first("SELECT @@last_gtid")
        .await
        .expect("pos")
        .expect("pos");
    let status = mwcdc.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(3), "{}", mwcdc.log());
    let log = mwcdc.log();
    assert!(
        log.contains(&format!("transaction {gtid}")),
        "names the GTID {gtid}: {log}"
    );
    assert!(log.contains("binlog_format=ROW"), "{log}");
    assert!(log.contains(&format!("{name}.revision")), "{log}");
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn xa_rollback_publishes_nothing_and_xa_commit_publishes_the_rows() {
    let _shared = SERVER.read().await;
    let (name, mut conn, mut mwcdc) = started_wiki("xa", "").await;
    for (xid, rev, outcome) in [("rb", 1, "ROLLBACK"), ("cm", 2, "COMMIT")] {
        exec(&mut conn, &format!("XA START '{name}{xid}'")).await;
        exec(&mut conn, &format!("INSERT INTO `{name}`.revision (rev_id, rev_page, rev_timestamp) VALUES ({rev}, 1, '20261126080000')")).await;
        exec(&mut conn, &format!("XA END '{name}{xid}'")).await;
        exec(&mut conn, &format!("XA PREPARE '{name}{xid}'")).await;
        exec(&mut conn, &format!("XA {outcome} '{name}{xid}'")).await;
    }
    exec(&mut conn, &format!("INSERT INTO `{name}`.logging (log_id, log_actor, log_comment_id, log_params) VALUES (1, 1, 1, 'marker')")).await;
    let msgs = read_topics(&name, Duration::from_secs(30), |m| {
        m.iter().any(|m| m.topic.ends_with(".logging"))
    });
    // Let anything that would follow arrive too.
    let msgs = read_topics(&name, Duration::from_secs(2), |m| m.len() > msgs.len());
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    let revisions: Vec<_> = msgs
        .iter()
        .filter(|m| m.topic.ends_with(".revision"))
        .collect();
    assert_eq!(revisions.len(), 1, "{revisions:?}");
    assert_eq!(revisions[0].key, json!({"rev_id": 2}));
    assert_eq!(revisions[0].value["op"], "c");
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_xa_commit_prepared_before_the_start_publishes_the_prepared_rows() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("xaearly");
    let mut conn = db().await;
    create_wiki(&mut conn, &name).await;
    let xid = format!("{name}x");
    exec(&mut conn, &format!("XA START '{xid}'")).await;
    exec(&mut conn, &format!("INSERT INTO `{name}`.revision (rev_id, rev_page, rev_timestamp) VALUES (7, 1, '20261126080000')")).await;
    exec(&mut conn, &format!("XA END '{xid}'")).await;
    exec(&mut conn, &format!("XA PREPARE '{xid}'")).await;
    // The run starts after the PREPARE: only the COMMIT is in its stream.
    let after_prepare = gtid_position(&mut conn).await;
    let mut mwcdc = Connector::new(
        &name,
        server_id,
        &format!("start = \"{after_prepare}\""),
        "",
    );
    mwcdc.start();
    exec(&mut conn, &format!("XA COMMIT '{xid}'")).await;
    exec(&mut conn, &format!("INSERT INTO `{name}`.logging (log_id, log_actor, log_comment_id, log_params) VALUES (1, 1, 1, 'marker')")).await;
    let msgs = read_topics(&name, Duration::from_secs(30), |m| {
        m.iter().any(|m| m.topic.ends_with(".logging"))
    });
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    let revisions: Vec<_> = msgs
        .iter()
        .filter(|m| m.topic.ends_with(".revision"))
        .collect();
    assert_eq!(revisions.len(), 1, "{msgs:?}\n{}", mwcdc.log());
    assert_eq!(revisions[0].key, json!({"rev_id": 7}));
    assert!(
        mwcdc
            .log()
            .contains("the XA PREPARE group before the start position was read again"),
        "{}",
        mwcdc.log()
    );
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn changed_output_settings_stop_an_exactly_once_restart_and_warn_at_least_once() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("settings");
    let mut conn = db().await;
    create_wiki(&mut conn, &name).await;
    let mut mwcdc = Connector::new(&name, server_id, "", "delivery = \"exactly-once\"");
    mwcdc.start();
    exec(&mut conn, &format!("INSERT INTO `{name}`.revision (rev_id, rev_page, rev_timestamp) VALUES (1, 1, '20261126080000')")).await;
    read_topics(&name, Duration::from_secs(30), |m| !m.is_empty());
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    // The record indexes would shift: the exactly-once restart refuses, naming the key.
    let mwcdc = mwcdc.with_env("MWCDC_OUTPUT_TOMBSTONES", "false");
    let (status, _, err) = mwcdc.command_output(&["run"]);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("output.tombstones changed since the checkpoint"),
        "{err}"
    );
    assert!(
        err.contains("checkpoint reset") && err.contains("topic_prefix"),
        "{err}"
    );
    // At least once, the same change is a warning and the run goes on.
    let mut mwcdc = mwcdc.with_env("MWCDC_SINK_DELIVERY", "at-least-once");
    mwcdc.start();
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    assert!(
        mwcdc
            .log()
            .contains("output settings changed since the checkpoint was written"),
        "{}",
        mwcdc.log()
    );
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn alter_table_while_streaming_is_reflected_and_truncate_is_a_record() {
    let _shared = SERVER.read().await;
    let (name, mut conn, mut mwcdc) = started_wiki("ddl", "").await;
    exec(&mut conn, &format!("INSERT INTO `{name}`.revision (rev_id, rev_page, rev_timestamp) VALUES (1, 1, '20261126080000')")).await;
    exec(
        &mut conn,
        &format!("ALTER TABLE `{name}`.revision ADD COLUMN rev_extra INT NOT NULL DEFAULT 7"),
    )
    .await;
    exec(&mut conn, &format!("INSERT INTO `{name}`.revision (rev_id, rev_page, rev_timestamp) VALUES (2, 1, '20261126080000')")).await;
    exec(&mut conn, &format!("TRUNCATE TABLE `{name}`.revision")).await;
    let msgs = read_topics(&name, Duration::from_secs(30), |m| m.len() >= 3);
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(msgs[0].value["after"].get("rev_extra").is_none());
    assert_eq!(msgs[1].value["after"]["rev_extra"], 7);
    assert_eq!(msgs[2].value["op"], "t");
    assert_eq!(msgs[2].key, serde_json::Value::Null);
    assert_eq!(msgs[2].value["source"]["table"], "revision");
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_server_setting_names_the_setting_and_the_fix() {
    let (name, server_id) = unique("setting");
    let mwcdc = Connector::new(&name, server_id, "", "");
    let mut conn = db().await;
    let _exclusive = SERVER.write().await;
    exec(&mut conn, "SET GLOBAL binlog_row_metadata = 'MINIMAL'").await;
    let (status, _, err) = mwcdc.command_output(&["run"]);
    exec(&mut conn, "SET GLOBAL binlog_row_metadata = 'FULL'").await;
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("binlog_row_metadata is MINIMAL"), "{err}");
    assert!(
        err.contains("SET GLOBAL binlog_row_metadata = FULL"),
        "{err}"
    );
}

#[test]
fn an_unknown_configuration_key_is_named() {
    let (name, server_id) = unique("config");
    let mwcdc = Connector::new(&name, server_id, "server_idd = 5", "");
    let (status, _, err) = mwcdc.command_output(&["run"]);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("source.server_idd"), "{err}");
}

/// The GTID sequence number of the checkpoint of `mwcdc` (all test writes are in domain 0).
fn checkpoint_seq(mwcdc: &Connector) -> u64 {
    let (status, out, err) = mwcdc.command_output(&["checkpoint", "show"]);
    assert!(status.success(), "{err}");
    let checkpoint: serde_json::Value = serde_json::from_str(&out).expect("checkpoint");
    gtid_seq(checkpoint["gtid"].as_str().expect("gtid"))
}

/// The sequence number of the domain-0 GTID in a position.
fn gtid_seq(position: &str) -> u64 {
    position
        .split(',')
        .find(|g| g.starts_with("0-"))
        .and_then(|g| g.rsplit('-').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Inserts a row into `db.big` in its own transaction; returns the transaction's GTID seq.
async fn insert_big(conn: &mut mysql_async::Conn, db: &str, id: u32, bytes: usize) -> u64 {
    conn.exec_drop(
        format!("INSERT INTO `{db}`.big (id, body) VALUES (?, ?)"),
        (id, vec![b'x'; bytes]),
    )
    .await
    .expect("insert");
    let gtid: String = conn
        .query_first("SELECT @@last_gtid")
        .await
        .expect("last gtid")
        .expect("a gtid");
    gtid_seq(&gtid)
}

/// A database with a table `big (id, body LONGBLOB)` and a connector capturing it.
async fn big_rows(test: &str, sink_extra: &str) -> (String, mysql_async::Conn, Connector) {
    let (name, server_id) = unique(test);
    let mut conn = db().await;
    exec(&mut conn, &format!("CREATE DATABASE `{name}`")).await;
    exec(
        &mut conn,
        &format!("CREATE TABLE `{name}`.big (id INT PRIMARY KEY, body LONGBLOB) ENGINE=InnoDB"),
    )
    .await;
    let mut mwcdc = Connector::new(
        &name,
        server_id,
        &format!("include = [\"{name}.big\"]"),
        sink_extra,
    );
    mwcdc.start();
    (name, conn, mwcdc)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversize_record_stops_naming_its_row_before_the_checkpoint_passes_it() {
    let _shared = SERVER.read().await;
    let (name, mut conn, mut mwcdc) = big_rows("oversize", "").await;
    insert_big(&mut conn, &name, 1, 10).await;
    // 5 MB of body: more than the 4,000,000 bytes of message.max.bytes the tests set.
    let big = insert_big(&mut conn, &name, 2, 5_000_000).await;
    insert_big(&mut conn, &name, 3, 10).await;
    let status = mwcdc.wait(Duration::from_secs(60));
    assert!(!status.success(), "{}", mwcdc.log());
    let log = mwcdc.log();
    for part in [
        format!("row {name}.big"),
        r#"key {"id":2}"#.to_string(),
        "more than message.max.bytes = 4000000".to_string(),
        r#"oversize = "skip""#.to_string(),
    ] {
        assert!(log.contains(&part), "the error names {part}: {log}");
    }
    assert!(
        checkpoint_seq(&mwcdc) < big,
        "the checkpoint stays before the oversize record's transaction"
    );
    let msgs = read_topics(&name, Duration::from_secs(10), |m| !m.is_empty());
    assert!(
        msgs.iter().all(|m| m.key != json!({"id": 3})),
        "nothing after the oversize record is written"
    );
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversize_record_becomes_a_marker_when_skipping_is_configured() {
    let _shared = SERVER.read().await;
    let (name, mut conn, mut mwcdc) = big_rows("oversize_skip", "oversize = \"skip\"").await;
    insert_big(&mut conn, &name, 1, 10).await;
    insert_big(&mut conn, &name, 2, 5_000_000).await;
    insert_big(&mut conn, &name, 3, 10).await;
    let msgs = read_topics(&name, Duration::from_secs(60), |m| changes(m).len() >= 3);
    let changes = changes(&msgs);
    assert_eq!(changes.len(), 3, "{changes:#?}");
    let marker = changes
        .iter()
        .find(|m| m.key == json!({"id": 2}))
        .expect("a record under the oversize row's key");
    let oversize = &marker.value["oversize"];
    assert_eq!(oversize["db"], json!(name));
    assert_eq!(oversize["table"], json!("big"));
    assert_eq!(oversize["limit"], json!(4_000_000));
    assert!(oversize["size"].as_u64().expect("size") > 5_000_000);
    assert_eq!(oversize["id"], json!(marker.id));
    mwcdc_test_support::schemas::validate_oversize_marker(&marker.value);
    assert!(
        changes.iter().any(|m| m.key == json!({"id": 3})),
        "later rows follow"
    );
    assert!(
        mwcdc.log().contains("replaced by an oversize marker"),
        "{}",
        mwcdc.log()
    );
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupted_event_stops_with_its_position_and_both_checksums() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("corrupt");
    let mut conn = db().await;
    create_wiki(&mut conn, &name).await;
    let server: std::net::SocketAddr = {
        let admin = mysql_async::Opts::from_url(&mysql_url()).expect("URL");
        format!("{}:{}", admin.ip_or_hostname(), admin.tcp_port())
            .parse()
            .expect("address")
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let proxy = crate::proxy::Proxy::start(port, server);
    let mut mwcdc = Connector::at(
        &name,
        server_id,
        [&proxy.address(), &kafka()],
        [&format!("include = [\"{name}.revision\"]"), "", ROWS_ONLY],
    );
    mwcdc.start();
    let insert = |id: u32| {
        format!("INSERT INTO `{name}`.revision (rev_id, rev_page, rev_timestamp) VALUES ({id}, 1, '20261126080000')")
    };
    exec(&mut conn, &insert(1)).await;
    read_topics(&name, Duration::from_secs(30), |m| !m.is_empty());
    proxy.corrupt_next_row_event();
    exec(&mut conn, &insert(2)).await;
    let corrupted: String = conn
        .query_first("SELECT @@last_gtid")
        .await
        .expect("last gtid")
        .expect("a gtid");
    let status = mwcdc.wait(Duration::from_secs(60));
    assert!(!status.success(), "{}", mwcdc.log());
    assert_eq!(proxy.corrupted(), 1);
    let log = mwcdc.log();
    assert!(
        log.contains("cannot decode the binlog event at mariadb-bin."),
        "{log}"
    );
    assert!(
        log.contains("checksum mismatch: the event says 0x"),
        "{log}"
    );
    assert!(log.contains(", its bytes give 0x"), "{log}");
    assert!(
        checkpoint_seq(&mwcdc) < gtid_seq(&corrupted),
        "the checkpoint stays before the corrupted transaction"
    );
    drop_dbs(&mut conn, &[&name]).await;
}
