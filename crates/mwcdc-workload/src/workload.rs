//! The run's schedule: first the big pages, each created and edited one transaction per
//! revision; then random operations over the wikis, among which every big page is deleted
//! (in batches) in the first half and fully undeleted in the second half.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use rand::{rngs::StdRng, seq::index, Rng, SeedableRng};

use crate::cli::Args;
use crate::clock::{Clock, Ts};
use crate::ops::{self, Ctx, Outcome};
use crate::state::{RemoteGroups, TitleKey, Wiki};

/// A big page, once created.
struct BigPage {
    wiki: usize,
    page_id: u64,
    title: TitleKey,
}

/// An operation on a big page at a fixed place of the random phase.
#[derive(Clone, Copy)]
enum Forced {
    Delete(usize),
    Undelete(usize),
}

/// The generator: wiki states, the seeded random source, the simulated clock and the
/// schedule. The same arguments give the same operations.
pub struct Workload {
    wikis: Vec<Wiki>,
    remote: RemoteGroups,
    rng: StdRng,
    clock: Clock,
    delete_batch_size: usize,
    big_page_revisions: u64,
    big_ops: u64,
    big: Vec<BigPage>,
    /// Forced operations by index in the random phase.
    forced: BTreeMap<u64, Forced>,
    ops: u64,
    done: u64,
}

impl Workload {
    /// A workload as the arguments describe; fails when `--ops` leaves too little room for
    /// the big pages' deletions and undeletions.
    pub fn new(args: &Args) -> Result<Self> {
        let big_pages = usize::from(args.big_pages);
        let big_ops = u64::from(args.big_pages) * args.big_page_revisions;
        let random_ops = args.ops.saturating_sub(big_ops);
        if random_ops < 2 * u64::from(args.big_pages) {
            bail!(
                "--ops {} leaves {random_ops} random operations after the {big_ops} that build \
                 the big pages; each big page needs 2 (its deletion and undeletion): raise \
                 --ops or lower --big-pages / --big-page-revisions",
                args.ops
            );
        }
        let mut rng = StdRng::seed_from_u64(args.seed);
        let half = random_ops / 2;
        let mut forced = BTreeMap::new();
        let deletions = index::sample(&mut rng, usize::try_from(half)?, big_pages);
        let undeletions = index::sample(&mut rng, usize::try_from(random_ops - half)?, big_pages);
        for (big, (deletion, undeletion)) in deletions.iter().zip(undeletions.iter()).enumerate() {
            forced.insert(deletion as u64, Forced::Delete(big));
            forced.insert(half + undeletion as u64, Forced::Undelete(big));
        }
        Ok(Workload {
            wikis: args.wiki_names().map(Wiki::new).collect(),
            remote: RemoteGroups::new(),
            rng,
            clock: Clock::at_start(),
            delete_batch_size: usize::try_from(args.delete_batch_size)?,
            big_page_revisions: args.big_page_revisions,
            big_ops,
            big: Vec::with_capacity(big_pages),
            forced,
            ops: args.ops,
            done: 0,
        })
    }

    /// The next operation, None after the last.
    pub fn next_op(&mut self) -> Result<Option<Outcome>> {
        if self.done == self.ops {
            return Ok(None);
        }
        let index = self.done;
        self.done += 1;
        let now = self.clock.advance(&mut self.rng);
        let outcome = if index < self.big_ops {
            let big = usize::try_from(index / self.big_page_revisions)?;
            let wiki = big % self.wikis.len();
            let mut ctx = Ctx {
                rng: &mut self.rng,
                now,
                wiki: &mut self.wikis[wiki],
            };
            if index % self.big_page_revisions == 0 {
                let (page_id, outcome) = ops::create(&mut ctx, true);
                let title = ctx.wiki.pages.get(&page_id).map(|page| page.key());
                let title = title.ok_or_else(|| anyhow!("big page {big} was not created"))?;
                self.big.push(BigPage {
                    wiki,
                    page_id,
                    title,
                });
                Some(outcome)
            } else {
                let page_id = self.big.get(big).map(|page| page.page_id);
                page_id.and_then(|page_id| ops::edit(&mut ctx, page_id, false))
            }
        } else {
            match self.forced.get(&(index - self.big_ops)).copied() {
                Some(forced) => self.forced_op(forced, now),
                None => {
                    let wiki = self.rng.random_range(0..self.wikis.len());
                    let mut ctx = Ctx {
                        rng: &mut self.rng,
                        now,
                        wiki: &mut self.wikis[wiki],
                    };
                    let batch = self.delete_batch_size;
                    Some(ops::random(&mut ctx, &mut self.remote, batch))
                }
            }
        };
        outcome
            .map(Some)
            .ok_or_else(|| anyhow!("operation {index} found its big page in the wrong state"))
    }

