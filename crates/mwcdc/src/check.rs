//! `mwcdc check`: everything mwcdc needs, verified before it runs, one line per check
//! (`ok`, `warn` or `FAIL`, with the fix for each failure). Nothing is written anywhere: no
//! record, no checkpoint, no topic.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Result};
use mwcdc_position::{Flavor, Position};
use mwcdc_sink::KafkaSink;
use mwcdc_source::server::{self, Conn};
use mwcdc_source::{SchemaMode, TableFilter};

use crate::config::{Config, SinkType};
use crate::setup::{connect_options, load_with_password, runtime};
use crate::status::stored_checkpoint;

/// How long the brokers may take to answer.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

/// Topics named in one line at most.
const NAMED: usize = 5;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    Warn,
    Fail,
}

/// The checks' lines, printed as they are found.
#[derive(Debug, Default)]
struct Report {
    checks: usize,
    failed: usize,
}

impl Report {
    fn line(&mut self, verdict: Verdict, what: &str, detail: &str, fix: Option<&str>) {
        self.checks += 1;
        let label = match verdict {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Fail => {
                self.failed += 1;
                "FAIL"
            }
        };
        println!("{label:<4}  {what}: {detail}");
        if let Some(fix) = fix {
            println!("      fix: {fix}");
        }
    }

    fn ok(&mut self, what: &str, detail: &str) {
        self.line(Verdict::Ok, what, detail, None);
    }

    fn warn(&mut self, what: &str, detail: &str, fix: &str) {
        self.line(Verdict::Warn, what, detail, Some(fix));
    }

    fn fail(&mut self, what: &str, detail: &str, fix: &str) {
        self.line(Verdict::Fail, what, detail, Some(fix));
    }
}

/// `mwcdc check`.
pub fn check(path: &Path) -> Result<()> {
    let (config, password) = load_with_password(path)?;
    let mut report = Report::default();
    runtime()?.block_on(async {
        let captured = check_server(&config, password, &mut report).await;
        check_topic_names(&config, &captured, &mut report);
        if config.sink.kind == SinkType::Kafka {
            check_brokers(&config, &captured, &mut report);
        } else {
            report.ok("sink", "not Kafka (sink.type): no brokers to check");
        }
    });
    if report.failed > 0 {
        bail!("{} of {} checks failed", report.failed, report.checks);
    }
    Ok(())
}

/// The server checks; returns the captured tables (`db`, `table`) it found.
async fn check_server(
    config: &Config,
    password: Option<String>,
    report: &mut Report,
) -> Vec<(String, String)> {
    let options = connect_options(config, password);
    let host = options.host();
    let mut conn = match options.connect().await {
        Ok(conn) => conn,
        Err(e) => {
            report.fail(
                "server",
                &format!("cannot connect to {host}: {e}"),
                "start the server, or correct source.url, the password (MWCDC_SOURCE_PASSWORD or source.password_file) and [source.tls]",
            );
            return Vec::new();
        }
    };
    let result = server_details(config, &mut conn, &host, report).await;
    let _ = conn.disconnect().await;
    match result {
        Ok(captured) => captured,
        Err(e) => {
            report.fail(
                "server",
                &format!("a query failed: {e}"),
                "see the message; the grants above say what the user lacks",
            );
            Vec::new()
        }
    }
}

async fn server_details(
    config: &Config,
    conn: &mut Conn,
    host: &str,
    report: &mut Report,
) -> Result<Vec<(String, String)>> {
    let (flavor, version) = server::detect_flavor(conn).await?;
    let transport = match server::tls_version(conn).await? {
        Some(tls) => format!("{tls}, source.tls.mode = \"{}\"", config.source.tls.mode),
        None => "not encrypted".to_string(),
    };
    report.ok(
        "server",
        &format!("{host}: {version} ({flavor}; {transport})"),
    );
    check_grants(conn, report).await?;
    for setting in server::settings(conn, flavor, SchemaMode::Binlog).await? {
        let what = setting.name;
        let value = format!("{} = {}", setting.name, setting.actual);
        if setting.is_ok() {
            report.ok(what, &value);
        } else if what == "binlog_row_metadata"
            && config.source.schema == SchemaMode::InformationSchema
        {
            report.ok(
                what,
                &format!("{value}: not needed with source.schema = \"information_schema\""),
            );
        } else {
            report.fail(
                what,
                &format!("{value}, mwcdc needs {}", setting.expected),
                setting.fix,
            );
        }
    }
    if flavor == Flavor::MariaDb {
        let latest = server::latest_position(conn, flavor).await?;
        report.ok("gtid", &format!("gtid_binlog_pos = {latest}"));
    }
    check_server_id(config, conn, report).await?;
    check_checkpoint(config, conn, flavor, report).await?;
    captured_tables(config, conn, report).await
}

