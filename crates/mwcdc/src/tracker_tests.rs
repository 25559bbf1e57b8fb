//! The tracker against a model (proptest): no interleaving of sends, acknowledgements,
//! prepares and resolves ever covers a record that was not sent or not acknowledged.

use proptest::prelude::*;

use super::*;

fn covered(seq: u64) -> Covered {
    Covered {
        position: Position::parse_any(&format!("0-1-{seq}")).unwrap(),
        file: "bin.000001".into(),
        pos: seq * 100,
        commit_ts: None,
        snapshot: None,
    }
}

/// Adds a unit, sends `records` under it and closes it, as `publish` does.
fn published(t: &mut Tracker, seq: u64, records: usize) -> usize {
    let ticket = t.add(covered(seq));
    for _ in 0..records {
        t.sent(ticket).unwrap();
    }
    t.close(ticket).unwrap();
    ticket
}

#[test]
fn prefix_advances_only_over_acknowledged_units_in_order() {
    let mut t = Tracker::default();
    let a = published(&mut t, 1, 1);
    let b = published(&mut t, 2, 2);
    published(&mut t, 3, 0);
    assert_eq!(t.in_flight(), 3);
    // c has no records: it completes only after a and b.
    t.acked(b).unwrap();
    t.acked(b).unwrap();
    assert_eq!(t.complete_prefix(), None);
    t.acked(a).unwrap();
    assert_eq!(t.complete_prefix().map(|c| c.pos), Some(300));
    assert_eq!(t.complete_prefix(), None);
    assert_eq!(t.in_flight(), 0);
}

#[test]
fn a_unit_stays_open_until_all_its_records_are_sent() {
    let mut t = Tracker::default();
    let a = t.add(covered(1));
    t.sent(a).unwrap();
    // The back-pressure wait applies the first record's acknowledgement.
    t.acked(a).unwrap();
    assert_eq!(t.complete_prefix(), None, "more records are still to come");
    t.sent(a).unwrap();
    t.close(a).unwrap();
    assert_eq!(
        t.complete_prefix(),
        None,
        "the second record is not acknowledged"
    );
    t.acked(a).unwrap();
    assert_eq!(t.complete_prefix().map(|c| c.pos), Some(100));
}

#[test]
fn an_unknown_ticket_is_an_error() {
    let mut t = Tracker::default();
    let a = published(&mut t, 1, 1);
    t.acked(a).unwrap();
    assert!(t.complete_prefix().is_some());
    assert!(matches!(
        t.sent(a),
        Err(TrackerError::UnknownTicket { ticket, .. }) if ticket == a
    ));
    assert!(matches!(
        t.acked(a),
        Err(TrackerError::UnknownTicket { .. })
    ));
    assert!(matches!(
        t.close(7),
        Err(TrackerError::UnknownTicket { .. })
    ));
    let b = published(&mut t, 2, 0);
    assert_eq!(t.acked(b), Err(TrackerError::NothingPending(b)));
    assert_eq!(t.sent(b), Err(TrackerError::Closed(b)));
}

#[test]
fn the_last_acknowledgement_of_a_transaction_tells_when_it_was_received() {
    let mut t = Tracker::default();
    let at = Instant::now();
    let a = t.add(covered(1));
    t.received(a, at).unwrap();
    t.sent(a).unwrap();
    t.sent(a).unwrap();
    assert_eq!(t.close(a).unwrap(), None, "records pending");
    assert!(!t.is_idle());
    assert_eq!(t.acked(a).unwrap(), None, "one record still pending");
    assert_eq!(t.acked(a).unwrap(), Some(at));
    assert!(!t.is_idle(), "the complete prefix is not taken yet");
    assert!(t.complete_prefix().is_some());
    assert!(t.is_idle());
    // Acknowledged before it is closed: closing completes it.
    let b = t.add(covered(2));
    t.received(b, at).unwrap();
    t.sent(b).unwrap();
    assert_eq!(t.acked(b).unwrap(), None, "still open");
    assert_eq!(t.close(b).unwrap(), Some(at));
}

#[test]
fn an_unacknowledged_unit_blocks_everything_after_it() {
    let mut t = Tracker::default();
    let a = published(&mut t, 1, 1);
    let b = published(&mut t, 2, 1);
    t.acked(b).unwrap();
    assert_eq!(t.complete_prefix(), None);
    t.acked(a).unwrap();
    assert_eq!(t.complete_prefix().map(|c| c.pos), Some(200));
}

