//! Planning revision changes: archive and restore pairs, visibility changes with the log rows
//! that record them, and revision deletions known from a log row alone.

use std::collections::{HashMap, HashSet};

use crate::config::Captured;
use crate::entity::{Action, Entity};
use crate::fold::facts::{ArchivedTitle, Facts, LogFact, RevFact, RevKind};
use crate::fold::planned::{Evidence, Planned, RevPair};
use crate::params::{json_id, keyed, param_bytes};

impl LogFact {
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

/// The revision changes of the transaction: pairs first, then every other revision or archive
/// row change, then revision deletions from a log row alone. Counts the revisions restored
/// per wiki into `facts.restored`.
pub(super) fn plan(facts: &mut Facts, captured: &Captured, items: &mut Vec<Planned>) {
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
            evidence: Evidence::Revision { pair, log },
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
    let from_rows: HashSet<(u16, u64)> = facts
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
                evidence: Evidence::RevisionFromLog {
                    log: i as u32,
                    rev_id,
                },
            });
        }
    }
}