async fn check_grants(conn: &mut Conn, report: &mut Report) -> Result<()> {
    let (user, grants) = server::grants(conn).await?;
    let account = match user.rsplit_once('@') {
        Some((name, host)) => format!("'{name}'@'{host}'"),
        None => format!("'{user}'"),
    };
    let grant = |privilege: &str| format!("GRANT {privilege} ON *.* TO {account}");
    if grants.has("REPLICATION SLAVE") {
        report.ok("grant REPLICATION SLAVE", &format!("{account} has it"));
    } else {
        report.fail(
            "grant REPLICATION SLAVE",
            &format!("{account} lacks it: the binlog cannot be read"),
            &grant("REPLICATION SLAVE"),
        );
    }
    if ["REPLICATION CLIENT", "BINLOG MONITOR", "SUPER"]
        .iter()
        .any(|p| grants.has(p))
    {
        report.ok(
            "grant REPLICATION CLIENT",
            &format!("{account} has it (MariaDB shows it as BINLOG MONITOR)"),
        );
    } else {
        report.fail(
            "grant REPLICATION CLIENT",
            &format!("{account} lacks it (BINLOG MONITOR on MariaDB): positions and binlogs cannot be listed"),
            &grant("REPLICATION CLIENT"),
        );
    }
    if grants.has("SELECT") {
        report.ok("grant SELECT", &format!("{account} has it on *.*"));
    } else if !grants.select_on().is_empty() {
        report.ok(
            "grant SELECT",
            &format!("{account} has it on {}", grants.select_on().join(", ")),
        );
    } else {
        report.fail(
            "grant SELECT",
            &format!("{account} lacks it: table definitions cannot be read"),
            &format!("{} (or on each wiki database)", grant("SELECT")),
        );
    }
    Ok(())
}

async fn check_server_id(config: &Config, conn: &mut Conn, report: &mut Report) -> Result<()> {
    let id = config.source.server_id;
    let what = "server_id";
    let own = server::variable(conn, "server_id").await?;
    if own == Some(id.to_string()) {
        report.fail(
            what,
            &format!("source.server_id {id} is the server's own id"),
            "set source.server_id to an id no server or replica of this replication topology uses",
        );
        return Ok(());
    }
    let Some(replicas) = server::replicas(conn).await? else {
        report.warn(
            what,
            &format!("cannot check that no other replica uses {id}: SHOW SLAVE HOSTS needs REPLICATION MASTER ADMIN (MariaDB) or REPLICATION SLAVE (MySQL)"),
            "make sure no other replica or connector uses this id: a colliding id makes the server drop the other replica's connection",
        );
        return Ok(());
    };
    let taken: Vec<String> = replicas
        .iter()
        .filter(|r| r.server_id == id)
        .map(|r| r.address.clone())
        .collect();
    let running = stored_checkpoint_locked(config);
    match (taken.is_empty(), running) {
        (true, _) => report.ok(
            what,
            &format!("{id} is not used by any of the {} connected replicas", replicas.len()),
        ),
        (false, true) => report.warn(
            what,
            &format!("{id} is registered (by {}): this connector is running (its state directory is locked), so that is probably itself", taken.join(", ")),
            "stop this connector and check again to be sure",
        ),
        (false, false) => report.fail(
            what,
            &format!("{id} is already used by a replica ({})", taken.join(", ")),
            "set source.server_id to an unused id: a colliding id makes the server drop the other replica's connection",
        ),
    }
    Ok(())
}

/// Whether the connector's state directory is locked by a running connector.
fn stored_checkpoint_locked(config: &Config) -> bool {
    matches!(
        mwcdc_checkpoint::CheckpointStore::open(&config.checkpoint.dir),
        Err(mwcdc_checkpoint::CheckpointError::InUse { .. })
    )
}

