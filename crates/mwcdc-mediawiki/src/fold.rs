//! The first pass over a transaction: what its rows mean for MediaWiki's entities.
//!
//! The pass reads every change once and keeps only what pairing needs: for revision and
//! archive rows a 24-byte fact each (the rev_id, the row's index, its kind, its visibility
//! bits), for each page its namespace, title and redirect flag before and after, for logging
//! and user_groups rows (a handful per transaction) their decoded content. It ends with a [`Plan`]: the entity changes of the transaction, each anchored at
//! the row that carries the entity's new state, in binlog order. The second pass
//! ([`crate::encode`]) reads the changes again and writes a record at each anchor.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;

use mwcdc_change::{Op, RowChange, SpillError, TableSchema, Transaction};
use mwcdc_record::BinaryMode;

use crate::row::{mw_timestamp, Row};
use crate::Captured;

/// An entity kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A revision, live or archived (key `rev_id`).
    Revision = 0,
    /// A page (key `page_id`).
    Page = 1,
    /// A log entry (key `log_id`).
    Log = 2,
    /// A user's membership of a group (key user and group).
    UserGroup = 3,
}

impl Entity {
    /// Every entity kind.
    pub const ALL: [Entity; 4] = [
        Entity::Revision,
        Entity::Page,
        Entity::Log,
        Entity::UserGroup,
    ];

    /// The position of the kind in [`Entity::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in topics, ids and records.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Revision => "revision",
            Entity::Page => "page",
            Entity::Log => "log",
            Entity::UserGroup => "user_group",
        }
    }
}

/// What happened to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Create,
    Archive,
    Restore,
    VisibilityChange,
    Purge,
    Delete,
    Update,
    Move,
    Undelete,
    RedirectChange,
    Add,
    Remove,
    ExpiryChange,
}

impl Action {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Archive => "archive",
            Action::Restore => "restore",
            Action::VisibilityChange => "visibility_change",
            Action::Purge => "purge",
            Action::Delete => "delete",
            Action::Update => "update",
            Action::Move => "move",
            Action::Undelete => "undelete",
            Action::RedirectChange => "redirect_change",
            Action::Add => "add",
            Action::Remove => "remove",
            Action::ExpiryChange => "expiry_change",
        }
    }
}

/// Which MediaWiki table a schema is, when it has the columns the folding needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Revision,
    Archive,
    Page,
    Logging,
    UserGroups,
}

/// The columns each table must have for its rows to be folded.
const REQUIRED: [(Table, &str, &[&str]); 5] = [
    (Table::Revision, "revision", &["rev_id", "rev_deleted"]),
    (Table::Archive, "archive", &["ar_rev_id", "ar_deleted"]),
    (
        Table::Page,
        "page",
        &[
            "page_id",
            "page_namespace",
            "page_title",
            "page_is_redirect",
        ],
    ),
    (
        Table::Logging,
        "logging",
        &[
            "log_id",
            "log_type",
            "log_action",
            "log_namespace",
            "log_title",
        ],
    ),
    (
        Table::UserGroups,
        "user_groups",
        &["ug_user", "ug_group", "ug_expiry"],
    ),
];

