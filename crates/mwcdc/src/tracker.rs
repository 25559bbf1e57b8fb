//! Acknowledgements to checkpoints: which prefix of the transactions handed to the sink is
//! fully delivered.
//!
//! Each transaction is a *unit* with a number (its ticket) and a count of records not yet
//! acknowledged. The checkpoint may cover a unit once it and every unit before it have no
//! records pending and no hold. An XA PREPARE unit is held until its outcome arrives; the
//! rows published at XA COMMIT are counted on the prepare unit, so the checkpoint cannot pass
//! the prepare until they are delivered.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use mwcdc_position::Position;

/// What a checkpoint records about the last covered transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Covered {
    /// The position after it.
    pub position: Position,
    /// Binlog file of its commit event.
    pub file: String,
    /// Position after its commit event.
    pub pos: u64,
    /// Its commit time, seconds since the epoch (`None` for a start position).
    pub commit_ts: Option<u32>,
}

impl Covered {
    /// A start position, which covers no transaction yet.
    pub fn start(position: Position) -> Self {
        Self {
            position,
            file: String::new(),
            pos: 0,
            commit_ts: None,
        }
    }
}

#[derive(Debug)]
struct Unit {
    pending: usize,
    /// Since when an XA PREPARE unit waits for its outcome.
    held: Option<Instant>,
    /// When the commit event of its (last) transaction was received.
    received: Option<Instant>,
    covered: Covered,
}

/// Tracks units in order.
#[derive(Debug, Default)]
pub struct Tracker {
    units: VecDeque<Unit>,
    first_ticket: usize,
    prepared: HashMap<String, usize>,
    in_flight: usize,
}

impl Tracker {
    /// Adds a unit for a transaction and returns its ticket.
    ///
    /// Behind an unfinished unit, a last unit that is complete (all acknowledged, not held)
    /// is extended to cover the new transaction instead, so that a long wait (an XA
    /// transaction prepared and not resolved) does not grow a unit per transaction read.
    pub fn add(&mut self, covered: Covered) -> usize {
        let len = self.units.len();
        if let Some(last) = self.units.back_mut().filter(|_| len >= 2) {
            if last.pending == 0 && last.held.is_none() {
                last.covered = covered;
                return self.first_ticket + len - 1;
            }
        }
        self.units.push_back(Unit {
            pending: 0,
            held: None,
            received: None,
            covered,
        });
        self.first_ticket + len
    }

    /// How long the first unit has waited for its XA outcome, if it is held.
    pub fn oldest_hold(&self) -> Option<std::time::Duration> {
        self.units.front()?.held.map(|since| since.elapsed())
    }

    /// Holds a unit until [`Tracker::resolve`] is called for `xid`.
    pub fn hold(&mut self, ticket: usize, xid: String) {
        if let Some(unit) = self.unit_mut(ticket) {
            unit.held = Some(Instant::now());
            self.prepared.insert(xid, ticket);
        }
    }

    /// The ticket the records of an XA outcome count on: the prepare unit's, if it is still
    /// tracked, and releases its hold. `None` when the prepare is not tracked (it was read
    /// before this run started), in which case the outcome's own unit counts them.
    pub fn resolve(&mut self, xid: &str) -> Option<usize> {
        let ticket = self.prepared.remove(xid)?;
        let unit = self.unit_mut(ticket)?;
        unit.held = None;
        Some(ticket)
    }

    /// Notes when the transaction just added under `ticket` was received.
    pub fn received(&mut self, ticket: usize, at: Instant) {
        if let Some(unit) = self.unit_mut(ticket) {
            unit.received = Some(at);
        }
    }

    /// Counts one record sent under `ticket`.
    pub fn sent(&mut self, ticket: usize) {
        if let Some(unit) = self.unit_mut(ticket) {
            unit.pending += 1;
            self.in_flight += 1;
        }
    }

    /// Counts one record acknowledged under `ticket`. Returns when the unit's transaction was
    /// received if this was its last record pending (and it is not held).
    pub fn acked(&mut self, ticket: usize) -> Option<Instant> {
        let unit = self.unit_mut(ticket)?;
        if unit.pending == 0 {
            return None;
        }
        unit.pending -= 1;
        let done = (unit.pending == 0 && unit.held.is_none())
            .then_some(unit.received)
            .flatten();
        self.in_flight -= 1;
        done
    }

    /// Whether every unit added is complete and removed: a checkpoint written now covers
    /// every transaction read.
    pub fn is_idle(&self) -> bool {
        self.units.is_empty()
    }

