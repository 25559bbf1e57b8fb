//! The first pass's result: the entity changes of a transaction, each anchored at a row, and
//! the evidence each comes from.

use crate::entity::{Action, Entity};
use crate::fold::facts::Facts;
use crate::params::GroupChange;

/// The evidence of an entity change: the rows it was determined from, and what its record
/// carries besides the anchor row.
#[derive(Debug, Clone)]
pub(crate) enum Evidence {
    /// A revision or archive row; `pair` is the other row of an archive or restore pair.
    Revision {
        pair: Option<RevPair>,
        log: Option<u32>,
    },
    /// A revision deletion log row alone, for one of the ids it names.
    RevisionFromLog { log: u32, rev_id: u64 },
    /// Page rows (`page` indexes [`Facts::pages`]), enriched by a log row.
    Page {
        page: u32,
        log: Option<u32>,
        restored: Option<u64>,
    },
    /// A page log row alone.
    PageFromLog { log: u32, restored: Option<u64> },
    /// The logging row itself.
    Log,
    /// A user_groups row, enriched by a rights log row.
    UserGroup { log: Option<u32> },
    /// A rights log row alone, for one group (boxed: rare, and large beside the others).
    UserGroupFromLog { log: u32, change: Box<GroupChange> },
    /// A row a snapshot read, alone: no pairing, no log row, no prior state.
    Snapshot,
}

/// The other row of an archive (revision DELETE) or restore (archive DELETE) pair.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RevPair {
    pub(crate) bits: u8,
    /// The archive row's ar_id (restore pairs).
    pub(crate) ar_id: Option<u64>,
}

/// One entity change, anchored at the row with index `seq`, with its `evidence`.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub(crate) seq: u32,
    pub(crate) entity: Entity,
    pub(crate) action: Action,
    pub(crate) evidence: Evidence,
}

/// The entity changes of a transaction, in binlog order of their anchors.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) facts: Facts,
    pub(crate) items: Vec<Planned>,
}
