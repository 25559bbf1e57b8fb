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
