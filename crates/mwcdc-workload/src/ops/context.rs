//! What every operation works with ([`Ctx`]) and gives back ([`Outcome`]).

use rand::rngs::StdRng;

use crate::clock::Ts;
use crate::state::Wiki;
use crate::txn::Txn;

/// What an operation works with: the run's random source, the operation's time, its wiki.
pub struct Ctx<'a> {
    /// The run's seeded random source.
    pub rng: &'a mut StdRng,
    /// The simulated time of the operation; every timestamp it writes.
    pub now: Ts,
    /// The wiki operated on.
    pub wiki: &'a mut Wiki,
}

/// What one operation did.
pub struct Outcome {
    /// The operation's kind and variant, for the summary.
    pub label: &'static str,
    /// Its transactions, in commit order.
    pub txns: Vec<Txn>,
}

impl Outcome {
    /// An operation of a single transaction.
    pub fn one(label: &'static str, txn: Txn) -> Self {
        Outcome {
            label,
            txns: vec![txn],
        }
    }

    /// The operation followed by `txn`, a transaction of its own (a deferred update).
    pub fn then(mut self, txn: Txn) -> Self {
        self.txns.push(txn);
        self
    }
}
