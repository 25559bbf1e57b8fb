//! The source against the real server: reconnecting after the dump connection is killed,
//! MariaDB's compressed binlog events, tables without a primary key, and moving the
//! checkpoint with `mwcdc checkpoint set|reset`.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use serde_json::json;

use crate::harness::*;

async fn insert_revisions(conn: &mut mysql_async::Conn, db: &str, ids: std::ops::Range<u64>) {
    for id in ids {
        exec(conn, &format!("INSERT INTO `{db}`.revision (rev_id, rev_page, rev_timestamp) VALUES ({id}, 1, '20261126080000')")).await;
    }
}

fn rev_ids(msgs: &[Msg]) -> Vec<u64> {
    changes(msgs)
        .iter()
        .filter_map(|m| m.key["rev_id"].as_u64())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_dump_connection_is_reestablished_without_loss() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("reconnect");
    let user = format!("u{server_id}");
    let mut conn = db().await;
    create_wiki(&mut conn, &name).await;
    create_user(
        &mut conn,
        &user,
        "pw",
        "REPLICATION SLAVE, REPLICATION CLIENT, SELECT",
    )
    .await;
    let mut mwcdc = Connector::with_user(&name, server_id, "", "", &user, "pw");
    mwcdc.start();
    insert_revisions(&mut conn, &name, 1..21).await;
    read_topics(&name, Duration::from_secs(30), |m| m.len() >= 20);
    let dumps: Vec<u64> = conn
        .exec("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND COMMAND LIKE 'Binlog Dump%'", (user.as_str(),))
        .await
        .expect("processlist");
    assert_eq!(dumps.len(), 1, "one dump connection of {user}");
    exec(&mut conn, &format!("KILL {}", dumps[0])).await;
    insert_revisions(&mut conn, &name, 21..41).await;
    mwcdc.wait_for_log("reconnecting", Duration::from_secs(30));
    let msgs = read_topics(&name, Duration::from_secs(60), |m| m.len() >= 40);
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    let mut ids = rev_ids(&msgs);
    ids.sort_unstable();
    assert_eq!(
        ids,
        (1..41).collect::<Vec<_>>(),
        "every change exactly once"
    );
    exec(&mut conn, &format!("DROP USER '{user}'@'%'")).await;
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn compressed_binlog_events_are_decompressed() {
    let (name, server_id) = unique("compressed");
    let mut conn = db().await;
    create_wiki(&mut conn, &name).await;
    let _exclusive = SERVER.write().await;
    let mut mwcdc = Connector::new(&name, server_id, "", "");
    mwcdc.start();
    exec(&mut conn, "SET GLOBAL log_bin_compress = ON").await;
    exec(&mut conn, "SET GLOBAL log_bin_compress_min_len = 10").await;
    // A new session picks the global setting up.
    let mut writer = db().await;
    let sha = "x".repeat(32);
    exec(&mut writer, &format!("INSERT INTO `{name}`.revision (rev_id, rev_page, rev_timestamp, rev_sha1) VALUES (1, 1, '20261126080000', '{sha}'), (2, 1, '20261126080000', '{sha}')")).await;
    exec(
        &mut writer,
        &format!("UPDATE `{name}`.revision SET rev_len = 99 WHERE rev_id = 1"),
    )
    .await;
    exec(
        &mut writer,
        &format!("DELETE FROM `{name}`.revision WHERE rev_id = 2"),
    )
    .await;
    exec(&mut writer, &format!("ALTER TABLE `{name}`.revision COMMENT = 'a compressed query event, long enough to be compressed'")).await;
    let msgs = read_topics(&name, Duration::from_secs(30), |m| changes(m).len() >= 4);
    exec(&mut conn, "SET GLOBAL log_bin_compress = OFF").await;
    exec(&mut conn, "SET GLOBAL log_bin_compress_min_len = 256").await;
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    let c = changes(&msgs);
    assert_eq!(c.len(), 4, "{msgs:?}");
    assert_eq!(c[0].value["after"]["rev_sha1"], sha.as_str());
    assert_eq!(c[2].value["op"], "u");
    assert_eq!(c[2].value["after"]["rev_len"], 99);
    assert_eq!(c[3].value["op"], "d");
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tables_without_a_primary_key_use_a_unique_key_or_a_null_key() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("keys");
    let mut conn = db().await;
    exec(&mut conn, &format!("CREATE DATABASE `{name}`")).await;
    exec(&mut conn, &format!("CREATE TABLE `{name}`.uk (a INT NULL, b INT NOT NULL, c VARBINARY(10), UNIQUE KEY a_nullable (a), UNIQUE KEY b_not_null (b)) ENGINE=InnoDB")).await;
    exec(
        &mut conn,
        &format!("CREATE TABLE `{name}`.nokey (a INT, b INT) ENGINE=InnoDB"),
    )
    .await;
    let mut mwcdc = Connector::new(&name, server_id, &format!("include = [\"{name}.*\"]"), "");
    mwcdc.start();
    exec(
        &mut conn,
        &format!("INSERT INTO `{name}`.uk VALUES (1, 2, 'x')"),
    )
    .await;
    exec(
        &mut conn,
        &format!("INSERT INTO `{name}`.nokey VALUES (1, 2)"),
    )
    .await;
    let msgs = read_topics(&name, Duration::from_secs(30), |m| m.len() >= 2);
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    let key_of = |table: &str| {
        msgs.iter()
            .find(|m| m.topic.ends_with(table))
            .map(|m| m.key.clone())
    };
    assert_eq!(
        key_of(".uk"),
        Some(json!({"b": 2})),
        "the unique key without NULL columns"
    );
    assert_eq!(key_of(".nokey"), Some(serde_json::Value::Null));
    assert!(
        mwcdc
            .log()
            .contains("no primary key and no unique key without NULL columns"),
        "{}",
        mwcdc.log()
    );
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn checkpoint_set_and_reset_move_the_start() {
    let _shared = SERVER.read().await;
    let (name, mut conn, mut mwcdc) = started_wiki("cpset", "").await;
    insert_revisions(&mut conn, &name, 1..2).await;
    read_topics(&name, Duration::from_secs(30), |m| !m.is_empty());
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    // Written while stopped: 2, then 3. Skip 2 by moving the checkpoint past it.
    insert_revisions(&mut conn, &name, 2..3).await;
    let after_two: String = conn
        .query_first("SELECT @@gtid_binlog_pos")
        .await
        .expect("pos")
        .expect("pos");
    insert_revisions(&mut conn, &name, 3..4).await;
    let (status, out, err) = mwcdc.command_output(&["checkpoint", "set", "--gtid", &after_two]);
    assert!(status.success(), "{err}");
    assert!(out.contains(&after_two), "{out}");
    mwcdc.start();
    let msgs = read_topics(&name, Duration::from_secs(30), |m| rev_ids(m).contains(&3));
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    let mut ids = rev_ids(&msgs);
    ids.sort_unstable();
    assert_eq!(ids, vec![1, 3]);
    let (status, out, _) = mwcdc.command_output(&["checkpoint", "reset"]);
    assert!(status.success());
    assert!(out.contains("removed"), "{out}");
    let (status, _, err) = mwcdc.command_output(&["checkpoint", "show"]);
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("no checkpoint stored"), "{err}");
    let (status, _, err) = mwcdc.command_output(&["checkpoint", "set", "--gtid", "not-a-gtid"]);
    assert!(!status.success());
    assert!(err.contains("not-a-gtid"), "{err}");
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn information_schema_mode_names_columns_and_refuses_a_changed_schema() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("infoschema");
    let mut conn = db().await;
    create_wiki(&mut conn, &name).await;
    let mut mwcdc = Connector::new(&name, server_id, "schema = \"information_schema\"", "");
    mwcdc.start();
    insert_revisions(&mut conn, &name, 1..2).await;
    let msgs = read_topics(&name, Duration::from_secs(30), |m| !m.is_empty());
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    assert_eq!(msgs[0].value["after"]["rev_id"], 1);
    assert_eq!(msgs[0].value["after"]["rev_timestamp"], "20261126080000");
    // A backlog across a DDL: the row is written with 10 columns, the table has 11 when
    // mwcdc reads it.
    insert_revisions(&mut conn, &name, 2..3).await;
    exec(&mut conn, "SET SESSION sql_log_bin = 0").await;
    exec(
        &mut conn,
        &format!("ALTER TABLE `{name}`.revision ADD COLUMN rev_new INT"),
    )
    .await;
    exec(&mut conn, "SET SESSION sql_log_bin = 1").await;
    let (status, _, err) = mwcdc.command_output(&["run"]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "the current schema of {name}.revision does not match"
        )),
        "{err}"
    );
    assert!(
        err.contains("the event has 10 columns, information_schema has 11"),
        "{err}"
    );
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_minimal_row_image_on_a_captured_table_stops_with_the_setting() {
    let _shared = SERVER.read().await;
    let (name, mut conn, mut mwcdc) = started_wiki("minimal", "").await;
    insert_revisions(&mut conn, &name, 1..2).await;
    exec(&mut conn, "SET SESSION binlog_row_image = 'MINIMAL'").await;
    exec(
        &mut conn,
        &format!("UPDATE `{name}`.revision SET rev_len = 5 WHERE rev_id = 1"),
    )
    .await;
    let status = mwcdc.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(3), "{}", mwcdc.log());
    let log = mwcdc.log();
    assert!(log.contains("binlog_row_image=FULL"), "{log}");
    assert!(log.contains(&format!("{name}.revision")), "{log}");
    // The insert before it was delivered and checkpointed; the update was not.
    let msgs = read_topics(&name, Duration::from_secs(10), |m| !m.is_empty());
    assert_eq!(rev_ids(&msgs), vec![1]);
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_of_the_primary_key_is_a_delete_and_a_create() {
    let _shared = SERVER.read().await;
    let (name, mut conn, mut mwcdc) = started_wiki("pkchange", "").await;
    insert_revisions(&mut conn, &name, 1..2).await;
    exec(
        &mut conn,
        &format!("UPDATE `{name}`.revision SET rev_id = 100 WHERE rev_id = 1"),
    )
    .await;
    let msgs = read_topics(&name, Duration::from_secs(30), |m| m.len() >= 4);
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    let by_key = |k: u64| -> Vec<String> {
        msgs.iter()
            .filter(|m| m.key == json!({"rev_id": k}))
            .map(|m| {
                m.value
                    .get("op")
                    .and_then(|o| o.as_str())
                    .unwrap_or("tombstone")
                    .to_string()
            })
            .collect()
    };
    assert_eq!(by_key(1), vec!["c", "d", "tombstone"]);
    assert_eq!(by_key(100), vec!["c"]);
    let create = msgs
        .iter()
        .find(|m| m.key == json!({"rev_id": 100}))
        .expect("create");
    assert!(create.id.ends_with("/newkey"), "{}", create.id);
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_server_trips_the_read_timeout_and_the_connection_is_reestablished() {
    let (name, server_id) = unique("timeout");
    let mut conn = db().await;
    create_wiki(&mut conn, &name).await;
    let pidfile = std::env::var("MWCDC_TEST_MARIADB_PIDFILE")
        .expect("MWCDC_TEST_MARIADB_PIDFILE (from `tests/services/mariadb.sh env`)");
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .expect("MariaDB pid file")
        .trim()
        .parse()
        .expect("a pid");
    // Freezing the server stalls every other test: none may run meanwhile.
    let _exclusive = SERVER.write().await;
    let mut mwcdc = Connector::new(
        &name,
        server_id,
        "read_timeout = \"3s\"\nconnect_timeout = \"2s\"",
        "",
    );
    mwcdc.start();
    insert_revisions(&mut conn, &name, 1..2).await;
    read_topics(&name, Duration::from_secs(30), |m| !m.is_empty());
    // SAFETY: kill(2) on the test MariaDB's pid: stop it (no heartbeats), then resume it.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    std::thread::sleep(Duration::from_secs(5));
    unsafe { libc::kill(pid, libc::SIGCONT) };
    mwcdc.wait_for_log("no event or heartbeat for 3s", Duration::from_secs(30));
    insert_revisions(&mut conn, &name, 2..3).await;
    let msgs = read_topics(&name, Duration::from_secs(60), |m| rev_ids(m).contains(&2));
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    let mut ids = rev_ids(&msgs);
    ids.sort_unstable();
    assert_eq!(ids, vec![1, 2]);
    drop_dbs(&mut conn, &[&name]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_replication_grant_names_the_grant() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("grant");
    let user = format!("g{server_id}");
    let mut conn = db().await;
    create_user(&mut conn, &user, "pw", "REPLICATION CLIENT, SELECT").await;
    let mwcdc = Connector::with_user(&name, server_id, "", "", &user, "pw");
    let (status, _, err) = mwcdc.command_output(&["run"]);
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("REPLICATION SLAVE"), "{err}");
    assert!(
        err.contains("GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.*"),
        "{err}"
    );
    let wrong_password = Connector::with_user(&name, server_id, "", "", &user, "wrong");
    let (status, _, err) = wrong_password.command_output(&["run"]);
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("Access denied"), "{err}");
    assert!(
        !err.contains("wrong"),
        "the password must not be printed: {err}"
    );
    exec(&mut conn, &format!("DROP USER '{user}'@'%'")).await;
}

