//! Fact gathering: what the planners need of each row change of a transaction, read in one
//! pass.
//!
//! For revision and archive rows a 24-byte fact each (the rev_id, the row's index, its kind,
//! its visibility bits), for each page its namespace, title and redirect flag before and
//! after, for logging and user_groups rows (a handful per transaction) their decoded content.
//! Rows a snapshot read are only noted, by index and table: they pair with nothing.

use std::borrow::Cow;
use std::collections::HashMap;

use mwcdc_change::{Op, RowChange};
use mwcdc_record::BinaryMode;

use crate::entity::Action;
use crate::fold::table::Table;
use crate::params::Params;
use crate::row::{mw_timestamp, Row};

/// The kind of a revision or archive row change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RevKind {
    RevInsert,
    RevDelete,
    ArInsert,
    ArDelete,
    /// An update of either table that changes the visibility bits.
    VisibilityUpdate,
    /// Any other update of either table.
    Update,
}

/// What pairing needs of one revision or archive row.
#[derive(Debug, Clone, Copy)]
pub(super) struct RevFact {
    pub(super) rev_id: u64,
    /// ar_id of an archive row.
    pub(super) ar_id: u64,
    pub(super) seq: u32,
    pub(super) wiki: u16,
    pub(super) kind: RevKind,
    /// The visibility bits (the before image's for deletes, the after image's otherwise).
    pub(super) bits: u8,
}

/// A page row's title and redirect flag.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PageState {
    pub(crate) namespace: Option<i64>,
    pub(crate) title: Vec<u8>,
    pub(crate) is_redirect: Option<u64>,
}

impl PageState {
    fn of(row: Row<'_>) -> Self {
        Self {
            namespace: row.int("page_namespace"),
            title: row.bytes("page_title").unwrap_or_default().to_vec(),
            is_redirect: row.uint("page_is_redirect"),
        }
    }
}

/// Every row change of one page in the transaction.
#[derive(Debug)]
pub(crate) struct PageFact {
    pub(super) wiki: u16,
    pub(super) first_seq: u32,
    pub(super) first_op: Op,
    pub(super) last_op: Op,
    pub(super) last_seq: u32,
    /// The state before the transaction (from the first before image).
    pub(crate) first: Option<PageState>,
    /// The state after the transaction (from the last after image).
    pub(super) last: Option<PageState>,
}

/// A logging row.
#[derive(Debug)]
pub(crate) struct LogFact {
    pub(crate) seq: u32,
    pub(crate) wiki: u16,
    pub(crate) log_id: Option<u64>,
    pub(crate) log_type: Vec<u8>,
    pub(crate) log_action: Vec<u8>,
    pub(crate) timestamp: Option<String>,
    pub(crate) page: Option<u64>,
    pub(crate) namespace: Option<i64>,
    pub(crate) title: Vec<u8>,
    pub(crate) actor: Option<u64>,
    pub(crate) comment_id: Option<u64>,
    /// `log_params` decoded in UTF-8 mode, for the folding.
    pub(crate) params: Params,
    /// `log_params` as stored.
    pub(crate) raw_params: Vec<u8>,
}

impl LogFact {
    /// The parameters decoded with `binary`, the way records show them.
    pub(crate) fn params_as(&self, binary: BinaryMode) -> Cow<'_, Params> {
        if binary == BinaryMode::Utf8 {
            Cow::Borrowed(&self.params)
        } else {
            Cow::Owned(Params::decode(&self.raw_params, binary))
        }
    }

    /// Whether the row records `log_type` with one of `actions`.
    pub(super) fn is(&self, log_type: &str, actions: &[&str]) -> bool {
        self.log_type == log_type.as_bytes()
            && actions.iter().any(|a| self.log_action == a.as_bytes())
    }
}

/// An archived revision's namespace, title and `ar_timestamp`.
pub(super) type ArchivedTitle = (Option<i64>, Vec<u8>, Vec<u8>);

/// What the first pass found.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub(super) wikis: Vec<String>,
    pub(super) revs: Vec<RevFact>,
    pub(crate) pages: Vec<PageFact>,
    /// Index of `pages` by wiki and page id.
    pub(super) page_index: HashMap<(u16, u64), usize>,
    pub(crate) logs: Vec<LogFact>,
    /// user_groups rows: (seq, wiki, group, action by the row).
    pub(super) ugs: Vec<(u32, u16, Vec<u8>, Action)>,
    /// Archive rows whose visibility bits changed, by row index: namespace, title and
    /// timestamp, which a `4::type = archive` revision deletion log row names them by.
    pub(super) archived_visibility: HashMap<u32, ArchivedTitle>,
    /// Revisions restored, per wiki (counted by the revision planner, read by the page
    /// planner).
    pub(super) restored: Vec<u64>,
    /// logging row changes other than no-op updates: (seq, op).
    pub(super) log_rows: Vec<(u32, Op)>,
    /// Rows a snapshot read ([`Op::Read`]): (seq, table). The other planners never see them.
    pub(super) reads: Vec<(u32, Table)>,
}

