//! The operations: each writes the rows MediaWiki writes for one action on one wiki, as one
//! or more transactions, with the entity changes they cause.

mod context;
mod delete;
mod edit;
mod move_page;
mod revdel;
mod rights;
mod rows;
mod undelete;

use rand::{rngs::StdRng, Rng};

pub use context::{Ctx, Outcome};
pub use delete::delete;
pub use edit::{create, edit};
pub use undelete::undelete;

use crate::state::RemoteGroups;

/// The kinds of random operation.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Create,
    Edit,
    Delete,
    Undelete,
    RevisionDelete,
    Move,
    Rights,
    Purge,
}

/// Relative frequencies of the random operations.
const WEIGHTS: [(Kind, u32); 8] = [
    (Kind::Create, 18),
    (Kind::Edit, 45),
    (Kind::Delete, 6),
    (Kind::Undelete, 4),
    (Kind::RevisionDelete, 8),
    (Kind::Move, 8),
    (Kind::Rights, 10),
    (Kind::Purge, 1),
];

/// The share of random page deletions that suppress.
const SUPPRESS_SHARE: f64 = 0.1;
/// The share of random undeletions that restore every archived revision.
const FULL_UNDELETE_SHARE: f64 = 0.6;

/// Runs one random operation on `ctx.wiki` (never touching big pages); a page creation when
/// the chosen kind finds nothing to work on.
pub fn random(ctx: &mut Ctx, remote: &mut RemoteGroups, delete_batch_size: usize) -> Outcome {
    let outcome = match pick_kind(ctx.rng) {
        Kind::Create => None,
        Kind::Edit => ctx
            .wiki
            .pick_page(ctx.rng, |page| !page.big)
            .and_then(|page_id| edit(ctx, page_id, true)),
        Kind::Delete => {
            let suppress = ctx.rng.random_bool(SUPPRESS_SHARE);
            ctx.wiki
                .pick_page(ctx.rng, |page| !page.big)
                .and_then(|page_id| delete(ctx, page_id, delete_batch_size, suppress))
        }
        Kind::Undelete => {
            let full = ctx.rng.random_bool(FULL_UNDELETE_SHARE);
            ctx.wiki
                .pick_deleted_title(ctx.rng)
                .and_then(|key| undelete(ctx, &key, full))
        }
        Kind::RevisionDelete => revdel::change_visibility(ctx),
        Kind::Move => move_page::move_page(ctx),
        Kind::Rights => Some(rights::change_rights(ctx, remote)),
        Kind::Purge => ctx
            .wiki
            .pick_deleted_title(ctx.rng)
            .and_then(|key| undelete::purge(ctx, &key)),
    };
    outcome.unwrap_or_else(|| create(ctx, false).1)
}

fn pick_kind(rng: &mut StdRng) -> Kind {
    let total: u32 = WEIGHTS.iter().map(|&(_, weight)| weight).sum();
    let mut pick = rng.random_range(0..total);
    for (kind, weight) in WEIGHTS {
        if pick < weight {
            return kind;
        }
        pick -= weight;
    }
    Kind::Create
}