/// Why a table whose name is a MediaWiki table's is not folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotFolded {
    /// It lacks a column the folding needs.
    MissingColumn(&'static str),
    /// Its name is a MediaWiki table's after a prefix that is not the wiki's configured one.
    Prefixed(&'static str),
}

/// The MediaWiki table `schema` is, its name read without the wiki's table `prefix`:
/// `Ok(None)` for any other table.
pub(crate) fn table_of(schema: &TableSchema, prefix: &str) -> Result<Option<Table>, NotFolded> {
    let Some(name) = schema.table.strip_prefix(prefix) else {
        return Ok(None);
    };
    let Some((table, _, columns)) = REQUIRED.iter().find(|(_, n, _)| *n == name) else {
        // `mw_revision` in a wiki without a configured prefix.
        return match REQUIRED.iter().find(|(_, n, _)| {
            name.len() > n.len() && name.ends_with(n) && name[..name.len() - n.len()].ends_with('_')
        }) {
            Some((_, n, columns))
                if columns
                    .iter()
                    .all(|c| schema.columns.iter().any(|s| s == c)) =>
            {
                Err(NotFolded::Prefixed(n))
            }
            _ => Ok(None),
        };
    };
    match columns
        .iter()
        .find(|c| !schema.columns.iter().any(|s| s == *c))
    {
        Some(missing) => Err(NotFolded::MissingColumn(missing)),
        None => Ok(Some(*table)),
    }
}

/// The kind of a revision or archive row change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RevKind {
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
struct RevFact {
    rev_id: u64,
    /// ar_id of an archive row.
    ar_id: u64,
    seq: u32,
    wiki: u16,
    kind: RevKind,
    /// The visibility bits (the before image's for deletes, the after image's otherwise).
    bits: u8,
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
    pub(crate) wiki: u16,
    pub(crate) page_id: u64,
    first_seq: u32,
    first_op: Op,
    last_op: Op,
    last_seq: u32,
    /// The state before the transaction (from the first before image).
    pub(crate) first: Option<PageState>,
    /// The state after the transaction (from the last after image).
    last: Option<PageState>,
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
    pub(crate) params: crate::params::Params,
    /// `log_params` as stored.
    pub(crate) raw_params: Vec<u8>,
}

impl LogFact {
    /// The parameters decoded with `binary`, the way records show them.
    pub(crate) fn params_as(
        &self,
        binary: BinaryMode,
    ) -> std::borrow::Cow<'_, crate::params::Params> {
        if binary == BinaryMode::Utf8 {
            std::borrow::Cow::Borrowed(&self.params)
        } else {
            std::borrow::Cow::Owned(crate::params::Params::decode(&self.raw_params, binary))
        }
    }

    fn is(&self, log_type: &str, actions: &[&str]) -> bool {
        self.log_type == log_type.as_bytes()
            && actions.iter().any(|a| self.log_action == a.as_bytes())
    }

    /// The page action a log row records, if it records one.
    fn page_action(&self) -> Option<Action> {
        if self.is("create", &["create"]) {
            Some(Action::Create)
        } else if self.is("delete", &["delete", "delete_redir", "delete_redir2"])
            || self.is("suppress", &["delete"])
        {
            Some(Action::Delete)
        } else if self.is("delete", &["restore"]) {
            Some(Action::Undelete)
        } else if self.is("move", &["move", "move_redir"]) {
            Some(Action::Move)
        } else {
            None
        }
    }

    /// What a revision deletion log row (`delete/revision`, `suppress/revision`) names.
    fn revdel_target(&self) -> Option<RevDelTarget> {
        if !(self.is("delete", &["revision"]) || self.is("suppress", &["revision"])) {
            return None;
        }
        let json = self.params.json();
        let ids = json.get("5::ids").map(keyed).unwrap_or_default();
        match json.get("4::type").and_then(|t| t.as_str()) {
            Some("revision") => Some(RevDelTarget::Revisions(
                ids.iter().filter_map(|(_, v)| json_id(v)).collect(),
            )),
            Some("archive") => Some(RevDelTarget::Archived(
                ids.iter().filter_map(|(_, v)| param_bytes(v)).collect(),
            )),
            _ => None,
        }
    }

    /// Whether the row records a block, reblock or unblock, whose hiding or unhiding of the
    /// user name (`RevisionDeleteUser`) flips bit 4 of the user's revisions in the same
    /// transaction.
    fn is_block(&self) -> bool {
        self.is("block", &["block", "reblock", "unblock"])
            || self.is("suppress", &["block", "reblock", "unblock"])
    }
}

/// The items a revision deletion log row names.
enum RevDelTarget {
    /// `4::type = revision`: revision ids (live revisions, or archived ones found by
    /// `ar_rev_id`).
    Revisions(Vec<u64>),
    /// `4::type = archive`: the `ar_timestamp`s of archived revisions of the log's title.
    Archived(Vec<Vec<u8>>),
}

