//! `mwcdc`: change data capture from MariaDB/MySQL binlogs to Kafka.
//!
//! Exit codes: 0 clean stop; 2 invalid configuration or usage; 3 the server cannot be used
//! as configured (a setting, a grant, a purged or refused position); 1 anything else.

mod batch;
mod check;
mod checkpoint;
mod config;
mod encoders;
mod http;
mod metrics;
mod pipeline;
mod run;
mod settings;
mod setup;
mod snapshot;
mod status;
mod tracker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::ConfigError;

/// mimalloc for Rust's allocations; its "override" feature also serves the C library calls
/// (`malloc`, `free`) of librdkafka.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Streams row changes from a MariaDB or MySQL binlog to Kafka, checkpointed by GTID.
#[derive(Debug, Parser)]
#[command(name = "mwcdc", version, about)]
struct Cli {
    /// Log line format on stderr. Levels come from RUST_LOG (default `info`).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Stream changes until stopped (SIGTERM/SIGINT: flush, checkpoint, exit 0).
    Run {
        /// The TOML configuration file.
        #[arg(long, short)]
        config: PathBuf,
        /// Exit 0 once every transaction up to this GTID position is delivered and
        /// checkpointed (overrides `source.stop`).
        #[arg(long, value_name = "POSITION")]
        stop_at: Option<String>,
    },
    /// Verify everything mwcdc needs: one line per check, exit 0 only when none failed.
    Check {
        /// The TOML configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// The checkpoint against the server's position: how far behind, the oldest binlog.
    Status {
        /// The TOML configuration file.
        #[arg(long, short)]
        config: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show or change the stored position (only while the connector is stopped).
    Checkpoint {
        #[command(subcommand)]
        action: CheckpointAction,
    },
}

#[derive(Debug, Subcommand)]
enum CheckpointAction {
    /// Print the stored position as JSON: {"name","flavor","gtid","file","pos","commit_ts","updated_at","settings","snapshot"}.
    Show {
        /// The TOML configuration file (its name and checkpoint.dir are used).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Store a GTID position to start from: MariaDB `domain-server-seq[,...]` (the last
    /// GTID of every domain) or a MySQL GTID set `uuid:1-N[,...]`.
    Set {
        /// The TOML configuration file.
        #[arg(long, short)]
        config: PathBuf,
        /// The position; the next run starts with the transaction after it.
        #[arg(long)]
        gtid: String,
    },
    /// Delete the stored position: the next run starts as `source.start` says.
    Reset {
        /// The TOML configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: log files and collectors get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// The exit code for an error, by what kind of error caused it.
fn exit_code(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if cause.downcast_ref::<ConfigError>().is_some() {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<mwcdc_source::SourceError>() {
            if matches!(e, mwcdc_source::SourceError::Unusable(_)) {
                return 3;
            }
        }
        if let Some(e) = cause.downcast_ref::<mwcdc_snapshot::SnapshotError>() {
            if e.is_unusable() {
                return 3;
            }
        }
    }
    1
}

/// The error and its causes, leaving out causes whose text the message before already holds.
fn describe(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match cli.command {
        Command::Run { config, stop_at } => run::run(&config, stop_at),
        Command::Check { config } => check::check(&config),
        Command::Status { config, json } => status::status(&config, json),
        Command::Checkpoint { action } => match action {
            CheckpointAction::Show { config } => checkpoint::show(&config),
            CheckpointAction::Set { config, gtid } => checkpoint::set(&config, &gtid),
            CheckpointAction::Reset { config } => checkpoint::reset(&config),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mwcdc: error: {}", describe(&e));
            ExitCode::from(exit_code(&e))
        }
    }
}
