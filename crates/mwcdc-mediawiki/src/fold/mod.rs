//! The first pass over a transaction: what its rows mean for MediaWiki's entities.
//!
//! The pass reads every change once and keeps only what pairing needs ([`facts`]), then
//! plans the changes of each entity kind ([`revisions`], [`pages`], [`logs`],
//! [`user_groups`]) and a record of each row a snapshot read ([`snapshots`]). It ends with a
//! [`Plan`]: the entity changes of the transaction, each anchored at the row that carries the
//! entity's new state, in binlog order. The second pass ([`crate::encode`]) reads the changes
//! again and writes a record at each anchor.

pub(crate) mod facts;
mod logs;
mod pages;
pub(crate) mod planned;
mod revisions;
mod snapshots;
pub(crate) mod table;
mod user_groups;

use std::sync::Arc;

use mwcdc_change::{SpillError, TableSchema, Transaction};

use crate::config::Captured;
use crate::fold::facts::Facts;
use crate::fold::planned::Plan;
use crate::fold::table::Table;

/// Runs the first pass over `txn`. `tables` tells which MediaWiki table a schema is.
pub(crate) fn plan(
    txn: &Transaction,
    mut tables: impl FnMut(&Arc<TableSchema>) -> Option<Table>,
    captured: &Captured,
) -> Result<Plan, SpillError> {
    let mut facts = Facts::default();
    for (seq, change) in txn.changes.iter().enumerate() {
        let change = change?;
        let Some(table) = tables(&change.table) else {
            continue;
        };
        // Row indexes and wiki indexes are u32 and u16: a transaction beyond that (billions
        // of rows, tens of thousands of databases) is not folded further, loudly.
        match (
            u32::try_from(seq),
            facts.wikis.len() < usize::from(u16::MAX),
        ) {
            (Ok(seq), true) => facts.add(seq, table, &change),
            _ => {
                tracing::warn!(gtid = %txn.gtid, "transaction too large to fold into entity changes: its later rows are in the row stream only");
                break;
            }
        }
    }
    let mut items = Vec::new();
    logs::plan(&facts, &mut items);
    revisions::plan(&mut facts, captured, &mut items);
    pages::plan(&facts, captured, &mut items);
    user_groups::plan(&facts, captured, &mut items);
    snapshots::plan(&facts, &mut items);
    // Stable: several changes anchored at one row keep the order they were planned in.
    items.sort_by_key(|p| p.seq);
    Ok(Plan { facts, items })
}

#[cfg(test)]
mod tests {
    use crate::fold::facts::RevFact;
    use crate::fold::planned::Planned;

    #[test]
    fn what_folding_keeps_per_row_stays_small() {
        assert!(std::mem::size_of::<RevFact>() <= 24);
        assert!(
            std::mem::size_of::<Planned>() <= 48,
            "{}",
            std::mem::size_of::<Planned>()
        );
    }
}
