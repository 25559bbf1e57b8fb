//! Page moves, with or without a redirect left at the old title.

use rand::Rng;
use serde_json::json;

use super::context::{Ctx, Outcome};
use super::edit::content_len;
use super::rows::{self, Content, LogRow, NewRev};
use crate::binary::binary_json;
use crate::names;
use crate::php::Php;
use crate::sql::{table, Lit};
use crate::state::{self, Page, Seq};
use crate::truth::{Action, TruthLine};
use crate::txn::Txn;

/// Moves a random page to a new title as MovePage does: UPDATE page's title, a null
/// revision (same content) and page_latest; when leaving a redirect (seven times in ten), a
/// new page at the old title with its own revision; and a `move/move` log row. Pages whose
/// title has archived revisions are not moved (see `state`). None if there is no candidate.
pub fn move_page(ctx: &mut Ctx) -> Option<Outcome> {
    let archived = &ctx.wiki.archived;
    let page_id = ctx.wiki.pick_page(ctx.rng, |page| {
        !page.big && !archived.contains_key(&page.key())
    })?;
    let page = ctx.wiki.pages.get(&page_id)?;
    let (old_ns, old_title) = page.key();
    let old_latest = page.latest.clone();
    let new_ns = if ctx.rng.random_bool(0.3) {
        names::namespace(ctx.rng)
    } else {
        old_ns
    };
    let new_title = ctx.wiki.fresh_title(ctx.rng, new_ns);
    let redirect = ctx.rng.random_bool(0.7);
    let user = state::random_user(ctx.rng);
    let comment = names::comment(ctx.rng);

    let mut txn = Txn::default();
    txn.sql(format!(
        "UPDATE {} SET page_namespace={new_ns}, page_title={} WHERE page_id={page_id}",
        table(&ctx.wiki.name, "page"),
        new_title.lit(),
    ));
    txn.truth(
        TruthLine::page(
            &ctx.wiki.name,
            page_id,
            Action::Move,
            json!({"page_namespace": new_ns, "page_title": binary_json(&new_title)}),
        )
        .at(ctx.now)
        .prior(json!({"page_namespace": old_ns, "page_title": binary_json(&old_title)})),
    );
    ctx.wiki.retitle(page_id, new_ns, new_title.clone());
    let null_revision = NewRev {
        page: page_id,
        parent: old_latest.id,
        comment: &comment,
        user,
        minor: true,
        content: Content::Same(old_latest.clone()),
    };
    let rev = rows::revision(ctx, &mut txn, null_revision);
    rows::update_latest(ctx, &mut txn, page_id, &rev, old_latest.id);
    let null_revision_id = rev.id;
    let page = ctx.wiki.pages.get_mut(&page_id)?;
    page.history.push(std::mem::replace(&mut page.latest, rev));

    if redirect {
        let redirect_id = ctx.wiki.ids.take(Seq::Page);
        rows::insert_page(ctx, &mut txn, redirect_id, old_ns, &old_title);
        txn.truth(TruthLine::page(
            &ctx.wiki.name,
            redirect_id,
            Action::Create,
            json!({
                "page_namespace": old_ns,
                "page_title": binary_json(&old_title),
                "page_is_redirect": 1,
            }),
        ));
        let len = content_len(ctx, true);
        let first = NewRev {
            page: redirect_id,
            parent: 0,
            comment: &comment,
            user,
            minor: false,
            content: Content::New {
                len,
                is_redirect: true,
            },
        };
        let rev = rows::revision(ctx, &mut txn, first);
        rows::update_latest(ctx, &mut txn, redirect_id, &rev, 0);
        ctx.wiki.add_page(Page {
            id: redirect_id,
            ns: old_ns,
            title: old_title.clone(),
            latest: rev,
            history: Vec::new(),
            big: false,
        });
    }

    let params = Php::Map(vec![
        (
            "4::target",
            Php::str(names::prefixed_text(new_ns, &new_title)),
        ),
        ("5::noredir", Php::str(if redirect { "0" } else { "1" })),
        // ManualLogEntry::setAssociatedRevId: the null revision.
        (
            "associated_rev_id",
            Php::Int(i64::try_from(null_revision_id).unwrap_or(i64::MAX)),
        ),
    ]);
    let log = LogRow {
        log_type: "move",
        action: "move",
        user,
        ns: old_ns,
        title: &old_title,
        page: page_id,
        params,
    };
    rows::log(ctx, &mut txn, log);
    let label = if redirect {
        "move"
    } else {
        "move_without_redirect"
    };
    let links = rows::links_updated(ctx, page_id);
    Some(Outcome::one(label, txn).then(links))
}
