//! Runs the workload against the server: schema, then every operation's transactions, each
//! as one multi-statement query, with its truth lines written once it has committed.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use crate::cli::Args;
use crate::schema;
use crate::truth::TruthWriter;
use crate::txn::Txn;
use crate::workload::Workload;

/// What a run did, for the summary line.
pub struct Summary {
    ops: BTreeMap<&'static str, u64>,
    transactions: u64,
    truth_lines: u64,
    elapsed: Duration,
}

impl Summary {
    /// The transactions the run committed.
    pub fn transactions(&self) -> u64 {
        self.transactions
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total: u64 = self.ops.values().sum();
        let kinds: Vec<String> = self
            .ops
            .iter()
            .map(|(label, n)| format!("{label}={n}"))
            .collect();
        write!(
            f,
            "mwcdc-workload: {total} ops ({}), {} transactions, {} truth lines, {:.1}s",
            kinds.join(" "),
            self.transactions,
            self.truth_lines,
            self.elapsed.as_secs_f64()
        )
    }
}

/// Connects, prepares the databases, runs every operation and writes the truth file.
pub async fn run(args: &Args) -> Result<Summary> {
    let started = Instant::now();
    let mut workload = Workload::new(args)?;
    let mut conn = Conn::new(args.connect_opts()?)
        .await
        .context("connecting to the server")?;
    prepare_schema(&mut conn, args).await?;
    let mut truth = TruthWriter::create(&args.truth)?;
    let pacer = Pacer::new(args.rate);
    let mut ops = BTreeMap::new();
    let mut transactions = 0;
    let mut index = 0;
    while let Some(outcome) = workload.next_op()? {
        pacer.wait(index).await;
        for txn in &outcome.txns {
            execute(&mut conn, txn)
                .await
                .with_context(|| format!("operation {index} ({})", outcome.label))?;
            truth.write(txn.truth_lines())?;
        }
        transactions += outcome.txns.len() as u64;
        *ops.entry(outcome.label).or_insert(0) += 1;
        index += 1;
    }
    let truth_lines = truth.finish()?;
    conn.disconnect().await.context("disconnecting")?;
    Ok(Summary {
        ops,
        transactions,
        truth_lines,
        elapsed: started.elapsed(),
    })
}

/// Recreates the databases, or with `--create-schema false` creates what is missing and
/// checks that the tables are empty (the generator assigns every id itself).
async fn prepare_schema(conn: &mut Conn, args: &Args) -> Result<()> {
    for db in args.wiki_names() {
        let statements = if args.create_schema {
            schema::recreate(&db)
        } else {
            schema::ensure(&db)
        };
        for statement in statements {
            conn.query_drop(statement)
                .await
                .with_context(|| format!("creating the schema of {db}"))?;
        }
        if !args.create_schema {
            let filled: Vec<String> = conn.query(schema::non_empty_tables(&db)).await?;
            if !filled.is_empty() {
                bail!(
                    "{db} has rows in {}: the generator needs empty tables",
                    filled.join(", ")
                );
            }
        }
    }
    Ok(())
}

/// Sends one transaction; on failure rolls back what the multi-statement query left open.
async fn execute(conn: &mut Conn, txn: &Txn) -> Result<()> {
    if let Err(err) = conn.query_drop(txn.query()).await {
        // The failed statement ended the query; the transaction is still open.
        conn.query_drop("ROLLBACK").await.ok();
        return Err(err.into());
    }
    Ok(())
}

/// Holds the operation rate: operation i starts no earlier than i / rate seconds in.
struct Pacer {
    start: tokio::time::Instant,
    rate: u32,
}

impl Pacer {
    fn new(rate: u32) -> Self {
        Pacer {
            start: tokio::time::Instant::now(),
            rate,
        }
    }

    async fn wait(&self, op: u64) {
        if self.rate > 0 {
            let due = Duration::from_secs_f64(op as f64 / f64::from(self.rate));
            tokio::time::sleep_until(self.start + due).await;
        }
    }
}
