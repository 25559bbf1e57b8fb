//! `mwcdc status`: the checkpoint against the server's position.
//!
//! The checkpoint store is locked while the connector runs; the checkpoint then comes from
//! the running connector's `/status` endpoint.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, Utc};
use mwcdc_checkpoint::{CheckpointError, CheckpointStore, SnapshotProgress};
use mwcdc_position::Position;
use mwcdc_source::server;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::Config;
use crate::metrics::RunningStatus;
use crate::setup::{connect_options, load_with_password, runtime};

/// How long the running connector may take to answer `/status`.
const STATUS_TIMEOUT: Duration = Duration::from_secs(5);

/// The stored checkpoint, wherever it was read from.
#[derive(Debug, Clone, Serialize)]
pub struct StoredCheckpoint {
    /// Whether the connector is running (its store is locked).
    pub running: bool,
    /// The position, if there is one.
    pub gtid: Option<String>,
    /// The commit time of the last transaction it covers, when read from the store.
    pub commit_ts: Option<DateTime<Utc>>,
    /// The snapshot job as of the position, if one started.
    pub snapshot: Option<SnapshotProgress>,
}

/// Reads the checkpoint of `config`'s connector: from the store, or from the running
/// connector when the store is locked.
pub async fn stored_checkpoint(config: &Config) -> Result<StoredCheckpoint> {
    match CheckpointStore::open(&config.checkpoint.dir) {
        Ok(store) => {
            let checkpoint = store.load(&config.name)?;
            Ok(StoredCheckpoint {
                running: false,
                gtid: checkpoint.as_ref().map(|c| c.position.to_string()),
                commit_ts: checkpoint.as_ref().and_then(|c| c.commit_ts),
                snapshot: checkpoint.and_then(|c| c.snapshot),
            })
        }
        Err(CheckpointError::InUse { path }) => {
            let status = running_status(config).await.with_context(|| {
                format!(
                    "{} is in use by the running connector, and its /status endpoint (http.listen) did not answer",
                    path.display()
                )
            })?;
            Ok(StoredCheckpoint {
                running: true,
                gtid: status.checkpoint,
                commit_ts: status.checkpoint_commit_ts,
                snapshot: status.snapshot,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Asks the running connector's HTTP listener for `/status`.
async fn running_status(config: &Config) -> Result<RunningStatus> {
    let address = config
        .http
        .listen
        .ok_or_else(|| anyhow!("http.listen is empty"))?;
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        stream
            .write_all(b"GET /status HTTP/1.0\r\nHost: mwcdc\r\n\r\n")
            .await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(STATUS_TIMEOUT, exchange)
        .await
        .map_err(|_| anyhow!("no answer from {address} within {STATUS_TIMEOUT:?}"))?
        .with_context(|| format!("asking {address}"))?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow!("{address} sent no HTTP response"))?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(anyhow!(
            "{address} answered {}",
            head.lines().next().unwrap_or("")
        ));
    }
    serde_json::from_str(body).with_context(|| format!("the /status answer of {address}"))
}

/// The server's side of the status.
#[derive(Debug, Serialize)]
struct ServerState {
    address: String,
    version: String,
    gtid: String,
    oldest_binlog: Option<String>,
    oldest_gtid: Option<String>,
}

/// How far the checkpoint is behind the server.
#[derive(Debug, Serialize)]
struct Behind {
    /// Transactions the server has that the checkpoint does not cover.
    transactions: Option<u64>,
    /// At most this many seconds: from the checkpoint's last commit to now; 0 when caught up.
    seconds_at_most: Option<i64>,
}

/// Everything `status` prints.
#[derive(Debug, Serialize)]
struct StatusReport {
    name: String,
    checkpoint: StoredCheckpoint,
    server: ServerState,
    behind: Behind,
}

/// `mwcdc status`.
pub fn status(path: &Path, json: bool) -> Result<()> {
    let (config, password) = load_with_password(path)?;
    let status = runtime()?.block_on(gather(config, password))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", render(&status));
    }
    Ok(())
}

async fn gather(config: Config, password: Option<String>) -> Result<StatusReport> {
    let checkpoint = stored_checkpoint(&config).await?;
    let options = connect_options(&config, password);
    let mut conn = options.connect().await?;
    let (flavor, version) = server::detect_flavor(&mut conn).await?;
    let latest = server::latest_position(&mut conn, flavor).await?;
    let oldest_binlog = server::oldest_binlog(&mut conn).await?;
    let oldest_gtid = match &oldest_binlog {
        Some(_) => Some(
            server::earliest_position(&mut conn, flavor)
                .await?
                .to_string(),
        ),
        None => None,
    };
    let _ = conn.disconnect().await;
    let behind = match &checkpoint.gtid {
        Some(gtid) => {
            let position = Position::parse(flavor, gtid)
                .with_context(|| format!("the checkpoint {gtid:?}"))?;
            let transactions = position.transactions_until(&latest).ok();
            let seconds_at_most = match transactions {
                Some(0) => Some(0),
                _ => checkpoint
                    .commit_ts
                    .map(|t| (Utc::now() - t).num_seconds().max(0)),
            };
            Behind {
                transactions,
                seconds_at_most,
            }
        }
        None => Behind {
            transactions: None,
            seconds_at_most: None,
        },
    };
    Ok(StatusReport {
        name: config.name.clone(),
        checkpoint,
        server: ServerState {
            address: options.host(),
            version,
            gtid: latest.to_string(),
            oldest_binlog,
            oldest_gtid,
        },
        behind,
    })
}

fn render(s: &StatusReport) -> String {
    let unknown = || "unknown".to_string();
    let checkpoint = match (&s.checkpoint.gtid, s.checkpoint.commit_ts) {
        (Some(g), Some(t)) => format!("{g} (last commit {})", t.to_rfc3339()),
        (Some(g), None) => g.clone(),
        (None, _) => "none (the next run starts at source.start)".into(),
    };
    let behind = match (s.behind.transactions, s.behind.seconds_at_most) {
        (Some(0), _) => "0 transactions: caught up".to_string(),
        (Some(n), Some(secs)) => format!("{n} transactions, at most {secs} s"),
        (Some(n), None) => format!("{n} transactions"),
        (None, _) => unknown(),
    };
    let oldest = match (&s.server.oldest_binlog, &s.server.oldest_gtid) {
        (Some(f), Some(g)) => format!("{f} (from {g})"),
        _ => "none (binary log off?)".into(),
    };
    let snapshot = match &s.checkpoint.snapshot {
        None => String::new(),
        Some(job) => format!("snapshot       {}\n", snapshot_line(job)),
    };
    format!(
        "connector      {} ({})\ncheckpoint     {checkpoint}\n{snapshot}server         {} at {} ({})\nbehind         {behind}\noldest binlog  {oldest}\n",
        s.name,
        if s.checkpoint.running { "running" } else { "stopped" },
        if s.server.gtid.is_empty() { "(no transactions)" } else { &s.server.gtid },
        s.server.address,
        s.server.version,
    )
}

/// What `status` says of a snapshot job.
fn snapshot_line(job: &SnapshotProgress) -> String {
    match (&job.done_at, job.lanes.first()) {
        (Some(at), _) => format!(
            "job {}: done, {} rows of {} tables; the topics hold them as of {at}",
            job.job, job.rows, job.tables_done
        ),
        (None, Some(lane)) => format!(
            "job {}: {} rows of {} tables delivered; reading {}",
            job.job, job.rows, job.tables_done, lane.table
        ),
        (None, None) => format!("job {}: starting", job.job),
    }
}