async fn check_checkpoint(
    config: &Config,
    conn: &mut Conn,
    flavor: Flavor,
    report: &mut Report,
) -> Result<()> {
    let what = "checkpoint";
    let stored = match stored_checkpoint(config).await {
        Ok(stored) => stored,
        Err(e) => {
            report.warn(what, &format!("cannot be read: {e:#}"), "see the message");
            return Ok(());
        }
    };
    let Some(gtid) = stored.gtid else {
        report.ok(
            what,
            &format!(
                "none: the first run starts at source.start = \"{}\"",
                config.source.start
            ),
        );
        return Ok(());
    };
    let position = match Position::parse(flavor, &gtid) {
        Ok(p) => p,
        Err(e) => {
            report.fail(
                what,
                &format!("{gtid} is not a {flavor} position: {e}"),
                "point source.url at the server the checkpoint was taken from, or `mwcdc checkpoint set`/`reset`",
            );
            return Ok(());
        }
    };
    if server::oldest_binlog(conn).await?.is_none() {
        report.fail(
            what,
            &format!("{gtid}: the server has no binary logs"),
            "enable the binary log",
        );
        return Ok(());
    }
    let oldest = server::earliest_position(conn, flavor).await?;
    let latest = server::latest_position(conn, flavor).await?;
    if !position.try_covers(&oldest)? {
        report.fail(
            what,
            &format!("{gtid} is no longer in the server's binlogs (the oldest starts at {oldest})"),
            "restore the purged binlogs, read from a server that still has them, or accept the gap with `mwcdc checkpoint set --gtid <position>` (see docs/operations.md, runbook \"Binlogs purged\")",
        );
    } else if !latest.try_covers(&position)? {
        report.warn(
            what,
            &format!("{gtid} is ahead of the server's {latest}: a lagging replica, or another server's position"),
            "wait for the replica to catch up, or point source.url at the server the checkpoint was taken from",
        );
    } else {
        report.ok(
            what,
            &format!("{gtid} is in the server's binlogs (the oldest starts at {oldest})"),
        );
    }
    Ok(())
}

async fn captured_tables(
    config: &Config,
    conn: &mut Conn,
    report: &mut Report,
) -> Result<Vec<(String, String)>> {
    let filter = TableFilter::new(config.source.include.clone(), config.source.exclude.clone());
    let captured: Vec<(String, String)> = server::base_tables(conn)
        .await?
        .into_iter()
        .filter(|(db, table)| filter.captures(db, table))
        .collect();
    let databases: BTreeSet<&str> = captured.iter().map(|(db, _)| db.as_str()).collect();
    if captured.is_empty() {
        report.warn(
            "tables",
            "no table the user can see matches source.include and source.exclude",
            "check the patterns and the SELECT grant; tables created later are captured too",
        );
    } else {
        report.ok(
            "tables",
            &format!(
                "{} captured tables in {} databases",
                captured.len(),
                databases.len()
            ),
        );
    }
    Ok(captured)
}

/// The topics mwcdc would write for `captured`: each with the tables writing to it.
fn expected_topics(
    config: &Config,
    captured: &[(String, String)],
) -> BTreeMap<String, Vec<String>> {
    let mut topics: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let prefix = &config.sink.topic_prefix;
    if config.output.rows {
        for (db, table) in captured {
            topics
                .entry(config.output.topic.render(prefix, db, table))
                .or_default()
                .push(format!("{db}.{table}"));
        }
    }
    if config.output.entities {
        for entity in mwcdc_mediawiki::Entity::ALL {
            topics
                .entry(config.output.entity_topic.render(prefix, entity))
                .or_default()
                .push(format!("entity {}", entity.name()));
        }
    }
    topics
}

