//! Page deletion: revisions moved to `archive` in batches, one transaction each; the last
//! batch also deletes the page row and writes the log row.

use mwcdc_mediawiki::tables::ARCHIVE;
use serde_json::json;

use super::context::{Ctx, Outcome};
use super::rows::{self, LogRow};
use crate::binary::binary_json;
use crate::php::Php;
use crate::sql::{id_list, table, Insert};
use crate::state::{self, ArRev, Archived, Seq};
use crate::truth::{Action, TruthLine};
use crate::txn::Txn;

/// All visibility bits: what `ar_deleted` gets when a deletion suppresses.
const ALL_BITS: u8 = 15;

/// Deletes page `page_id` as DeletePage does: every `batch_size` revisions (oldest first)
/// are one transaction of INSERT archive rows then DELETE of those revision rows; the last
/// one also DELETEs the page row and writes `delete/delete`, or `suppress/delete` (all
/// visibility bits on the archived rows) when `suppress`. None if there is no such page.
pub fn delete(ctx: &mut Ctx, page_id: u64, batch_size: usize, suppress: bool) -> Option<Outcome> {
    let page = ctx.wiki.remove_page(page_id)?;
    let key = page.key();
    let mut revs = page.history;
    revs.push(page.latest);
    let user = state::random_user(ctx.rng);
    let batches = revs.len().div_ceil(batch_size.max(1));
    let mut archived = Vec::with_capacity(revs.len());
    let mut txns = Vec::with_capacity(batches);
    for (index, batch) in revs.chunks(batch_size.max(1)).enumerate() {
        let mut txn = Txn::default();
        let mut insert = Insert::new(&ctx.wiki.name, ARCHIVE.name, ARCHIVE.columns);
        for rev in batch {
            let ar_id = ctx.wiki.ids.take(Seq::Archive);
            let ar_deleted = if suppress { ALL_BITS } else { rev.deleted };
            insert.push(&[
                &ar_id,
                &page.ns,
                &page.title,
                &rev.comment,
                &rev.actor,
                &rev.ts.mw(),
                &rev.minor,
                &rev.id,
                &ar_deleted,
                &rev.len,
                &page_id,
                &rev.parent,
                &rev.sha1,
            ]);
            txn.truth(
                TruthLine::revision(
                    &ctx.wiki.name,
                    rev.id,
                    Action::Archive,
                    json!({"ar_page_id": page_id, "ar_deleted": ar_deleted}),
                )
                .at(rev.ts)
                .prior(json!({"rev_deleted": rev.deleted})),
            );
            let mut rev = rev.clone();
            rev.deleted = ar_deleted;
            archived.push(ArRev { ar_id, rev });
        }
        txn.sql(insert.sql());
        let ids: Vec<u64> = batch.iter().map(|rev| rev.id).collect();
        txn.sql(format!(
            "DELETE FROM {} WHERE rev_id IN {}",
            table(&ctx.wiki.name, "revision"),
            id_list(&ids)
        ));
        if index + 1 == batches {
            txn.sql(format!(
                "DELETE FROM {} WHERE page_id={page_id}",
                table(&ctx.wiki.name, "page")
            ));
            txn.truth(
                TruthLine::page(
                    &ctx.wiki.name,
                    page_id,
                    Action::Delete,
                    json!({"page_namespace": page.ns, "page_title": binary_json(&page.title)}),
                )
                .at(ctx.now),
            );
            let log = LogRow {
                log_type: if suppress { "suppress" } else { "delete" },
                action: "delete",
                user,
                ns: page.ns,
                title: &page.title,
                page: page_id,
                params: Php::List(Vec::new()),
            };
            rows::log(ctx, &mut txn, log);
        }
        txns.push(txn);
    }
    let entry = ctx.wiki.archived.entry(key).or_insert_with(|| Archived {
        page_id,
        big: page.big,
        rows: Vec::new(),
    });
    entry.rows.extend(archived);
    entry.rows.sort_by_key(|row| row.rev.id);
    let label = match (page.big, suppress) {
        (true, _) => "delete_big",
        (false, true) => "delete_suppress",
        (false, false) => "delete",
    };
    Some(Outcome { label, txns })
}
