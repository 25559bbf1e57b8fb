//! Acknowledgements to checkpoints: which prefix of the transactions handed to the sink is
//! fully delivered.
//!
//! Each transaction is a *unit* with a number (its ticket) and a count of records not yet
//! acknowledged. The checkpoint may cover a unit once it and every unit before it have no
//! records pending and no hold. An XA PREPARE unit is held until its outcome arrives; the
//! rows published at XA COMMIT are counted on the prepare unit, so the checkpoint cannot pass
//! the prepare until they are delivered.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use mwcdc_checkpoint::SnapshotProgress;
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
    /// The snapshot job's progress once every chunk published before it is delivered too.
    pub snapshot: Option<Arc<SnapshotProgress>>,
}

impl Covered {
    /// A start position, which covers no transaction yet.
    pub fn start(position: Position) -> Self {
        Self {
            position,
            file: String::new(),
            pos: 0,
            commit_ts: None,
            snapshot: None,
        }
    }
}

/// A ticket the tracker does not know, or a count that would go below zero: a bug in the
/// pipeline. The pipeline stops on it without writing another checkpoint.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrackerError {
    /// The ticket's unit was never added or is already complete and removed.
    #[error("internal error: {action} for ticket {ticket}, which is not tracked (first tracked: {first})")]
    UnknownTicket {
        /// What was asked.
        action: &'static str,
        /// The ticket given.
        ticket: usize,
        /// The first ticket still tracked.
        first: usize,
    },
    /// A record sent under a unit already closed.
    #[error("internal error: a record sent under ticket {0} after its unit was closed")]
    Closed(usize),
    /// An acknowledgement for a unit with nothing pending.
    #[error("internal error: an acknowledgement for ticket {0}, which has no record pending")]
    NothingPending(usize),
}

#[derive(Debug)]
struct Unit {
    pending: usize,
    /// Records may still be sent under this unit: its transaction (or the XA outcome whose
    /// rows count on it) is being published.
    open: bool,
    /// Since when an XA PREPARE unit waits for its outcome.
    held: Option<Instant>,
    /// When the commit event of its (last) transaction was received.
    received: Option<Instant>,
    covered: Covered,
}

impl Unit {
    fn is_complete(&self) -> bool {
        self.pending == 0 && !self.open && self.held.is_none()
    }
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
    /// Adds an open unit for a transaction about to be published and returns its ticket.
    /// The unit cannot complete until [`Tracker::close`] says all its records are sent.
    ///
    /// Behind an unfinished unit, a last unit that is complete (all acknowledged, not held)
    /// is extended to cover the new transaction instead, so that a long wait (an XA
    /// transaction prepared and not resolved) does not grow a unit per transaction read.
    pub fn add(&mut self, covered: Covered) -> usize {
        let len = self.units.len();
        if let Some(last) = self.units.back_mut().filter(|_| len >= 2) {
            if last.is_complete() {
                last.covered = covered;
                last.open = true;
                return self.first_ticket + len - 1;
            }
        }
        self.push(covered, None)
    }

    /// Adds an open unit for an XA PREPARE, held until [`Tracker::resolve`] is called for
    /// `xid`. It is never merged with the units before it, which may complete without it.
    pub fn add_prepare(&mut self, covered: Covered, xid: String) -> usize {
        let ticket = self.push(covered, Some(Instant::now()));
        self.prepared.insert(xid, ticket);
        ticket
    }

    fn push(&mut self, covered: Covered, held: Option<Instant>) -> usize {
        self.units.push_back(Unit {
            pending: 0,
            open: true,
            held,
            received: None,
            covered,
        });
        self.first_ticket + self.units.len() - 1
    }

    /// How long the first unit has waited for its XA outcome, if it is held.
    pub fn oldest_hold(&self) -> Option<std::time::Duration> {
        self.units.front()?.held.map(|since| since.elapsed())
    }

    /// The ticket the records of an XA outcome count on: the prepare unit's, if it is still
    /// tracked, which is released from its hold and open again until [`Tracker::close`].
    /// `None` when the prepare is not tracked (it was read before this run started), in
    /// which case the outcome's own unit counts them.
    pub fn resolve(&mut self, xid: &str) -> Result<Option<usize>, TrackerError> {
        let Some(ticket) = self.prepared.remove(xid) else {
            return Ok(None);
        };
        let unit = self.unit_mut(ticket, "resolve")?;
        unit.held = None;
        unit.open = true;
        Ok(Some(ticket))
    }

    /// Notes when the transaction just added under `ticket` was received.
    pub fn received(&mut self, ticket: usize, at: Instant) -> Result<(), TrackerError> {
        self.unit_mut(ticket, "received")?.received = Some(at);
        Ok(())
    }

    /// Counts one record sent under `ticket`, whose unit must be open.
    pub fn sent(&mut self, ticket: usize) -> Result<(), TrackerError> {
        let unit = self.unit_mut(ticket, "a record sent")?;
        if !unit.open {
            return Err(TrackerError::Closed(ticket));
        }
        unit.pending += 1;
        self.in_flight += 1;
        Ok(())
    }

    /// Says that every record of the unit `ticket` is sent. Returns when its transaction was
    /// received if that completes the unit.
    pub fn close(&mut self, ticket: usize) -> Result<Option<Instant>, TrackerError> {
        let unit = self.unit_mut(ticket, "close")?;
        unit.open = false;
        Ok(unit.is_complete().then_some(unit.received).flatten())
    }

    /// Counts one record acknowledged under `ticket`. Returns when the unit's transaction was
    /// received if this completes the unit.
    pub fn acked(&mut self, ticket: usize) -> Result<Option<Instant>, TrackerError> {
        let unit = self.unit_mut(ticket, "an acknowledgement")?;
        if unit.pending == 0 {
            return Err(TrackerError::NothingPending(ticket));
        }
        unit.pending -= 1;
        let done = unit.is_complete().then_some(unit.received).flatten();
        self.in_flight -= 1;
        Ok(done)
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
        while self.units.front().is_some_and(Unit::is_complete) {
            last = self.units.pop_front().map(|u| u.covered);
            self.first_ticket += 1;
        }
        last
    }

    fn unit_mut(&mut self, ticket: usize, action: &'static str) -> Result<&mut Unit, TrackerError> {
        let first = self.first_ticket;
        ticket
            .checked_sub(first)
            .and_then(|idx| self.units.get_mut(idx))
            .ok_or(TrackerError::UnknownTicket {
                action,
                ticket,
                first,
            })
    }
}

#[cfg(test)]
#[path = "tracker_tests.rs"]
mod tests;
