//! Command-line arguments and the server connection options they give.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{ArgAction, Parser};
use mysql_async::{Opts, OptsBuilder};

/// The environment variable holding the password when the URL has none.
const PASSWORD_ENV: &str = "MWCDC_WORKLOAD_PASSWORD";

/// Writes MediaWiki-shaped row changes into N wiki databases, exactly as MediaWiki's
/// transactions do, and the entity changes they cause as a JSON-lines ground truth.
#[derive(Debug, Parser)]
#[command(name = "mwcdc-workload", version, about)]
pub struct Args {
    /// Server URL, mysql://user[:password]@host:port (without a database); the password may
    /// come from MWCDC_WORKLOAD_PASSWORD instead.
    #[arg(long)]
    pub url: String,
    /// Number of wiki databases, named <db-prefix>0 .. <db-prefix>N-1.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    pub wikis: u16,
    /// Number of operations, the big pages' creations and edits included.
    #[arg(long, default_value_t = 20_000)]
    pub ops: u64,
    /// Seed of the random source: the same seed gives the same SQL and the same truth.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Prefix of the database names ([A-Za-z0-9_]).
    #[arg(long, default_value = "wl_")]
    pub db_prefix: String,
    /// Where to write the ground truth (JSON lines, commit order).
    #[arg(long)]
    pub truth: PathBuf,
    /// Operations per second; 0 runs as fast as possible.
    #[arg(long, default_value_t = 0)]
    pub rate: u32,
    /// Revisions per page deletion transaction ($wgDeleteRevisionsBatchSize).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub delete_batch_size: u64,
    /// Pages built with --big-page-revisions revisions each before the random operations,
    /// then deleted (in batches) and fully undeleted among them.
    #[arg(long, default_value_t = 2)]
    pub big_pages: u16,
    /// Revisions of each big page (its creation and edits, one transaction each).
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub big_page_revisions: u64,
    /// Drop and recreate the databases (default); with `false`, create what is missing and
    /// require the tables to be empty.
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          default_missing_value = "true")]
    pub create_schema: bool,
}

impl Args {
    /// The database names, `<prefix>0 .. <prefix>N-1`.
    pub fn wiki_names(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.wikis).map(|index| format!("{}{index}", self.db_prefix))
    }

    /// Checks what clap cannot: the prefix is safe to use in SQL unquoted.
    pub fn validate(&self) -> Result<()> {
        let prefix = &self.db_prefix;
        let valid = prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if prefix.is_empty() || prefix.len() > 58 || !valid {
            bail!("--db-prefix must be 1 to 58 characters of [A-Za-z0-9_], got {prefix:?}");
        }
        Ok(())
    }

    /// Connection options from --url, with the password from MWCDC_WORKLOAD_PASSWORD when
    /// the URL has none.
    pub fn connect_opts(&self) -> Result<Opts> {
        let opts = Opts::from_url(&self.url).context("parsing --url")?;
        if opts.pass().is_some() {
            return Ok(opts);
        }
        match std::env::var(PASSWORD_ENV) {
            Ok(password) => Ok(OptsBuilder::from_opts(opts).pass(Some(password)).into()),
            Err(_) => Ok(opts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &[&str]) -> Result<Args, clap::Error> {
        let base = [
            "mwcdc-workload",
            "--url",
            "mysql://u@127.0.0.1:3307",
            "--truth",
            "t",
        ];
        Args::try_parse_from(base.iter().chain(extra))
    }

    #[test]
    fn defaults() -> Result<()> {
        let args = parse(&[])?;
        assert_eq!(
            (args.wikis, args.ops, args.seed, args.rate),
            (5, 20_000, 42, 0)
        );
        assert_eq!(
            (
                args.delete_batch_size,
                args.big_pages,
                args.big_page_revisions
            ),
            (1000, 2, 5000)
        );
        assert!(args.create_schema);
        assert_eq!(args.wiki_names().collect::<Vec<_>>()[4], "wl_4");
        Ok(())
    }

    #[test]
    fn create_schema_flag_forms() -> Result<()> {
        assert!(parse(&["--create-schema"])?.create_schema);
        assert!(!parse(&["--create-schema", "false"])?.create_schema);
        Ok(())
    }

    #[test]
    fn prefix_must_be_plain() -> Result<()> {
        assert!(parse(&["--db-prefix", "wl_"])?.validate().is_ok());
        assert!(parse(&["--db-prefix", "wl`;"])?.validate().is_err());
        assert!(parse(&["--wikis", "0"]).is_err());
        Ok(())
    }

    #[test]
    fn url_password_wins() -> Result<()> {
        let argv = [
            "mwcdc-workload",
            "--url",
            "mysql://u:secret@127.0.0.1:3307",
            "--truth",
            "t",
        ];
        let args = Args::try_parse_from(argv)?;
        assert_eq!(args.connect_opts()?.pass(), Some("secret"));
        Ok(())
    }
}