/// The entries of a PHP array decoded to JSON with their PHP keys: a list's positions, an
/// object's keys (`array_diff` keeps keys, so `[1 => "sysop"]` decodes to an object).
fn keyed(v: &serde_json::Value) -> Vec<(String, &serde_json::Value)> {
    match v {
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (i.to_string(), item))
            .collect(),
        serde_json::Value::Object(entries) => {
            entries.iter().map(|(k, item)| (k.clone(), item)).collect()
        }
        _ => Vec::new(),
    }
}

/// An id or a number in log params: a number or a decimal string.
pub(crate) fn json_id(v: &serde_json::Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// How an entity change was determined, and what its record carries besides the anchor row.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// A revision or archive row; `pair` is the other row of an archive or restore pair.
    Revision {
        pair: Option<RevPair>,
        log: Option<u32>,
    },
    /// A revision deletion log row alone, for one of the ids it names.
    RevisionFromLog { log: u32, rev_id: u64 },
    /// Page rows (`page` indexes [`Facts::pages`]), enriched by a log row.
    Page {
        page: u32,
        log: Option<u32>,
        restored: Option<u64>,
    },
    /// A page log row alone.
    PageFromLog { log: u32, restored: Option<u64> },
    /// The logging row itself.
    Log,
    /// A user_groups row, enriched by a rights log row.
    UserGroup { log: Option<u32> },
    /// A rights log row alone, for one group (boxed: rare, and large beside the others).
    UserGroupFromLog { log: u32, change: Box<GroupChange> },
}

/// The other row of an archive (revision DELETE) or restore (archive DELETE) pair.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RevPair {
    pub(crate) bits: u8,
    /// The archive row's ar_id (restore pairs).
    pub(crate) ar_id: Option<u64>,
}

/// One group change read from a `rights/rights` log row.
#[derive(Debug, Clone)]
pub(crate) struct GroupChange {
    /// The wiki of the user: the `@otherwiki` of the title, else the log row's.
    pub(crate) user_wiki: String,
    /// The log title without `@otherwiki`: the user name with underscores.
    pub(crate) user_name: Vec<u8>,
    pub(crate) group: Vec<u8>,
    pub(crate) expiry: Option<Vec<u8>>,
    pub(crate) prior_expiry: Option<Vec<u8>>,
}

/// One entity change, anchored at the row with index `seq`.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub(crate) seq: u32,
    pub(crate) entity: Entity,
    pub(crate) action: Action,
    pub(crate) source: Source,
}

/// An archived revision's namespace, title and `ar_timestamp`.
type ArchivedTitle = (Option<i64>, Vec<u8>, Vec<u8>);

/// What the first pass found.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub(crate) wikis: Vec<String>,
    revs: Vec<RevFact>,
    pub(crate) pages: Vec<PageFact>,
    /// Index of `pages` by wiki and page id.
    page_index: HashMap<(u16, u64), usize>,
    pub(crate) logs: Vec<LogFact>,
    /// user_groups rows: (seq, wiki, group, action by the row).
    ugs: Vec<(u32, u16, Vec<u8>, Action)>,
    /// Archive rows whose visibility bits changed, by row index: namespace, title and
    /// timestamp, which a `4::type = archive` revision deletion log row names them by.
    archived_visibility: HashMap<u32, ArchivedTitle>,
    /// Revisions restored, per wiki.
    restored: Vec<u64>,
    /// Changes decided by their row alone.
    direct: Vec<Planned>,
}

/// The entity changes of a transaction, in binlog order of their anchors.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) facts: Facts,
    pub(crate) items: Vec<Planned>,
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

    fn add(&mut self, seq: u32, table: Table, c: &RowChange) {
        let schema = &*c.table;
        let before = c.before.as_deref().map(|values| Row { schema, values });
        let after = c.after.as_deref().map(|values| Row { schema, values });
        let Some(current) = after.or(before) else {
            return;
        };
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
                            page_id,
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
                    self.direct.push(Planned {
                        seq,
                        entity: Entity::Log,
                        action: if c.op == Op::Delete {
                            Action::Delete
                        } else {
                            Action::Update
                        },
                        source: Source::Log,
                    });
                    return;
                }
                // Read by the folding in UTF-8 mode whatever output.binary is: strings stay
                // strings. Records show the parameters in the configured mode.
                let raw_params = current.bytes("log_params").unwrap_or_default();
                let params = crate::params::Params::decode(raw_params, BinaryMode::Utf8);
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
                self.direct.push(Planned {
                    seq,
                    entity: Entity::Log,
                    action: Action::Create,
                    source: Source::Log,
                });
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

