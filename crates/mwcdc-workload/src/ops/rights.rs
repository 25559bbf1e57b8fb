//! User group changes: a `user_groups` INSERT, DELETE or UPDATE of the expiry, and a
//! `rights/rights` log row; for users of other wikis (`User_3@otherwiki`), the log row only.

use mwcdc_mediawiki::tables::USER_GROUPS;
use rand::{rngs::StdRng, seq::IndexedRandom, Rng};
use serde_json::{json, Value};

use super::context::{Ctx, Outcome};
use super::rows::{self, LogRow};
use crate::clock::Ts;
use crate::names;
use crate::php::Php;
use crate::sql::{table, Insert, Lit};
use crate::state::{self, Memberships, RemoteGroups};
use crate::truth::{Action, TruthLine};
use crate::txn::Txn;

/// The groups users are added to and removed from.
const GROUPS: [&str; 5] = ["bot", "sysop", "bureaucrat", "interface-admin", "suppress"];

/// The other wikis whose users' rights are changed from here.
const REMOTE_WIKIS: [&str; 2] = ["otherwiki", "metawiki"];

/// One membership change of one group.
struct Change {
    group: &'static str,
    /// The expiry before; None when not a member.
    old: Option<Option<Ts>>,
    /// The expiry after; None when not a member.
    new: Option<Option<Ts>>,
}

impl Change {
    fn action(&self) -> Action {
        match (self.old, self.new) {
            (None, _) => Action::Add,
            (_, None) => Action::Remove,
            _ => Action::ExpiryChange,
        }
    }
}

/// Changes one group membership of a random user: a local user nine times in ten, else a
/// user of another wiki.
pub fn change_rights(ctx: &mut Ctx, remote: &mut RemoteGroups) -> Outcome {
    let user = state::random_user(ctx.rng);
    let performer = state::random_user(ctx.rng);
    let mut txn = Txn::default();
    let label = if ctx.rng.random_bool(0.1) {
        let user_wiki = REMOTE_WIKIS.choose(ctx.rng).copied().unwrap_or("otherwiki");
        let user_name = names::user_name(user);
        let before = remote
            .entry((user_wiki, user_name.clone()))
            .or_default()
            .clone();
        let change = choose_change(ctx.rng, &before, ctx.now);
        let after = apply(&before, &change);
        let title = format!("{user_name}@{user_wiki}");
        write_log(ctx, &mut txn, performer, &title, &before, &after);
        txn.truth(
            TruthLine::remote_user_group(
                &ctx.wiki.name,
                user_wiki,
                &user_name,
                change.group,
                change.action(),
                json!({"user_wiki": user_wiki, "user_name": user_name, "ug_group": change.group}),
            )
            .at(ctx.now),
        );
        remote.insert((user_wiki, user_name), after);
        "rights_remote"
    } else {
        let before = ctx.wiki.groups.get(&user).cloned().unwrap_or_default();
        let change = choose_change(ctx.rng, &before, ctx.now);
        let after = apply(&before, &change);
        write_row(ctx, &mut txn, user, &change);
        write_log(
            ctx,
            &mut txn,
            performer,
            &names::user_name(user),
            &before,
            &after,
        );
        ctx.wiki.groups.insert(user, after);
        match change.action() {
            Action::Add => "rights_add",
            Action::Remove => "rights_remove",
            _ => "rights_expiry",
        }
    };
    Outcome::one(label, txn)
}

/// A random applicable change: add a group the user lacks (half the time when both are
/// possible), else remove one or change its expiry.
fn choose_change(rng: &mut StdRng, before: &Memberships, now: Ts) -> Change {
    let held: Vec<&'static str> = before.keys().copied().collect();
    let free: Vec<&'static str> = GROUPS
        .iter()
        .copied()
        .filter(|group| !before.contains_key(group))
        .collect();
    match (held.choose(rng), free.choose(rng)) {
        (Some(&group), free) if free.is_none() || rng.random_bool(0.5) => {
            let old = before.get(group).copied().flatten();
            if rng.random_bool(0.5) {
                Change {
                    group,
                    old: Some(old),
                    new: None,
                }
            } else {
                let new = loop {
                    let new = expiry(rng, now);
                    if new != old {
                        break new;
                    }
                };
                Change {
                    group,
                    old: Some(old),
                    new: Some(new),
                }
            }
        }
        (_, free) => Change {
            group: free.copied().unwrap_or(GROUPS[0]),
            old: None,
            new: Some(expiry(rng, now)),
        },
    }
}

/// No expiry half the time, else 1 to 90 days from now.
fn expiry(rng: &mut StdRng, now: Ts) -> Option<Ts> {
    rng.random_bool(0.5)
        .then(|| now.plus_secs(86_400 * rng.random_range(1..=90)))
}