#[test]
fn complete_units_behind_a_hold_are_merged() {
    let mut t = Tracker::default();
    let prepare = t.add_prepare(covered(1), "x".into());
    t.close(prepare).unwrap();
    assert!(t.oldest_hold().is_some());
    for seq in 2..10_000 {
        let ticket = t.add(covered(seq));
        if seq % 100 == 0 {
            t.sent(ticket).unwrap();
            t.acked(ticket).unwrap();
        }
        t.close(ticket).unwrap();
    }
    assert_eq!(t.units.len(), 2, "one held unit and one merged unit");
    // A transaction with records joins the merged unit, which then waits for them.
    let pending = t.add(covered(10_000));
    t.sent(pending).unwrap();
    t.close(pending).unwrap();
    let after = t.add(covered(10_001));
    t.close(after).unwrap();
    assert_ne!(
        pending, after,
        "a unit with records pending is not merged into"
    );
    assert_eq!(t.units.len(), 3);
    let counted_on = t.resolve("x").unwrap().unwrap();
    assert_eq!(counted_on, prepare);
    t.close(counted_on).unwrap();
    assert_eq!(t.complete_prefix().map(|c| c.pos), Some(100));
    t.acked(pending).unwrap();
    assert_eq!(t.complete_prefix().map(|c| c.pos), Some(1_000_100));
    assert_eq!(t.oldest_hold(), None);
}

#[test]
fn xa_prepare_is_held_until_its_committed_rows_are_sent_and_delivered() {
    let mut t = Tracker::default();
    let prepare = t.add_prepare(covered(1), "x1".into());
    t.close(prepare).unwrap();
    published(&mut t, 2, 0);
    assert_eq!(t.complete_prefix(), None);
    let commit = t.add(covered(3));
    let counted_on = t.resolve("x1").unwrap().unwrap();
    assert_eq!(counted_on, prepare);
    t.sent(counted_on).unwrap();
    t.acked(counted_on).unwrap();
    assert_eq!(
        t.complete_prefix(),
        None,
        "the outcome's records are still being sent"
    );
    t.sent(counted_on).unwrap();
    t.close(counted_on).unwrap();
    t.close(commit).unwrap();
    assert_eq!(t.complete_prefix(), None);
    t.acked(counted_on).unwrap();
    assert_eq!(t.complete_prefix().map(|c| c.pos), Some(300));
    assert_eq!(t.resolve("x1"), Ok(None));
}

/// One transaction of the model: its records, and its XA part.
#[derive(Debug, Clone)]
enum Step {
    Plain(usize),
    Prepare(u8),
    Resolve(u8, usize),
}

/// What the pipeline does next.
#[derive(Debug, Clone)]
enum Event {
    /// Send the current transaction's next record, or close it and start the next one.
    Publish,
    /// Acknowledge one record in flight (by index into those in flight).
    Ack(usize),
    /// Take the complete prefix.
    Prefix,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            4 => (0usize..4).prop_map(Step::Plain),
            1 => (0u8..3).prop_map(Step::Prepare),
            1 => ((0u8..3), (0usize..4)).prop_map(|(x, n)| Step::Resolve(x, n)),
        ],
        1..40,
    )
}

fn events() -> impl Strategy<Value = Vec<Event>> {
    prop::collection::vec(
        prop_oneof![
            3 => Just(Event::Publish),
            2 => any::<usize>().prop_map(Event::Ack),
            1 => Just(Event::Prefix),
        ],
        0..300,
    )
}

/// The model's truth: for each transaction (by index), its records sent, acknowledged and
/// planned, whether it is fully published, and for a prepare, the outcome that resolves it.
struct Model {
    steps: Vec<Step>,
    /// For each prepare (index), the index of the outcome that resolves it, if any.
    outcome_of: Vec<Option<usize>>,
    sent: Vec<usize>,
    acked: Vec<usize>,
    closed: Vec<bool>,
}

impl Model {
    fn new(steps: Vec<Step>) -> Self {
        let mut outcome_of = vec![None; steps.len()];
        let mut open: HashMap<u8, usize> = HashMap::new();
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Prepare(x) => {
                    open.insert(*x, i);
                }
                Step::Resolve(x, _) => {
                    if let Some(p) = open.remove(x) {
                        outcome_of[p] = Some(i);
                    }
                }
                Step::Plain(_) => {}
            }
        }
        let n = steps.len();
        Self {
            steps,
            outcome_of,
            sent: vec![0; n],
            acked: vec![0; n],
            closed: vec![false; n],
        }
    }

    fn records(&self, i: usize) -> usize {
        match self.steps[i] {
            Step::Plain(n) | Step::Resolve(_, n) => n,
            Step::Prepare(_) => 0,
        }
    }

    fn delivered(&self, i: usize) -> bool {
        self.closed[i] && self.sent[i] == self.records(i) && self.acked[i] == self.sent[i]
    }

    /// Whether a checkpoint after transaction `c` loses nothing: every transaction up to it
    /// delivered, and every prepare up to it resolved by a delivered outcome.
    fn may_cover(&self, c: usize) -> bool {
        (0..=c).all(|i| {
            self.delivered(i)
                && match self.steps[i] {
                    Step::Prepare(_) => self.outcome_of[i].is_some_and(|o| self.delivered(o)),
                    _ => true,
                }
        })
    }
}

