//! Row writers shared by the operations: comment, actor, content/revision/slots, page and
//! logging rows, each with the entity change it causes.

use mwcdc_mediawiki::tables::{LOGGING, PAGE, REVISION};
use rand::{seq::IndexedRandom, Rng};
use serde_json::json;

use super::context::Ctx;
use crate::binary::binary_json;
use crate::names;
use crate::php::Php;
use crate::sql::{table, Insert, Lit, Null};
use crate::state::{Rev, Seq};
use crate::truth::{Action, TruthLine};
use crate::txn::Txn;

/// MediaWiki's content model id for wikitext.
const WIKITEXT_MODEL: u16 = 1;
/// slot_role_id of the main slot.
const MAIN_ROLE: u16 = 1;

/// Adds `rev` as a `revision` row of page `page`, to an INSERT of every column of
/// [`REVISION`] (in that order).
pub fn push_revision(insert: &mut Insert, page: u64, rev: &Rev) {
    insert.push(&[
        &rev.id,
        &page,
        &rev.comment,
        &rev.actor,
        &rev.ts.mw(),
        &rev.minor,
        &rev.deleted,
        &rev.len,
        &rev.parent,
        &rev.sha1,
    ]);
}

/// Writes the comment row if this text is new; returns its comment_id.
pub fn comment(ctx: &mut Ctx, txn: &mut Txn, text: &[u8]) -> u64 {
    let (id, new) = ctx.wiki.comment(text);
    if new {
        let columns = ["comment_id", "comment_hash", "comment_text", "comment_data"];
        let insert = Insert::new(&ctx.wiki.name, "comment", &columns);
        txn.sql(insert.row(&[&id, &comment_hash(text), &text, &Null]).sql());
    }
    id
}

/// Writes the actor row of user `user` if it is new; returns its actor_id.
pub fn actor(ctx: &mut Ctx, txn: &mut Txn, user: u32) -> u64 {
    let (id, new) = ctx.wiki.actor(user);
    if new {
        let columns = ["actor_id", "actor_user", "actor_name"];
        let insert = Insert::new(&ctx.wiki.name, "actor", &columns);
        txn.sql(insert.row(&[&id, &user, &names::user_name(user)]).sql());
    }
    id
}

/// What a new revision's main slot holds.
pub enum Content {
    /// New content of this length.
    New {
        /// content_size and rev_len.
        len: u32,
        /// Whether the content is a redirect.
        is_redirect: bool,
    },
    /// The same content as this revision (a null revision).
    Same(Rev),
}

/// A revision to write.
pub struct NewRev<'a> {
    /// rev_page
    pub page: u64,
    /// rev_parent_id (0 for a page's first revision)
    pub parent: u64,
    /// The edit summary.
    pub comment: &'a [u8],
    /// The editing user.
    pub user: u32,
    /// rev_minor_edit
    pub minor: bool,
    /// The main slot.
    pub content: Content,
}

/// Writes comment, actor, content (when new), revision and slots rows, as MediaWiki's
/// RevisionStore does, and the revision's `create` change; returns the revision.
pub fn revision(ctx: &mut Ctx, txn: &mut Txn, new: NewRev) -> Rev {
    let comment = comment(ctx, txn, new.comment);
    let actor = actor(ctx, txn, new.user);
    let id = ctx.wiki.ids.take(Seq::Revision);
    let (content, origin, len, sha1, is_redirect) = match new.content {
        Content::New { len, is_redirect } => {
            let content = ctx.wiki.ids.take(Seq::Content);
            let sha1 = sha1(ctx);
            let columns = [
                "content_id",
                "content_size",
                "content_sha1",
                "content_model",
                "content_address",
            ];
            let address = format!("tt:{content}");
            let insert = Insert::new(&ctx.wiki.name, "content", &columns);
            txn.sql(
                insert
                    .row(&[&content, &len, &sha1, &u32::from(WIKITEXT_MODEL), &address])
                    .sql(),
            );
            (content, id, len, sha1, is_redirect)
        }
        Content::Same(rev) => (rev.content, rev.origin, rev.len, rev.sha1, rev.is_redirect),
    };
    let rev = Rev {
        id,
        comment,
        actor,
        ts: ctx.now,
        minor: new.minor,
        deleted: 0,
        len,
        parent: new.parent,
        sha1,
        content,
        origin,
        is_redirect,
    };
    let mut insert = Insert::new(&ctx.wiki.name, REVISION.name, REVISION.columns);
    push_revision(&mut insert, new.page, &rev);
    txn.sql(insert.sql());
    let columns = [
        "slot_revision_id",
        "slot_role_id",
        "slot_content_id",
        "slot_origin",
    ];
    let insert = Insert::new(&ctx.wiki.name, "slots", &columns);
    txn.sql(
        insert
            .row(&[&id, &u32::from(MAIN_ROLE), &content, &origin])
            .sql(),
    );
    txn.truth(
        TruthLine::revision(
            &ctx.wiki.name,
            id,
            Action::Create,
            json!({"rev_page": new.page, "rev_deleted": 0}),
        )
        .at(ctx.now),
    );
    rev
}

