//! `mwcdc checkpoint show | set | reset`: the stored position, read or changed while the
//! connector is stopped.

use std::path::Path;

use anyhow::{bail, Context, Result};
use mwcdc_checkpoint::{Checkpoint, CheckpointJson};
use mwcdc_position::Position;

use crate::setup::{load, open_store};

/// `mwcdc checkpoint show`.
pub fn show(path: &Path) -> Result<()> {
    let config = load(path)?;
    match open_store(&config)?.load(&config.name)? {
        Some(cp) => {
            println!("{}", serde_json::to_string(&CheckpointJson::from(&cp))?);
            Ok(())
        }
        None => bail!(
            "no checkpoint stored for connector `{}` in {}",
            config.name,
            config.checkpoint.dir.display()
        ),
    }
}

/// `mwcdc checkpoint set`.
pub fn set(path: &Path, gtid: &str) -> Result<()> {
    let config = load(path)?;
    let position = Position::parse_any(gtid).with_context(|| format!("--gtid {gtid:?}"))?;
    let store = open_store(&config)?;
    let checkpoint = Checkpoint {
        name: config.name.clone(),
        position,
        file: String::new(),
        pos: 0,
        commit_ts: None,
        updated_at: chrono::Utc::now(),
        settings: Some(crate::settings::of(&config)),
        // A snapshot job's progress belongs to the position it was delivered up to.
        snapshot: None,
    };
    store.save(&checkpoint)?;
    println!(
        "{}",
        serde_json::to_string(&CheckpointJson::from(&checkpoint))?
    );
    Ok(())
}

/// `mwcdc checkpoint reset`.
pub fn reset(path: &Path) -> Result<()> {
    let config = load(path)?;
    if open_store(&config)?.remove(&config.name)? {
        println!(
            "checkpoint of `{}` removed; the next run starts at source.start = \"{}\"",
            config.name, config.source.start
        );
    } else {
        println!("no checkpoint stored for `{}`", config.name);
    }
    Ok(())
}
