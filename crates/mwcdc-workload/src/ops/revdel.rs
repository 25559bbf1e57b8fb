//! Revision deletion and suppression: a revision's `rev_deleted` bits change.

use rand::{rngs::StdRng, Rng};
use serde_json::json;

use super::context::{Ctx, Outcome};
use super::rows::{self, LogRow};
use crate::php::Php;
use crate::sql::table;
use crate::state;
use crate::truth::{Action, TruthLine};
use crate::txn::Txn;

/// Bit 8 of rev_deleted: restricted (suppressed).
const RESTRICTED: u8 = 8;

/// Changes the visibility of a random non-current revision of a random page, as
/// RevDelRevisionItem::setBits does: UPDATE revision guarded by the old bits, and a
/// `delete/revision` log row, or `suppress/revision` when bit 8 is set before or after.
/// None if no page has an older revision.
pub fn change_visibility(ctx: &mut Ctx) -> Option<Outcome> {
    let page_id = ctx
        .wiki
        .pick_page(ctx.rng, |page| !page.big && !page.history.is_empty())?;
    let page = ctx.wiki.pages.get_mut(&page_id)?;
    let index = ctx.rng.random_range(0..page.history.len());
    let rev = &mut page.history[index];
    let old = rev.deleted;
    let new = new_bits(ctx.rng, old);
    rev.deleted = new;
    let (rev_id, rev_ts) = (rev.id, rev.ts);
    let (ns, title) = page.key();
    let suppress = (old | new) & RESTRICTED != 0;
    let user = state::random_user(ctx.rng);

    let mut txn = Txn::default();
    txn.sql(format!(
        "UPDATE {} SET rev_deleted={new} WHERE rev_id={rev_id} AND rev_deleted={old}",
        table(&ctx.wiki.name, "revision")
    ));
    txn.truth(
        TruthLine::revision(
            &ctx.wiki.name,
            rev_id,
            Action::VisibilityChange,
            json!({"rev_deleted": new}),
        )
        .at(rev_ts)
        .prior(json!({"rev_deleted": old})),
    );
    let params = Php::Map(vec![
        ("4::type", Php::str("revision")),
        // Ids as integers; the bits the request removed and added, not the old and new
        // values (RevDelList::setVisibility).
        (
            "5::ids",
            Php::List(vec![Php::Int(i64::try_from(rev_id).unwrap_or(i64::MAX))]),
        ),
        ("6::ofield", Php::Int(i64::from(old & !new))),
        ("7::nfield", Php::Int(i64::from(new & !old))),
    ]);
    let log = LogRow {
        log_type: if suppress { "suppress" } else { "delete" },
        action: "revision",
        user,
        ns,
        title: &title,
        page: page_id,
        params,
    };
    rows::log(ctx, &mut txn, log);
    let label = if suppress {
        "revision_suppress"
    } else {
        "revision_delete"
    };
    let touched = rows::touched(ctx, page_id);
    Some(Outcome::one(label, txn).then(touched))
}

/// New visibility bits, different from `old`: any value when the revision is suppressed,
/// else a suppression about one time in four, else bits 1, 2 and 4 only.
fn new_bits(rng: &mut StdRng, old: u8) -> u8 {
    let range = if old & RESTRICTED != 0 {
        0..16
    } else if rng.random_bool(0.25) {
        8..16
    } else {
        0..8
    };
    loop {
        let new = rng.random_range(range.clone());
        if new != old {
            return new;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn new_bits_always_change_and_sometimes_suppress() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut suppressions = 0;
        for old in (0..16).cycle().take(1_000) {
            let new = new_bits(&mut rng, old);
            assert!(new != old && new < 16);
            if (old | new) & RESTRICTED != 0 {
                suppressions += 1;
            }
        }
        assert!(suppressions > 0 && suppressions < 1_000);
    }
}