fn check_topic_names(config: &Config, captured: &[(String, String)], report: &mut Report) {
    let what = "topic names";
    let has_db = config.output.topic.has_db();
    let topics = expected_topics(config, captured);
    // Without {db} in the template, every wiki's table shares a topic on purpose.
    let collisions: Vec<String> = topics
        .iter()
        .filter(|(_, writers)| {
            let distinct: BTreeSet<&str> = writers
                .iter()
                .map(|w| match (has_db, w.split_once('.')) {
                    (false, Some((_, table))) if !w.starts_with("entity ") => table,
                    _ => w.as_str(),
                })
                .collect();
            distinct.len() > 1
        })
        .map(|(topic, writers)| format!("{topic} ({})", writers.join(", ")))
        .collect();
    let mut by_kafka_name: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for topic in topics.keys() {
        by_kafka_name
            .entry(topic.replace('.', "_"))
            .or_default()
            .push(topic);
    }
    let confusable: Vec<String> = by_kafka_name
        .values()
        .filter(|names| names.len() > 1)
        .map(|names| names.join(" and "))
        .collect();
    if !collisions.is_empty() {
        report.fail(
            what,
            &format!("different tables would write to one topic: {}", first(&collisions)),
            "change output.topic or output.entity_topic so that every table and entity kind has its own topic",
        );
    } else if !confusable.is_empty() {
        report.warn(
            what,
            &format!("topics differ only in '.' and '_', which Kafka's metric names do not tell apart: {}", first(&confusable)),
            "change output.topic if the brokers' metrics matter to you",
        );
    } else {
        report.ok(what, &format!("{} distinct topics", topics.len()));
    }
}

fn first(items: &[String]) -> String {
    let mut text = items
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if items.len() > NAMED {
        text.push_str(&format!("; and {} more", items.len() - NAMED));
    }
    text
}

fn check_brokers(config: &Config, captured: &[(String, String)], report: &mut Report) {
    let (ack_tx, _acks) = tokio::sync::mpsc::unbounded_channel();
    let brokers = &config.sink.brokers;
    let listed = KafkaSink::new(&config.kafka_sink(), ack_tx)
        .and_then(|sink| tokio::task::block_in_place(|| sink.topics(BROKER_TIMEOUT)));
    let listed = match listed {
        Ok(listed) => listed,
        Err(e) => {
            report.fail(
                "brokers",
                &format!("{brokers}: {e}"),
                "check sink.brokers, the network, and the security settings in [sink.properties]",
            );
            return;
        }
    };
    report.ok(
        "brokers",
        &format!("{brokers} answered ({} topics listed)", listed.len()),
    );
    let topics = expected_topics(config, captured);
    let missing: Vec<String> = topics
        .keys()
        .filter(|t| !listed.contains_key(*t))
        .cloned()
        .collect();
    let unavailable: Vec<String> = topics
        .keys()
        .filter_map(|t| {
            let health = listed.get(t)?;
            (health.unavailable > 0).then(|| {
                format!(
                    "{t} ({} of {} partitions without a leader)",
                    health.unavailable, health.partitions
                )
            })
        })
        .collect();
    if !unavailable.is_empty() {
        report.fail(
            "topics",
            &format!("not writable now: {}", first(&unavailable)),
            "bring the partitions' leaders back (broker down, or under-replicated topics)",
        );
    } else if !missing.is_empty() {
        report.warn(
            "topics",
            &format!(
                "{} of {} do not exist yet: {}",
                missing.len(),
                topics.len(),
                first(&missing)
            ),
            "the first record creates them if the brokers auto-create topics (auto.create.topics.enable); otherwise create them, with the partition count consumers expect",
        );
    } else {
        report.ok(
            "topics",
            &format!(
                "all {} exist and every partition has a leader (write permission shows at the first write; check never writes)",
                topics.len()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_topic_names_are_found() {
        let config = |topic: &str| {
            Config::parse(
                &format!("[source]\nurl = \"mysql://cdc@h:1\"\n[output]\ntopic = \"{topic}\"\n"),
                Path::new("t.toml"),
                &BTreeMap::new(),
            )
            .unwrap()
        };
        let captured = vec![
            ("en wiki".to_string(), "revision".to_string()),
            ("en_wiki".to_string(), "revision".to_string()),
            ("dewiki".to_string(), "revision".to_string()),
        ];
        let topics = expected_topics(&config("{prefix}.{db}.{table}"), &captured);
        assert_eq!(
            topics["mwcdc.en_wiki.revision"],
            vec!["en wiki.revision", "en_wiki.revision"]
        );
        assert_eq!(topics["mwcdc.entity.revision"], vec!["entity revision"]);
        // One topic per table across wikis is intended, not a collision; an entity topic is.
        let merged = expected_topics(&config("{prefix}.entity.{table}"), &captured[2..]);
        assert_eq!(
            merged["mwcdc.entity.revision"],
            vec!["dewiki.revision", "entity revision"]
        );
    }
}
