//! Planning page changes: from page rows, enriched by the log row that records each, or from
//! a page log row alone.

use mwcdc_change::Op;

use crate::config::Captured;
use crate::entity::{Action, Entity};
use crate::fold::facts::{Facts, LogFact, PageFact};
use crate::fold::planned::{Evidence, Planned};
use crate::params::json_id;

impl LogFact {
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

/// The page changes of the transaction: those a page log row records (anchored at the page
/// row change it explains when page rows are captured), then page row changes no log row
/// explains.
pub(super) fn plan(facts: &Facts, captured: &Captured, items: &mut Vec<Planned>) {
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
        let (seq, evidence) = match from_rows {
            Some((p, seq)) => (
                seq,
                Evidence::Page {
                    page: p as u32,
                    log: Some(i as u32),
                    restored,
                },
            ),
            None => (
                log.seq,
                Evidence::PageFromLog {
                    log: i as u32,
                    restored,
                },
            ),
        };
        planned.push(Planned {
            seq,
            entity: Entity::Page,
            action,
            evidence,
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
                evidence: Evidence::Page {
                    page: p as u32,
                    log: None,
                    restored: (action == Action::Undelete).then_some(restored),
                },
            });
        }
    }
    items.extend(planned);
}