/// Runs the first pass over `txn`. `tables` tells which MediaWiki table a schema is.
pub(crate) fn plan(
    txn: &Transaction,
    mut tables: impl FnMut(&Arc<TableSchema>) -> Option<Table>,
    captured: &Captured,
) -> Result<Plan, SpillError> {
    let mut facts = Facts::default();
    for (seq, change) in txn.changes.iter().enumerate() {
        let change = change?;
        let Some(table) = tables(&change.table) else {
            continue;
        };
        // Row indexes and wiki indexes are u32 and u16: a transaction beyond that (billions
        // of rows, tens of thousands of databases) is not folded further, loudly.
        match (
            u32::try_from(seq),
            facts.wikis.len() < usize::from(u16::MAX),
        ) {
            (Ok(seq), true) => facts.add(seq, table, &change),
            _ => {
                tracing::warn!(gtid = %txn.gtid, "transaction too large to fold into entity changes: its later rows are in the row stream only");
                break;
            }
        }
    }
    let mut items = std::mem::take(&mut facts.direct);
    plan_revisions(&mut facts, captured, &mut items);
    plan_pages(&facts, captured, &mut items);
    plan_user_groups(&facts, captured, &mut items);
    // Stable: several changes anchored at one row keep the order they were planned in.
    items.sort_by_key(|p| p.seq);
    Ok(Plan { facts, items })
}

fn plan_revisions(facts: &mut Facts, captured: &Captured, items: &mut Vec<Planned>) {
    let log_of = visibility_logs(&facts.logs, &facts.archived_visibility);
    let mut restored = vec![0u64; facts.wikis.len()];
    facts.revs.sort_by_key(|r| (r.wiki, r.rev_id, r.seq));
    for group in facts
        .revs
        .chunk_by(|a, b| a.wiki == b.wiki && a.rev_id == b.rev_id)
    {
        let mut used = vec![false; group.len()];
        let take = |kind: RevKind, used: &mut Vec<bool>| {
            let i = group
                .iter()
                .enumerate()
                .position(|(i, r)| !used[i] && r.kind == kind)?;
            used[i] = true;
            Some(group[i])
        };
        let mut planned = Vec::new();
        // Pairs first: archive (archive INSERT + revision DELETE), restore (revision INSERT +
        // archive DELETE), anchored at the row that holds the new state.
        while let Some(ar) = take(RevKind::ArInsert, &mut used) {
            let pair = take(RevKind::RevDelete, &mut used).map(|d| RevPair {
                bits: d.bits,
                ar_id: None,
            });
            planned.push((ar.seq, Action::Archive, pair, None));
        }
        while let Some(rev) = take(RevKind::RevInsert, &mut used) {
            match take(RevKind::ArDelete, &mut used) {
                Some(d) => {
                    restored[usize::from(rev.wiki)] += 1;
                    planned.push((
                        rev.seq,
                        Action::Restore,
                        Some(RevPair {
                            bits: d.bits,
                            ar_id: Some(d.ar_id),
                        }),
                        None,
                    ))
                }
                None => planned.push((rev.seq, Action::Create, None, None)),
            }
        }
        for (i, r) in group.iter().enumerate() {
            if used[i] {
                continue;
            }
            let action = match r.kind {
                RevKind::RevDelete => Action::Delete,
                RevKind::ArDelete => Action::Purge,
                RevKind::VisibilityUpdate => Action::VisibilityChange,
                _ => Action::Update,
            };
            let log = (action == Action::VisibilityChange)
                .then(|| log_of(r))
                .flatten();
            planned.push((r.seq, action, None, log));
        }
        items.extend(planned.into_iter().map(|(seq, action, pair, log)| Planned {
            seq,
            entity: Entity::Revision,
            action,
            source: Source::Revision { pair, log },
        }));
    }
    facts.restored = restored;
    plan_revisions_from_logs(facts, captured, items);
}