impl Facts {
    fn wiki(&mut self, db: &str) -> u16 {
        match self.wikis.iter().position(|w| w == db) {
            Some(i) => i as u16,
            None => {
                self.wikis.push(db.to_string());
                (self.wikis.len() - 1) as u16
            }
        }
    }

    /// Adds what row change `c`, the row with index `seq` of MediaWiki table `table`, says.
    pub(super) fn add(&mut self, seq: u32, table: Table, c: &RowChange) {
        let schema = &*c.table;
        let before = c.before.as_deref().map(|values| Row { schema, values });
        let after = c.after.as_deref().map(|values| Row { schema, values });
        let Some(current) = after.or(before) else {
            return;
        };
        if c.op == Op::Read {
            self.reads.push((seq, table));
            return;
        }
        let wiki = self.wiki(&schema.db);
        match table {
            Table::Revision | Table::Archive => {
                let (id_col, bits_col) = if table == Table::Revision {
                    ("rev_id", "rev_deleted")
                } else {
                    ("ar_rev_id", "ar_deleted")
                };
                let Some(rev_id) = current.uint(id_col) else {
                    return;
                };
                let bits = |r: Option<Row<'_>>| r.and_then(|r| r.uint(bits_col)).unwrap_or(0) as u8;
                let kind = match (table, c.op) {
                    (Table::Revision, Op::Create) => RevKind::RevInsert,
                    (Table::Revision, Op::Delete) => RevKind::RevDelete,
                    (_, Op::Create) => RevKind::ArInsert,
                    (_, Op::Delete) => RevKind::ArDelete,
                    _ if c.before == c.after => return,
                    _ if bits(before) != bits(after) => RevKind::VisibilityUpdate,
                    _ => RevKind::Update,
                };
                if table == Table::Archive && kind == RevKind::VisibilityUpdate {
                    self.archived_visibility.insert(
                        seq,
                        (
                            current.int("ar_namespace"),
                            current.bytes("ar_title").unwrap_or_default().to_vec(),
                            current.bytes("ar_timestamp").unwrap_or_default().to_vec(),
                        ),
                    );
                }
                self.revs.push(RevFact {
                    rev_id,
                    ar_id: if table == Table::Archive {
                        current.uint("ar_id").unwrap_or(0)
                    } else {
                        0
                    },
                    seq,
                    wiki,
                    kind,
                    bits: bits(Some(current)),
                });
            }
            Table::Page => {
                let Some(page_id) = current.uint("page_id") else {
                    return;
                };
                match self.page_index.get(&(wiki, page_id)) {
                    Some(&i) => {
                        let p = &mut self.pages[i];
                        p.last_op = c.op;
                        p.last_seq = seq;
                        if let Some(a) = after {
                            p.last = Some(PageState::of(a));
                        }
                    }
                    None => {
                        self.page_index.insert((wiki, page_id), self.pages.len());
                        self.pages.push(PageFact {
                            wiki,
                            first_seq: seq,
                            first_op: c.op,
                            last_op: c.op,
                            last_seq: seq,
                            first: before.map(PageState::of),
                            last: after.map(PageState::of),
                        });
                    }
                }
            }
            Table::Logging => {
                if c.op == Op::Update && c.before == c.after {
                    return;
                }
                if c.op != Op::Create {
                    self.log_rows.push((seq, c.op));
                    return;
                }
                // Read by the folding in UTF-8 mode whatever output.binary is: strings stay
                // strings. Records show the parameters in the configured mode.
                let raw_params = current.bytes("log_params").unwrap_or_default();
                let params = Params::decode(raw_params, BinaryMode::Utf8);
                self.logs.push(LogFact {
                    seq,
                    wiki,
                    log_id: current.uint("log_id"),
                    log_type: current.bytes("log_type").unwrap_or_default().to_vec(),
                    log_action: current.bytes("log_action").unwrap_or_default().to_vec(),
                    timestamp: current.bytes("log_timestamp").and_then(mw_timestamp),
                    page: current.uint("log_page").filter(|&p| p != 0),
                    namespace: current.int("log_namespace"),
                    title: current.bytes("log_title").unwrap_or_default().to_vec(),
                    actor: current.uint("log_actor"),
                    comment_id: current.uint("log_comment_id"),
                    params,
                    raw_params: raw_params.to_vec(),
                });
                self.log_rows.push((seq, c.op));
            }
            Table::UserGroups => {
                let (user_ok, Some(group)) =
                    (current.uint("ug_user").is_some(), current.bytes("ug_group"))
                else {
                    return;
                };
                let action = match c.op {
                    Op::Create => Action::Add,
                    Op::Delete => Action::Remove,
                    _ if c.before == c.after => return,
                    _ => Action::ExpiryChange,
                };
                if user_ok {
                    self.ugs.push((seq, wiki, group.to_vec(), action));
                }
            }
        }
    }
}