    /// Records sent and not acknowledged.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Removes the complete prefix and returns what its last unit covers.
    pub fn complete_prefix(&mut self) -> Option<Covered> {
        let mut last = None;
        while self
            .units
            .front()
            .is_some_and(|u| u.pending == 0 && u.held.is_none())
        {
            last = self.units.pop_front().map(|u| u.covered);
            self.first_ticket += 1;
        }
        last
    }

    fn unit_mut(&mut self, ticket: usize) -> Option<&mut Unit> {
        let idx = ticket.checked_sub(self.first_ticket)?;
        self.units.get_mut(idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covered(seq: u64) -> Covered {
        Covered {
            position: Position::parse_any(&format!("0-1-{seq}")).unwrap(),
            file: "bin.000001".into(),
            pos: seq * 100,
            commit_ts: None,
        }
    }

    #[test]
    fn prefix_advances_only_over_acknowledged_units_in_order() {
        let mut t = Tracker::default();
        let a = t.add(covered(1));
        let b = t.add(covered(2));
        let c = t.add(covered(3));
        t.sent(a);
        t.sent(b);
        t.sent(b);
        assert_eq!(t.in_flight(), 3);
        // c has no records: it completes only after a and b.
        t.acked(b);
        t.acked(b);
        assert_eq!(t.complete_prefix(), None);
        t.acked(a);
        assert_eq!(t.complete_prefix().map(|c| c.pos), Some(300));
        assert_eq!(t.complete_prefix(), None);
        assert_eq!(t.in_flight(), 0);
        let _ = c;
    }

    #[test]
    fn the_last_acknowledgement_of_a_transaction_tells_when_it_was_received() {
        let mut t = Tracker::default();
        let at = Instant::now();
        let a = t.add(covered(1));
        t.received(a, at);
        t.sent(a);
        t.sent(a);
        assert!(!t.is_idle());
        assert_eq!(t.acked(a), None, "one record still pending");
        assert_eq!(t.acked(a), Some(at));
        assert_eq!(t.acked(a), None, "nothing pending any more");
        assert!(!t.is_idle(), "the complete prefix is not taken yet");
        assert!(t.complete_prefix().is_some());
        assert!(t.is_idle());
    }

    #[test]
    fn an_unacknowledged_unit_blocks_everything_after_it() {
        let mut t = Tracker::default();
        let a = t.add(covered(1));
        let b = t.add(covered(2));
        t.sent(a);
        t.sent(b);
        t.acked(b);
        assert_eq!(t.complete_prefix(), None);
        t.acked(a);
        assert_eq!(t.complete_prefix().map(|c| c.pos), Some(200));
    }

    #[test]
    fn complete_units_behind_a_hold_are_merged() {
        let mut t = Tracker::default();
        let prepare = t.add(covered(1));
        t.hold(prepare, "x".into());
        assert!(t.oldest_hold().is_some());
        for seq in 2..10_000 {
            let ticket = t.add(covered(seq));
            if seq % 100 == 0 {
                t.sent(ticket);
                t.acked(ticket);
            }
        }
        assert_eq!(t.units.len(), 2, "one held unit and one merged unit");
        // A transaction with records joins the merged unit, which then waits for them.
        let pending = t.add(covered(10_000));
        t.sent(pending);
        let after = t.add(covered(10_001));
        assert_ne!(
            pending, after,
            "a unit with records pending is not merged into"
        );
        assert_eq!(t.units.len(), 3);
        let counted_on = t.resolve("x").unwrap();
        assert_eq!(counted_on, prepare);
        assert_eq!(t.complete_prefix().map(|c| c.pos), Some(100));
        t.acked(pending);
        assert_eq!(t.complete_prefix().map(|c| c.pos), Some(1_000_100));
        assert_eq!(t.oldest_hold(), None);
    }

    #[test]
    fn xa_prepare_is_held_until_its_committed_rows_are_delivered() {
        let mut t = Tracker::default();
        let prepare = t.add(covered(1));
        t.hold(prepare, "x1".into());
        let other = t.add(covered(2));
        assert_eq!(t.complete_prefix(), None);
        let commit = t.add(covered(3));
        let counted_on = t.resolve("x1").unwrap();
        assert_eq!(counted_on, prepare);
        t.sent(counted_on);
        assert_eq!(t.complete_prefix(), None);
        t.acked(counted_on);
        assert_eq!(t.complete_prefix().map(|c| c.pos), Some(300));
        assert!(t.resolve("x1").is_none());
        let _ = (other, commit);
    }
}
