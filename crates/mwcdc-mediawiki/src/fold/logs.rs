//! Planning log entry changes: each logging row change is one, decided by its row alone.

use mwcdc_change::Op;

use crate::entity::{Action, Entity};
use crate::fold::facts::Facts;
use crate::fold::planned::{Evidence, Planned};

/// A log entry change for every logging row change, in row order.
pub(super) fn plan(facts: &Facts, items: &mut Vec<Planned>) {
    items.extend(facts.log_rows.iter().map(|&(seq, op)| Planned {
        seq,
        entity: Entity::Log,
        action: match op {
            Op::Create => Action::Create,
            Op::Delete => Action::Delete,
            _ => Action::Update,
        },
        evidence: Evidence::Log,
    }));
}