/// Finds the log row that records a visibility change of a revision or archive row: the
/// revision deletion log row naming its rev_id (`4::type = revision`, which also reaches
/// archived revisions by `ar_rev_id`) or its title and timestamp (`4::type = archive`), else
/// the one block log row of its wiki (hiding a user name sets bit 4 of every row of the user
/// under a block log row only).
fn visibility_logs<'f>(
    logs: &'f [LogFact],
    archived: &'f HashMap<u32, ArchivedTitle>,
) -> impl Fn(&RevFact) -> Option<u32> + 'f {
    let mut by_rev_id: HashMap<(u16, u64), u32> = HashMap::new();
    // Wiki, namespace, title and timestamp of archived revisions.
    type ArchivedKey = (u16, Option<i64>, Vec<u8>, Vec<u8>);
    let mut by_timestamp: HashMap<ArchivedKey, u32> = HashMap::new();
    let mut blocks: HashMap<u16, Vec<u32>> = HashMap::new();
    for (i, l) in logs.iter().enumerate() {
        let i = i as u32;
        match l.revdel_target() {
            Some(RevDelTarget::Revisions(ids)) => {
                for id in ids {
                    by_rev_id.entry((l.wiki, id)).or_insert(i);
                }
            }
            Some(RevDelTarget::Archived(timestamps)) => {
                for ts in timestamps {
                    by_timestamp
                        .entry((l.wiki, l.namespace, l.title.clone(), ts))
                        .or_insert(i);
                }
            }
            None if l.is_block() => blocks.entry(l.wiki).or_default().push(i),
            None => {}
        }
    }
    move |r: &RevFact| {
        by_rev_id
            .get(&(r.wiki, r.rev_id))
            .or_else(|| {
                let (ns, title, ts) = archived.get(&r.seq)?;
                by_timestamp.get(&(r.wiki, *ns, title.clone(), ts.clone()))
            })
            .copied()
            .or_else(|| match blocks.get(&r.wiki).map(Vec::as_slice) {
                Some(&[only]) => Some(only),
                _ => None,
            })
    }
}

/// Revision deletions that no captured row records, from the log row alone: one record per
/// revision id of a `4::type = revision` row whose revision or archive row is not captured.
/// A `4::type = archive` row names archived revisions by timestamp, not by id: without the
/// archive rows it gives its log record only.
fn plan_revisions_from_logs(facts: &Facts, captured: &Captured, items: &mut Vec<Planned>) {
    let from_rows: std::collections::HashSet<(u16, u64)> = facts
        .revs
        .iter()
        .filter(|r| r.kind == RevKind::VisibilityUpdate)
        .map(|r| (r.wiki, r.rev_id))
        .collect();
    for (i, log) in facts.logs.iter().enumerate() {
        let Some(RevDelTarget::Revisions(ids)) = log.revdel_target() else {
            continue;
        };
        let wiki = &facts.wikis[usize::from(log.wiki)];
        if captured(wiki, "revision") && captured(wiki, "archive") {
            continue;
        }
        for rev_id in ids {
            if from_rows.contains(&(log.wiki, rev_id)) {
                continue;
            }
            items.push(Planned {
                seq: log.seq,
                entity: Entity::Revision,
                action: Action::VisibilityChange,
                source: Source::RevisionFromLog {
                    log: i as u32,
                    rev_id,
                },
            });
        }
    }
}

/// What a page's rows alone say happened to it, with the row each change is anchored at.
fn page_row_actions(p: &PageFact, restored: u64) -> Vec<(Action, u32)> {
    let created = if restored > 0 {
        Action::Undelete
    } else {
        Action::Create
    };
    match (p.first_op, p.last_op, &p.first, &p.last) {
        (Op::Create, Op::Delete, _, _) => {
            vec![(created, p.first_seq), (Action::Delete, p.last_seq)]
        }
        (Op::Create, _, _, _) => vec![(created, p.last_seq)],
        (_, Op::Delete, _, _) => vec![(Action::Delete, p.last_seq)],
        (_, _, Some(a), Some(b)) if (a.namespace, &a.title) != (b.namespace, &b.title) => {
            vec![(Action::Move, p.last_seq)]
        }
        (_, _, Some(a), Some(b)) if a.is_redirect != b.is_redirect => {
            vec![(Action::RedirectChange, p.last_seq)]
        }
        _ => Vec::new(),
    }
}

