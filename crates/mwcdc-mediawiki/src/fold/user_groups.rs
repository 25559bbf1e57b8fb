//! Planning user group changes: from user_groups rows, enriched by the rights log row that
//! records each, or from a rights log row alone.

use crate::config::Captured;
use crate::entity::{Action, Entity};
use crate::fold::facts::{Facts, LogFact};
use crate::fold::planned::{Evidence, Planned};
use crate::params::{group_changes, GroupChange};

/// Whether a rights log row is about a user of another wiki (`Name@otherwiki`).
fn is_remote(log: &LogFact) -> bool {
    log.title.contains(&b'@')
}

/// The user group changes of the transaction: one per user_groups row change, then those
/// rights log rows record for rows that are not captured (or of another wiki).
pub(super) fn plan(facts: &Facts, captured: &Captured, items: &mut Vec<Planned>) {
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
                group_changes(&l.params, &l.title, &facts.wikis[usize::from(l.wiki)]),
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
            evidence: Evidence::UserGroup { log },
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
                evidence: Evidence::UserGroupFromLog {
                    log: i,
                    change: Box::new(change),
                },
            });
        }
    }
}