    fn forced_op(&mut self, forced: Forced, now: Ts) -> Option<Outcome> {
        let (Forced::Delete(big) | Forced::Undelete(big)) = forced;
        let page = self.big.get(big)?;
        let mut ctx = Ctx {
            rng: &mut self.rng,
            now,
            wiki: &mut self.wikis[page.wiki],
        };
        match forced {
            Forced::Delete(_) => ops::delete(&mut ctx, page.page_id, self.delete_batch_size, false),
            Forced::Undelete(_) => ops::undelete(&mut ctx, &page.title, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::collections::BTreeSet;

    fn args(extra: &[&str]) -> Args {
        let base = [
            "mwcdc-workload",
            "--url",
            "mysql://u@h",
            "--truth",
            "t.jsonl",
        ];
        Args::parse_from(base.iter().chain(extra))
    }

    fn run(args: &Args) -> Vec<(String, String, Vec<String>)> {
        let mut workload = Workload::new(args).unwrap_or_else(|err| panic!("{err}"));
        let mut out = Vec::new();
        while let Some(outcome) = workload.next_op().unwrap_or_else(|err| panic!("{err}")) {
            for txn in &outcome.txns {
                let truth = txn
                    .truth_lines()
                    .iter()
                    .map(|line| serde_json::to_string(line).unwrap_or_default())
                    .collect();
                out.push((outcome.label.to_owned(), txn.query(), truth));
            }
        }
        out
    }

    #[test]
    fn same_seed_same_sql_and_truth() {
        let a = args(&[
            "--ops",
            "600",
            "--big-pages",
            "1",
            "--big-page-revisions",
            "50",
        ]);
        assert_eq!(run(&a), run(&a));
        let b = args(&[
            "--ops",
            "600",
            "--big-pages",
            "1",
            "--big-page-revisions",
            "50",
            "--seed",
            "7",
        ]);
        assert_ne!(run(&a), run(&b));
    }

    #[test]
    fn every_kind_occurs_in_2000_ops() {
        let a = args(&[
            "--ops",
            "2000",
            "--big-pages",
            "1",
            "--big-page-revisions",
            "250",
            "--delete-batch-size",
            "100",
        ]);
        let labels: BTreeSet<String> = run(&a).into_iter().map(|(label, _, _)| label).collect();
        for label in [
            "create",
            "create_big",
            "edit",
            "edit_big",
            "edit_redirect_toggle",
            "delete",
            "delete_suppress",
            "delete_big",
            "undelete",
            "undelete_partial",
            "undelete_big",
            "revision_delete",
            "revision_suppress",
            "move",
            "move_without_redirect",
            "rights_add",
            "rights_remove",
            "rights_expiry",
            "rights_remote",
            "purge",
        ] {
            assert!(labels.contains(label), "{label} missing from {labels:?}");
        }
    }

    #[test]
    fn big_page_deletion_spans_batches() {
        let a = args(&[
            "--ops",
            "400",
            "--wikis",
            "1",
            "--big-pages",
            "1",
            "--big-page-revisions",
            "250",
            "--delete-batch-size",
            "100",
        ]);
        let txns = run(&a);
        let deletion: Vec<_> = txns
            .iter()
            .filter(|(label, _, _)| label == "delete_big")
            .collect();
        assert_eq!(deletion.len(), 3, "250 revisions in batches of 100");
        assert!(deletion[2]
            .2
            .iter()
            .any(|line| line.contains(r#""action":"delete""#)));
        let undeletion: Vec<_> = txns
            .iter()
            .filter(|(label, _, _)| label == "undelete_big")
            .collect();
        assert_eq!(
            undeletion.len(),
            2,
            "one transaction, then LinksUpdate's page_links_updated"
        );
        assert!(undeletion[0].2[0].contains(r#""restored_revisions":250"#));
        assert!(
            undeletion[1].2.is_empty(),
            "the follow-up changes no entity"
        );
    }

    #[test]
    fn too_few_ops_for_the_big_pages_is_an_error() {
        let a = args(&["--ops", "2000"]);
        assert!(Workload::new(&a).is_err());
    }
}