/// The pipeline's side of a model run: the tracker, what is being published and what is in
/// flight.
struct Run {
    model: Model,
    t: Tracker,
    /// The transaction being published: its index, own ticket, and the ticket its records
    /// count on.
    current: Option<(usize, usize, usize)>,
    next: usize,
    /// Records in flight: the ticket they were sent under, and their transaction.
    in_flight: Vec<(usize, usize)>,
    /// The last transaction covered.
    best: Option<usize>,
}

impl Run {
    fn publish(&mut self) {
        let model = &mut self.model;
        match self.current {
            Some((i, _, counts_on)) if model.sent[i] < model.records(i) => {
                self.t.sent(counts_on).unwrap();
                model.sent[i] += 1;
                self.in_flight.push((counts_on, i));
            }
            Some((i, own, counts_on)) => {
                self.t.close(counts_on).unwrap();
                if own != counts_on {
                    self.t.close(own).unwrap();
                }
                model.closed[i] = true;
                self.current = None;
            }
            None if self.next < model.steps.len() => {
                let i = self.next;
                self.next += 1;
                let position = covered(i as u64 + 1);
                let (own, counts_on) = match model.steps[i] {
                    Step::Prepare(x) => {
                        let own = self.t.add_prepare(position, format!("x{x}"));
                        (own, own)
                    }
                    Step::Resolve(x, _) => {
                        let own = self.t.add(position);
                        (
                            own,
                            self.t.resolve(&format!("x{x}")).unwrap().unwrap_or(own),
                        )
                    }
                    Step::Plain(_) => {
                        let own = self.t.add(position);
                        (own, own)
                    }
                };
                self.current = Some((i, own, counts_on));
            }
            None => {}
        }
    }

    fn ack(&mut self, k: usize) {
        if self.in_flight.is_empty() {
            return;
        }
        let (ticket, i) = self.in_flight.swap_remove(k % self.in_flight.len());
        self.t.acked(ticket).unwrap();
        self.model.acked[i] += 1;
    }

    fn prefix(&mut self) -> Result<(), TestCaseError> {
        if let Some(c) = self.t.complete_prefix() {
            let i = (c.pos / 100 - 1) as usize;
            prop_assert!(
                self.model.may_cover(i),
                "covered transaction {} too early",
                i
            );
            prop_assert!(self.best.is_none_or(|b| i > b), "the prefix went backwards");
            self.best = Some(i);
        }
        Ok(())
    }
}

proptest! {
    /// Any interleaving of sends, acknowledgements, prepares and resolves: the checkpoint never
    /// covers a record not sent or not acknowledged, and once everything is delivered it
    /// covers everything up to the first prepare left unresolved.
    #[test]
    fn the_tracker_never_covers_an_unsent_or_unacknowledged_record(steps in steps(), events in events()) {
        let n = steps.len();
        let mut run = Run {
            model: Model::new(steps),
            t: Tracker::default(),
            current: None,
            next: 0,
            in_flight: Vec::new(),
            best: None,
        };
        for event in events {
            match event {
                Event::Publish => run.publish(),
                Event::Ack(k) => run.ack(k),
                Event::Prefix => run.prefix()?,
            }
            prop_assert_eq!(run.t.in_flight(), run.in_flight.len());
        }
        // Finish: publish everything, acknowledge everything.
        while run.next < n || run.current.is_some() {
            run.publish();
        }
        while !run.in_flight.is_empty() {
            run.ack(0);
        }
        run.prefix()?;
        let model = &run.model;
        let unresolved = (0..n)
            .find(|&i| matches!(model.steps[i], Step::Prepare(_)) && model.outcome_of[i].is_none());
        let expected = match unresolved {
            Some(p) => p.checked_sub(1),
            None => Some(n - 1),
        };
        prop_assert_eq!(run.best, expected);
        prop_assert_eq!(run.t.is_idle(), unresolved.is_none());
    }
}