/// Writes a new `page` row as WikiPage::insertOn does: page_latest 0, not a redirect,
/// new, no content model yet; the revision's UPDATE follows in the same transaction.
pub fn insert_page(ctx: &mut Ctx, txn: &mut Txn, page_id: u64, ns: i32, title: &[u8]) {
    let random: f64 = ctx.rng.random();
    let insert = Insert::new(&ctx.wiki.name, PAGE.name, PAGE.columns);
    txn.sql(
        insert
            .row(&[
                &page_id,
                &ns,
                &title,
                &false,
                &true,
                &random,
                &ctx.now.mw(),
                &Null,
                &0u64,
                &0u32,
                &Null,
                &Null,
            ])
            .sql(),
    );
}

/// Points page `page_id` at its new latest revision, guarded by the old page_latest, as
/// WikiPage::updateRevisionOn does: page_touched becomes the revision's timestamp (in the
/// past for an undeletion), page_content_model is set (NULL in a row insertOn made).
pub fn update_latest(ctx: &Ctx, txn: &mut Txn, page_id: u64, rev: &Rev, old_latest: u64) {
    txn.sql(format!(
        "UPDATE {} SET page_latest={}, page_touched={}, page_len={}, page_is_new={}, \
         page_is_redirect={}, page_content_model='wikitext' \
         WHERE page_id={page_id} AND page_latest={old_latest}",
        table(&ctx.wiki.name, "page"),
        rev.id,
        rev.ts.mw().lit(),
        rev.len,
        u8::from(old_latest == 0),
        u8::from(rev.is_redirect),
    ));
}

/// The transaction LinksUpdate commits after an edit, a creation, a move or an undeletion:
/// page_links_updated of page `page_id` set to now.
pub fn links_updated(ctx: &Ctx, page_id: u64) -> Txn {
    let mut txn = Txn::default();
    txn.sql(format!(
        "UPDATE {} SET page_links_updated={} WHERE page_id={page_id}",
        table(&ctx.wiki.name, "page"),
        ctx.now.mw().lit(),
    ));
    txn
}

/// The transaction that invalidates page `page_id`'s caches after a revision deletion
/// (WikiPage::invalidateCache): page_touched set to now.
pub fn touched(ctx: &Ctx, page_id: u64) -> Txn {
    let mut txn = Txn::default();
    txn.sql(format!(
        "UPDATE {} SET page_touched={} WHERE page_id={page_id}",
        table(&ctx.wiki.name, "page"),
        ctx.now.mw().lit(),
    ));
    txn
}

/// A `logging` row to write.
pub struct LogRow<'a> {
    /// log_type
    pub log_type: &'static str,
    /// log_action
    pub action: &'static str,
    /// The performing user.
    pub user: u32,
    /// log_namespace
    pub ns: i32,
    /// log_title
    pub title: &'a [u8],
    /// log_page
    pub page: u64,
    /// log_params, before serialization.
    pub params: Php,
}

/// Writes the log comment and the `logging` row, and the log's `create` change; returns
/// log_id.
pub fn log(ctx: &mut Ctx, txn: &mut Txn, row: LogRow) -> u64 {
    let text = names::comment(ctx.rng);
    let comment = comment(ctx, txn, &text);
    let actor = actor(ctx, txn, row.user);
    let id = ctx.wiki.ids.take(Seq::Log);
    let insert = Insert::new(&ctx.wiki.name, LOGGING.name, LOGGING.columns);
    txn.sql(
        insert
            .row(&[
                &id,
                &row.log_type,
                &row.action,
                &ctx.now.mw(),
                &actor,
                &row.ns,
                &row.title,
                &row.page,
                &comment,
                &row.params.serialize(),
                &0u8,
            ])
            .sql(),
    );
    txn.truth(
        TruthLine::log(
            &ctx.wiki.name,
            id,
            json!({
                "log_type": row.log_type,
                "log_action": row.action,
                "log_title": binary_json(row.title),
                "log_params": row.params.to_json(),
            }),
        )
        .at(ctx.now),
    );
    id
}

/// A random SHA-1 in MediaWiki's base-36 form (31 characters).
fn sha1(ctx: &mut Ctx) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..31)
        .map(|_| char::from(*DIGITS.choose(ctx.rng).unwrap_or(&b'0')))
        .collect()
}

/// comment_hash as MediaWiki computes it for a comment without data: CRC-32 of the text,
/// as a signed 32-bit integer.
pub fn comment_hash(text: &[u8]) -> i32 {
    let mut crc = !0u32;
    for &byte in text {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    i32::from_ne_bytes((!crc).to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_hash_is_signed_crc32() {
        assert_eq!(comment_hash(b""), 0);
        // crc32("123456789") = 0xCBF43926, which PHP's comment code folds to a signed int.
        assert_eq!(comment_hash(b"123456789"), 0xCBF4_3926_u32 as i32);
    }
}
