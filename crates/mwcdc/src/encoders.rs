//! The records of a transaction: its row change records, then its entity change records.

use mwcdc_change::{SpillError, Transaction};
use mwcdc_mediawiki::{Entity, EntityEncoder};
use mwcdc_record::{Record, RowEncoder};

use crate::metrics::Metrics;

/// The encoders of the enabled record streams (`output.rows`, `output.entities`).
pub struct Encoders {
    /// Row change records.
    pub rows: Option<RowEncoder>,
    /// MediaWiki entity change records.
    pub entities: Option<EntityEncoder>,
}

impl Encoders {
    /// Both streams' records of `txn`, produced as they are taken. `now_ms` is the processing
    /// time of the row records; the entity changes are counted in `metrics`.
    pub fn of<'a>(
        &'a mut self,
        txn: &'a Transaction,
        now_ms: u64,
        metrics: &Metrics,
    ) -> Result<impl Iterator<Item = Result<Record, SpillError>> + 'a, SpillError> {
        let rows = self.rows.as_mut().map(|e| e.records(txn, now_ms));
        let entities = match self.entities.as_mut() {
            Some(e) => Some(e.records(txn)?),
            None => None,
        };
        // Counted per kind and action, not one by one: the label lookup is the cost.
        let mut counts: Vec<((Entity, &'static str), u64)> = Vec::new();
        for change in entities.iter().flat_map(|e| e.changes()) {
            match counts.iter_mut().find(|(c, _)| *c == change) {
                Some((_, n)) => *n += 1,
                None => counts.push((change, 1)),
            }
        }
        for ((entity, action), n) in counts {
            metrics.entity_changes(entity, action, n);
        }
        Ok(rows
            .into_iter()
            .flatten()
            .chain(entities.into_iter().flatten()))
    }
}