fn apply(before: &Memberships, change: &Change) -> Memberships {
    let mut after = before.clone();
    match change.new {
        Some(expiry) => after.insert(change.group, expiry),
        None => after.remove(change.group),
    };
    after
}

/// Writes the `user_groups` row change and its user_group change.
fn write_row(ctx: &Ctx, txn: &mut Txn, user: u32, change: &Change) {
    let groups = table(&ctx.wiki.name, "user_groups");
    let group = change.group;
    let where_clause = format!("ug_user={user} AND ug_group={}", group.lit());
    let (sql, data, prior) = match (change.old, change.new) {
        (None, Some(new)) => {
            let insert = Insert::new(&ctx.wiki.name, USER_GROUPS.name, USER_GROUPS.columns);
            let sql = insert.row(&[&user, &group, &new.map(Ts::mw)]).sql();
            (
                sql,
                json!({"ug_group": group, "ug_expiry": expiry_json(new)}),
                None,
            )
        }
        (Some(old), None) => (
            format!("DELETE FROM {groups} WHERE {where_clause}"),
            json!({"ug_group": group, "ug_expiry": expiry_json(old)}),
            None,
        ),
        (old, new) => {
            let (old, new) = (old.flatten(), new.flatten());
            (
                format!(
                    "UPDATE {groups} SET ug_expiry={} WHERE {where_clause}",
                    new.map(Ts::mw).lit()
                ),
                json!({"ug_expiry": expiry_json(new)}),
                Some(json!({"ug_expiry": expiry_json(old)})),
            )
        }
    };
    txn.sql(sql);
    let mut line =
        TruthLine::user_group(&ctx.wiki.name, user, group, change.action(), data).at(ctx.now);
    if let Some(prior) = prior {
        line = line.prior(prior);
    }
    txn.truth(line);
}

/// Writes the `rights/rights` log row for user page `title`.
fn write_log(
    ctx: &mut Ctx,
    txn: &mut Txn,
    performer: u32,
    title: &str,
    before: &Memberships,
    after: &Memberships,
) {
    let (new_groups, new_metadata) = new_groups(before, after);
    let params = Php::Map(vec![
        ("4::oldgroups", group_names(before)),
        ("5::newgroups", new_groups),
        ("oldmetadata", metadata(before)),
        ("newmetadata", new_metadata),
    ]);
    let log = LogRow {
        log_type: "rights",
        action: "rights",
        user: performer,
        ns: names::USER_NAMESPACE,
        title: title.as_bytes(),
        page: 0,
        params,
    };
    rows::log(ctx, txn, log);
}

/// `5::newgroups` and `newmetadata` as UserrightsPage::doSaveUserGroups computes them: the
/// old list without the removed groups by `array_diff`, which keeps the keys, then, when
/// groups are added, `array_merge` with them, which renumbers.
fn new_groups(before: &Memberships, after: &Memberships) -> (Php, Php) {
    let kept: Vec<(usize, &'static str)> = before
        .keys()
        .enumerate()
        .filter(|(_, group)| after.contains_key(*group))
        .map(|(key, group)| (key, *group))
        .collect();
    let added: Vec<&'static str> = after
        .keys()
        .filter(|group| !before.contains_key(*group))
        .copied()
        .collect();
    let expiry = |group: &str| expiry_php(after.get(group).copied().flatten());
    if added.is_empty() {
        (
            Php::IntMap(kept.iter().map(|(k, g)| (*k, Php::str(*g))).collect()),
            Php::IntMap(kept.iter().map(|(k, g)| (*k, expiry(g))).collect()),
        )
    } else {
        let groups: Vec<&'static str> = kept.iter().map(|(_, g)| *g).chain(added).collect();
        (
            Php::List(groups.iter().map(|g| Php::str(*g)).collect()),
            Php::List(groups.iter().map(|g| expiry(g)).collect()),
        )
    }
}

/// A membership's metadata entry: `{"expiry": null | "<timestamp>"}`.
fn expiry_php(expiry: Option<Ts>) -> Php {
    Php::Map(vec![(
        "expiry",
        expiry.map_or(Php::Null, |ts| Php::str(ts.mw())),
    )])
}

fn group_names(groups: &Memberships) -> Php {
    Php::List(groups.keys().map(|group| Php::str(*group)).collect())
}

fn metadata(groups: &Memberships) -> Php {
    Php::List(groups.values().map(|expiry| expiry_php(*expiry)).collect())
}

fn expiry_json(expiry: Option<Ts>) -> Value {
    expiry.map_or(Value::Null, |ts| Value::String(ts.mw()))
}
