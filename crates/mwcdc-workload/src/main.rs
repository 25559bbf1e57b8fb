//! `mwcdc-workload`: see the library's documentation and `docs/workload.md`.

use anyhow::Result;
use clap::Parser;
use mwcdc_workload::{run, Args};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    args.validate()?;
    let summary = run(&args).await?;
    eprintln!("{summary}");
    Ok(())
}