/// Whether a log row's action and a page's row action describe the same change (the rows of
/// an undeletion into a free page id look like a creation when no revision is restored).
fn same_page_change(logged: Action, rows: Action) -> bool {
    logged == rows || matches!((logged, rows), (Action::Undelete, Action::Create))
}

fn plan_pages(facts: &Facts, captured: &Captured, items: &mut Vec<Planned>) {
    // Per page fact, its row actions and whether a log row has explained each.
    let mut row_actions: Vec<Vec<(Action, u32, bool)>> = facts
        .pages
        .iter()
        .map(|p| {
            page_row_actions(p, facts.restored[usize::from(p.wiki)])
                .into_iter()
                .map(|(a, seq)| (a, seq, false))
                .collect()
        })
        .collect();
    let mut planned = Vec::new();
    for (i, log) in facts.logs.iter().enumerate() {
        let Some(action) = log.page_action() else {
            continue;
        };
        let restored = (action == Action::Undelete).then(|| {
            log.params
                .json()
                .pointer("/:assoc:count/revisions")
                .and_then(json_id)
                .unwrap_or(facts.restored[usize::from(log.wiki)])
        });
        // With page rows captured, the row change the log row explains gives the identity.
        let from_rows = captured(&facts.wikis[usize::from(log.wiki)], "page")
            .then(|| {
                log.page
                    .and_then(|id| facts.page_index.get(&(log.wiki, id)))
            })
            .flatten()
            .and_then(|&p| {
                let entry = row_actions[p]
                    .iter_mut()
                    .find(|(a, _, explained)| !*explained && same_page_change(action, *a))?;
                entry.2 = true;
                Some((p, entry.1))
            });
        let (seq, source) = match from_rows {
            Some((p, seq)) => (
                seq,
                Source::Page {
                    page: p as u32,
                    log: Some(i as u32),
                    restored,
                },
            ),
            None => (
                log.seq,
                Source::PageFromLog {
                    log: i as u32,
                    restored,
                },
            ),
        };
        planned.push(Planned {
            seq,
            entity: Entity::Page,
            action,
            source,
        });
    }
    // Page row changes no log row explains.
    for (p, actions) in row_actions.into_iter().enumerate() {
        let restored = facts.restored[usize::from(facts.pages[p].wiki)];
        for (action, seq, explained) in actions {
            if explained {
                continue;
            }
            planned.push(Planned {
                seq,
                entity: Entity::Page,
                action,
                source: Source::Page {
                    page: p as u32,
                    log: None,
                    restored: (action == Action::Undelete).then_some(restored),
                },
            });
        }
    }
    items.extend(planned);
}

/// Whether a rights log row is about a user of another wiki (`Name@otherwiki`).
fn is_remote(log: &LogFact) -> bool {
    log.title.contains(&b'@')
}

fn plan_user_groups(facts: &Facts, captured: &Captured, items: &mut Vec<Planned>) {
    type Rights<'a> = (u32, &'a LogFact, Vec<(Action, GroupChange)>);
    let rights: Vec<Rights<'_>> = facts
        .logs
        .iter()
        .enumerate()
        .filter(|(_, l)| l.is("rights", &["rights", "autopromote"]))
        .map(|(i, l)| {
            (
                i as u32,
                l,
                group_changes(l, &facts.wikis[usize::from(l.wiki)]),
            )
        })
        .collect();
    // A row is enriched by the rights log row that records the same change of the same group
    // in its wiki, when exactly one does: log rows name users by title, rows by id, so two
    // users' changes of one group in one transaction cannot be told apart.
    for (seq, wiki, group, action) in &facts.ugs {
        let matching: Vec<(u32, Action)> = rights
            .iter()
            .filter(|(_, l, _)| l.wiki == *wiki && !is_remote(l))
            .flat_map(|(i, _, changes)| {
                changes
                    .iter()
                    .filter(|(logged, c)| {
                        c.group == *group
                            && (*logged == *action
                                || (*logged == Action::Add && *action == Action::ExpiryChange))
                    })
                    .map(move |(logged, _)| (*i, *logged))
            })
            .collect();
        let (log, action) = match matching[..] {
            // MediaWiki re-adds an expired membership by updating its expiry: an addition.
            [(log, logged)] => (Some(log), logged),
            _ => (None, *action),
        };
        items.push(Planned {
            seq: *seq,
            entity: Entity::UserGroup,
            action,
            source: Source::UserGroup { log },
        });
    }
    for (i, log, changes) in rights {
        let wiki = &facts.wikis[usize::from(log.wiki)];
        if !is_remote(log) && captured(wiki, "user_groups") {
            continue;
        }
        for (action, change) in changes {
            items.push(Planned {
                seq: log.seq,
                entity: Entity::UserGroup,
                action,
                source: Source::UserGroupFromLog {
                    log: i,
                    change: Box::new(change),
                },
            });
        }
    }
}

