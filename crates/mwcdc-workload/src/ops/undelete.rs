//! Undeletion and purging of a deleted title's archived revisions.

use mwcdc_mediawiki::tables::REVISION;
use rand::Rng;
use serde_json::json;

use super::context::{Ctx, Outcome};
use super::rows::{self, LogRow};
use crate::binary::binary_json;
use crate::php::Php;
use crate::sql::{id_list, table, Insert};
use crate::state::{self, Archived, Page, TitleKey};
use crate::truth::{Action, TruthLine};
use crate::txn::Txn;

/// Undeletes the title `key` as UndeletePage does, in one transaction: INSERT page (reusing
/// ar_page_id), INSERT the revision rows with their original rev_id and timestamp, DELETE
/// those archive rows, UPDATE page_latest to the newest restored revision, and a
/// `delete/restore` log row. Restores every archived revision when `full`, else a random
/// non-empty subset. None if the title is live or has no archived revisions.
pub fn undelete(ctx: &mut Ctx, key: &TitleKey, full: bool) -> Option<Outcome> {
    if ctx.wiki.is_live(key) {
        return None;
    }
    let archived = ctx.wiki.archived.remove(key)?;
    let (mut restore, mut keep): (Vec<_>, Vec<_>) = if full {
        (archived.rows, Vec::new())
    } else {
        archived
            .rows
            .into_iter()
            .partition(|_| ctx.rng.random_bool(0.5))
    };
    if restore.is_empty() {
        restore.push(keep.remove(0));
    }
    let (ns, title) = key.clone();
    let page_id = archived.page_id;
    let count = restore.len();
    let user = state::random_user(ctx.rng);

    let mut txn = Txn::default();
    rows::insert_page(ctx, &mut txn, page_id, ns, &title);
    txn.truth(
        TruthLine::page(
            &ctx.wiki.name,
            page_id,
            Action::Undelete,
            json!({"page_title": binary_json(&title), "restored_revisions": count}),
        )
        .at(ctx.now),
    );
    let mut insert = Insert::new(&ctx.wiki.name, REVISION.name, REVISION.columns);
    for row in &restore {
        rows::push_revision(&mut insert, page_id, &row.rev);
        txn.truth(
            TruthLine::revision(
                &ctx.wiki.name,
                row.rev.id,
                Action::Restore,
                json!({"rev_page": page_id, "rev_deleted": row.rev.deleted}),
            )
            .at(row.rev.ts),
        );
    }
    txn.sql(insert.sql());
    let ar_ids: Vec<u64> = restore.iter().map(|row| row.ar_id).collect();
    txn.sql(format!(
        "DELETE FROM {} WHERE ar_id IN {}",
        table(&ctx.wiki.name, "archive"),
        id_list(&ar_ids)
    ));
    let mut history: Vec<_> = restore.into_iter().map(|row| row.rev).collect();
    let latest = history.pop()?;
    rows::update_latest(ctx, &mut txn, page_id, &latest, 0);
    let params = Php::Map(vec![(
        ":assoc:count",
        Php::Map(vec![
            ("revisions", Php::Int(count as i64)),
            ("files", Php::Int(0)),
        ]),
    )]);
    let log = LogRow {
        log_type: "delete",
        action: "restore",
        user,
        ns,
        title: &title,
        page: page_id,
        params,
    };
    rows::log(ctx, &mut txn, log);

    let label = match (archived.big, keep.is_empty()) {
        (true, _) => "undelete_big",
        (false, true) => "undelete",
        (false, false) => "undelete_partial",
    };
    ctx.wiki.add_page(Page {
        id: page_id,
        ns,
        title,
        latest,
        history,
        big: archived.big,
    });
    if !keep.is_empty() {
        let rest = Archived {
            page_id,
            big: archived.big,
            rows: keep,
        };
        ctx.wiki.archived.insert(key.clone(), rest);
    }
    let links = rows::links_updated(ctx, page_id);
    Some(Outcome::one(label, txn).then(links))
}

/// Purges the title `key`'s archived revisions for good: DELETE of its archive rows, no log
/// row. None if it has none.
pub fn purge(ctx: &mut Ctx, key: &TitleKey) -> Option<Outcome> {
    let archived = ctx.wiki.archived.remove(key)?;
    let mut txn = Txn::default();
    let ar_ids: Vec<u64> = archived.rows.iter().map(|row| row.ar_id).collect();
    txn.sql(format!(
        "DELETE FROM {} WHERE ar_id IN {}",
        table(&ctx.wiki.name, "archive"),
        id_list(&ar_ids)
    ));
    for row in &archived.rows {
        txn.truth(
            TruthLine::revision(
                &ctx.wiki.name,
                row.rev.id,
                Action::Purge,
                json!({"ar_page_id": archived.page_id}),
            )
            .at(row.rev.ts),
        );
    }
    Some(Outcome::one("purge", txn))
}