async fn binlog_position(conn: &mut mysql_async::Conn) -> String {
    conn.query_first("SELECT @@gtid_binlog_pos")
        .await
        .expect("pos")
        .expect("pos")
}

#[tokio::test(flavor = "multi_thread")]
async fn run_stops_at_a_position_and_the_null_sink_counts_what_it_dropped() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("stopat");
    let mut conn = db().await;
    create_wiki(&mut conn, &name).await;
    let start = binlog_position(&mut conn).await;
    insert_revisions(&mut conn, &name, 1..6).await;
    let stop = binlog_position(&mut conn).await;
    insert_revisions(&mut conn, &name, 6..9).await;
    let mut mwcdc = Connector::new(&name, server_id, &format!("start = \"{start}\"\n"), "")
        .with_env("MWCDC_SINK_TYPE", "null")
        .with_env("MWCDC_SOURCE_STOP", &stop);
    mwcdc.spawn();
    let status = mwcdc.wait(Duration::from_secs(60));
    let log = mwcdc.log();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("stopped at the stop position"), "{log}");
    // Five inserts up to the stop position, one row record each; the three after it are not
    // published.
    assert!(log.contains("records=5 "), "{log}");
    let (status, out, err) = mwcdc.command_output(&["checkpoint", "show"]);
    assert!(status.success(), "{err}");
    assert!(out.contains(&format!("\"gtid\":\"{stop}\"")), "{out}");
    // Again, with the command line's --stop-at: the checkpoint is there already.
    let (status, _, err) = mwcdc.command_output(&["run", "--stop-at", &stop]);
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains("records=0 "), "{err}");
    drop_dbs(&mut conn, &[&name]).await;
}
