//! Inserts, updates and deletes on revision, archive and logging in two wiki databases and
//! on an uncaptured table give exactly the expected records, in the expected topics and order.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread")]
async fn row_changes_become_the_expected_records() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("records");
    let (a, b) = (format!("{name}_a"), format!("{name}_b"));
    let mut conn = db().await;
    create_wiki(&mut conn, &a).await;
    create_wiki(&mut conn, &b).await;
    let mut mwcdc = Connector::new(&name, server_id, "", "");
    mwcdc.start();

    exec(&mut conn, &format!("INSERT INTO `{a}`.revision (rev_id, rev_page, rev_timestamp, rev_sha1) VALUES (1, 10, '20261126080000', 'aaa'), (2, 10, '20261126080100', 'bbb')")).await;
    exec(&mut conn, &format!("BEGIN; INSERT INTO `{b}`.archive (ar_id, ar_title, ar_comment_id, ar_actor, ar_timestamp, ar_rev_id) VALUES (5, 'Main_Page', 1, 2, '20261126070000', 77); INSERT INTO `{b}`.logging (log_id, log_type, log_action, log_timestamp, log_actor, log_title, log_comment_id, log_params) VALUES (9, 'delete', 'delete', '20261126080200', 2, 'Main_Page', 1, 'a:0:{{}}'); COMMIT")).await;
    exec(
        &mut conn,
        &format!("UPDATE `{a}`.revision SET rev_deleted = 1 WHERE rev_id = 1"),
    )
    .await;
    exec(
        &mut conn,
        &format!("INSERT INTO `{a}`.page (page_namespace, page_title) VALUES (0, 'Uncaptured')"),
    )
    .await;
    exec(
        &mut conn,
        &format!("DELETE FROM `{b}`.archive WHERE ar_id = 5"),
    )
    .await;
    exec(
        &mut conn,
        &format!("DELETE FROM `{a}`.revision WHERE rev_id = 2"),
    )
    .await;

    let msgs = read_topics(&name, Duration::from_secs(30), |m| m.len() >= 10);
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());

    let by_topic: BTreeMap<&str, Vec<&Msg>> = msgs.iter().fold(BTreeMap::new(), |mut acc, m| {
        acc.entry(m.topic.as_str()).or_default().push(m);
        acc
    });
    let topics: Vec<&str> = by_topic.keys().copied().collect();
    assert_eq!(
        topics,
        vec![
            format!("{name}.{a}.revision").as_str(),
            format!("{name}.{b}.archive").as_str(),
            format!("{name}.{b}.logging").as_str(),
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>(),
        "no topic for the uncaptured page table"
    );

    let summary = |topic: &str| -> Vec<(serde_json::Value, String)> {
        by_topic[topic]
            .iter()
            .map(|m| {
                (
                    m.key.clone(),
                    m.value
                        .get("op")
                        .and_then(|o| o.as_str())
                        .unwrap_or("tombstone")
                        .to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        summary(&format!("{name}.{a}.revision")),
        vec![
            (json!({"rev_id": 1}), "c".to_string()),
            (json!({"rev_id": 2}), "c".to_string()),
            (json!({"rev_id": 1}), "u".to_string()),
            (json!({"rev_id": 2}), "d".to_string()),
            (json!({"rev_id": 2}), "tombstone".to_string()),
        ]
    );
    assert_eq!(
        summary(&format!("{name}.{b}.archive")),
        vec![
            (json!({"ar_id": 5}), "c".to_string()),
            (json!({"ar_id": 5}), "d".to_string()),
            (json!({"ar_id": 5}), "tombstone".to_string()),
        ]
    );
    assert_eq!(
        summary(&format!("{name}.{b}.logging")),
        vec![(json!({"log_id": 9}), "c".to_string())]
    );

    let rev = &by_topic[format!("{name}.{a}.revision").as_str()];
    let first = &rev[0].value;
    assert_eq!(first["before"], serde_json::Value::Null);
    assert_eq!(
        first["after"],
        json!({"rev_id": 1, "rev_page": 10, "rev_comment_id": 0, "rev_actor": 0,
               "rev_timestamp": "20261126080000", "rev_minor_edit": 0, "rev_deleted": 0,
               "rev_len": null, "rev_parent_id": null, "rev_sha1": "aaa"})
    );
    assert_eq!(first["source"]["db"], a.as_str());
    assert_eq!(first["source"]["table"], "revision");
    assert_eq!(first["source"]["connector"], "mwcdc");
    assert_eq!(first["source"]["name"], name.as_str());
    assert_eq!(first["source"]["snapshot"], "false");
    assert_eq!(first["transaction"]["total_order"], 1);
    assert_eq!(rev[1].value["transaction"]["total_order"], 2);
    assert_eq!(
        rev[1].value["transaction"]["id"],
        first["transaction"]["id"]
    );
    let gtid = first["source"]["gtid"].as_str().expect("gtid");
    assert_eq!(rev[0].id, format!("{gtid}/0/0"));
    assert_eq!(rev[1].id, format!("{gtid}/0/1"));
    assert_eq!(rev[1].value["source"]["row"], 1);
    // The update: before and after images.
    assert_eq!(rev[2].value["before"]["rev_deleted"], 0);
    assert_eq!(rev[2].value["after"]["rev_deleted"], 1);
    // The delete: before image only, then a tombstone with the same key.
    assert_eq!(rev[3].value["before"]["rev_id"], 2);
    assert_eq!(rev[3].value["after"], serde_json::Value::Null);
    assert_eq!(rev[4].id, format!("{}/tombstone", rev[3].id));

    // archive and logging were one transaction: order across tables and within each.
    let ar = &by_topic[format!("{name}.{b}.archive").as_str()][0].value;
    let log = &by_topic[format!("{name}.{b}.logging").as_str()][0].value;
    assert_eq!(ar["transaction"]["id"], log["transaction"]["id"]);
    assert_eq!(ar["transaction"]["total_order"], 1);
    assert_eq!(log["transaction"]["total_order"], 2);
    assert_eq!(log["transaction"]["data_collection_order"], 1);
    assert_eq!(log["after"]["log_params"], "a:0:{}");

    let ids: std::collections::HashSet<&str> = msgs.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), msgs.len(), "every record has its own mwcdc.id");

    // The checkpoint covers the last transaction.
    let (status, out, err) = mwcdc.command_output(&["checkpoint", "show"]);
    assert!(status.success(), "{err}");
    let cp: serde_json::Value = serde_json::from_str(&out).expect("checkpoint JSON");
    assert_eq!(cp["name"], name.as_str());
    assert_eq!(cp["flavor"], "mariadb");
    let last_gtid = rev[3].value["source"]["gtid"].as_str().expect("gtid");
    let seq = |g: &str| {
        g.rsplit('-')
            .next()
            .and_then(|s| s.parse::<u64>().ok())
            .expect("seq")
    };
    assert!(
        cp["gtid"]
            .as_str()
            .expect("gtid")
            .split(',')
            .any(|g| seq(g) >= seq(last_gtid)),
        "checkpoint {cp} covers {last_gtid}"
    );
    drop_dbs(&mut conn, &[&a, &b]).await;
}