/// The bytes of a string read from log params in UTF-8 mode (a string, or `{"base64"}` for
/// bytes that are not UTF-8).
pub(crate) fn param_bytes(v: &serde_json::Value) -> Option<Vec<u8>> {
    match v {
        serde_json::Value::String(s) => Some(s.as_bytes().to_vec()),
        serde_json::Value::Object(o) => o
            .get("base64")
            .and_then(|b| b.as_str())
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()),
        _ => None,
    }
}

/// The group changes a `rights/rights` or `rights/autopromote` log row records: groups
/// added, removed, or whose expiry changed, from `4::oldgroups`, `5::newgroups`,
/// `oldmetadata` and `newmetadata`. Each group's metadata is the entry under the same PHP key
/// (MediaWiki computes the new groups with `array_diff`, which keeps keys, and `array_merge`,
/// which renumbers them), not the same position.
fn group_changes(log: &LogFact, wiki: &str) -> Vec<(Action, GroupChange)> {
    let params = log.params.json();
    let entries = |key: &str| params.get(key).map(keyed).unwrap_or_default();
    let groups = |key: &str| -> Vec<(String, Vec<u8>)> {
        entries(key)
            .into_iter()
            .filter_map(|(k, v)| Some((k, param_bytes(v)?)))
            .collect()
    };
    let (old, new) = (groups("4::oldgroups"), groups("5::newgroups"));
    let (old_meta, new_meta) = (entries("oldmetadata"), entries("newmetadata"));
    let expiry = |meta: &[(String, &serde_json::Value)], key: &str| {
        meta.iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, m)| m.get("expiry"))
            .and_then(param_bytes)
    };
    let (user_name, user_wiki) = match log.title.iter().position(|&b| b == b'@') {
        Some(at) => (
            log.title[..at].to_vec(),
            String::from_utf8_lossy(&log.title[at + 1..]).into_owned(),
        ),
        None => (log.title.clone(), wiki.to_string()),
    };
    let change = |group: &[u8], expiry, prior_expiry| GroupChange {
        user_wiki: user_wiki.clone(),
        user_name: user_name.clone(),
        group: group.to_vec(),
        expiry,
        prior_expiry,
    };
    let mut out = Vec::new();
    for (key, g) in &new {
        let new_expiry = expiry(&new_meta, key);
        match old.iter().find(|(_, o)| o == g) {
            None => out.push((Action::Add, change(g, new_expiry, None))),
            Some((old_key, _)) => {
                let old_expiry = expiry(&old_meta, old_key);
                if old_expiry != new_expiry {
                    out.push((Action::ExpiryChange, change(g, new_expiry, old_expiry)));
                }
            }
        }
    }
    for (key, g) in &old {
        if !new.iter().any(|(_, n)| n == g) {
            out.push((Action::Remove, change(g, None, expiry(&old_meta, key))));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_at_its_index() {
        for (i, e) in Entity::ALL.into_iter().enumerate() {
            assert_eq!(e.index(), i);
        }
    }

    #[test]
    fn what_folding_keeps_per_row_stays_small() {
        assert!(std::mem::size_of::<RevFact>() <= 24);
        assert!(
            std::mem::size_of::<Planned>() <= 48,
            "{}",
            std::mem::size_of::<Planned>()
        );
    }
}
