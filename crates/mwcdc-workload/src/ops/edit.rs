//! Page creation and edits.

use rand::Rng;
use serde_json::json;

use super::context::{Ctx, Outcome};
use super::rows::{self, Content, LogRow, NewRev};
use crate::binary::binary_json;
use crate::names;
use crate::php::Php;
use crate::state::{self, Page, Seq};
use crate::truth::{Action, TruthLine};
use crate::txn::Txn;

/// Creates a page as MediaWiki does: INSERT page (page_latest 0), its first revision,
/// UPDATE page, and a `create/create` log row. Big pages are in the main namespace, never
/// redirects, and left alone by random operations. Returns the page id and the outcome.
pub fn create(ctx: &mut Ctx, big: bool) -> (u64, Outcome) {
    let ns = if big { 0 } else { names::namespace(ctx.rng) };
    let title = ctx.wiki.fresh_title(ctx.rng, ns);
    let is_redirect = !big && ctx.rng.random_bool(0.05);
    let page_id = ctx.wiki.ids.take(Seq::Page);
    let user = state::random_user(ctx.rng);
    let comment = names::comment(ctx.rng);
    let len = content_len(ctx, is_redirect);

    let mut txn = Txn::default();
    rows::insert_page(ctx, &mut txn, page_id, ns, &title);
    txn.truth(
        TruthLine::page(
            &ctx.wiki.name,
            page_id,
            Action::Create,
            json!({
                "page_namespace": ns,
                "page_title": binary_json(&title),
                "page_is_redirect": u8::from(is_redirect),
            }),
        )
        .at(ctx.now),
    );
    let new = NewRev {
        page: page_id,
        parent: 0,
        comment: &comment,
        user,
        minor: false,
        content: Content::New { len, is_redirect },
    };
    let rev = rows::revision(ctx, &mut txn, new);
    rows::update_latest(ctx, &mut txn, page_id, &rev, 0);
    let params = Php::Map(vec![("associated_rev_id", Php::Int(rev.id as i64))]);
    let log = LogRow {
        log_type: "create",
        action: "create",
        user,
        ns,
        title: &title,
        page: page_id,
        params,
    };
    rows::log(ctx, &mut txn, log);
    ctx.wiki.add_page(Page {
        id: page_id,
        ns,
        title,
        latest: rev,
        history: Vec::new(),
        big,
    });
    let label = if big { "create_big" } else { "create" };
    let links = rows::links_updated(ctx, page_id);
    (page_id, Outcome::one(label, txn).then(links))
}

/// Edits page `page_id`: a new revision whose parent is the current one, and the guarded
/// UPDATE of the page. When `may_toggle`, about one edit in ten turns the page into a
/// redirect or back, which is a page `redirect_change`. None if there is no such page.
pub fn edit(ctx: &mut Ctx, page_id: u64, may_toggle: bool) -> Option<Outcome> {
    let old = ctx.wiki.pages.get(&page_id)?.latest.clone();
    let toggle = may_toggle && ctx.rng.random_bool(0.1);
    let is_redirect = old.is_redirect != toggle;
    let user = state::random_user(ctx.rng);
    let comment = names::comment(ctx.rng);
    let minor = ctx.rng.random_bool(0.3);
    let len = content_len(ctx, is_redirect);

    let mut txn = Txn::default();
    let new = NewRev {
        page: page_id,
        parent: old.id,
        comment: &comment,
        user,
        minor,
        content: Content::New { len, is_redirect },
    };
    let rev = rows::revision(ctx, &mut txn, new);
    rows::update_latest(ctx, &mut txn, page_id, &rev, old.id);
    if toggle {
        txn.truth(
            TruthLine::page(
                &ctx.wiki.name,
                page_id,
                Action::RedirectChange,
                json!({"page_is_redirect": u8::from(is_redirect)}),
            )
            .prior(json!({"page_is_redirect": u8::from(old.is_redirect)})),
        );
    }
    let page = ctx.wiki.pages.get_mut(&page_id)?;
    page.history.push(std::mem::replace(&mut page.latest, rev));
    let label = match (page.big, toggle) {
        (true, _) => "edit_big",
        (false, true) => "edit_redirect_toggle",
        (false, false) => "edit",
    };
    let links = rows::links_updated(ctx, page_id);
    Some(Outcome::one(label, txn).then(links))
}

/// A content length: short for a redirect, anything up to 20 kB for an article.
pub fn content_len(ctx: &mut Ctx, is_redirect: bool) -> u32 {
    if is_redirect {
        ctx.rng.random_range(20..80)
    } else {
        ctx.rng.random_range(100..20_000)
    }
}
