//! What the generator remembers of each wiki: the next ids, the live pages with their
//! revisions, the deleted revisions by title, comments, actors and group memberships.
//!
//! Invariant: all archived revisions of a title belong to one page id. New pages and move
//! targets only get titles never used before, and pages whose title has archived revisions
//! are not moved, so no second page id ever reaches such a title.

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::{rngs::StdRng, seq::IndexedRandom, Rng};

use crate::clock::Ts;
use crate::names;

/// A title: namespace and DB key.
pub type TitleKey = (i32, Vec<u8>);

/// A user's group memberships: group name to expiry (`None`: no expiry).
pub type Memberships = BTreeMap<&'static str, Option<Ts>>;

/// Group memberships of users of other wikis, by (wiki, user name), known only from the
/// `rights/rights` log rows the generator writes for them.
pub type RemoteGroups = BTreeMap<(&'static str, String), Memberships>;

/// The id sequences the generator assigns itself.
#[derive(Clone, Copy, Debug)]
pub enum Seq {
    /// `rev_id`
    Revision,
    /// `ar_id`
    Archive,
    /// `log_id`
    Log,
    /// `page_id`
    Page,
    /// `comment_id`
    Comment,
    /// `actor_id`
    Actor,
    /// `content_id`
    Content,
}

/// The next id of every sequence of one wiki.
#[derive(Debug)]
pub struct Ids([u64; 7]);

impl Ids {
    /// Takes the next id of `seq`.
    pub fn take(&mut self, seq: Seq) -> u64 {
        let next = &mut self.0[seq as usize];
        let id = *next;
        *next += 1;
        id
    }
}

/// One revision as written to `revision` (and copied to `archive`), plus what the generator
/// needs to write null revisions and restore pages.
#[derive(Clone, Debug)]
pub struct Rev {
    /// rev_id
    pub id: u64,
    /// rev_comment_id
    pub comment: u64,
    /// rev_actor
    pub actor: u64,
    /// rev_timestamp
    pub ts: Ts,
    /// rev_minor_edit
    pub minor: bool,
    /// rev_deleted (ar_deleted while archived)
    pub deleted: u8,
    /// rev_len
    pub len: u32,
    /// rev_parent_id
    pub parent: u64,
    /// rev_sha1
    pub sha1: String,
    /// The main slot's content_id.
    pub content: u64,
    /// The main slot's slot_origin.
    pub origin: u64,
    /// Whether the content is a redirect.
    pub is_redirect: bool,
}

/// A live page.
#[derive(Debug)]
pub struct Page {
    /// page_id
    pub id: u64,
    /// page_namespace
    pub ns: i32,
    /// page_title
    pub title: Vec<u8>,
    /// The revision page_latest points to.
    pub latest: Rev,
    /// The page's other live revisions, oldest first.
    pub history: Vec<Rev>,
    /// Whether this is a big page, left alone by random operations.
    pub big: bool,
}

impl Page {
    /// The page's title.
    pub fn key(&self) -> TitleKey {
        (self.ns, self.title.clone())
    }
}

/// A revision in `archive`.
#[derive(Clone, Debug)]
pub struct ArRev {
    /// ar_id
    pub ar_id: u64,
    /// The revision's values; `deleted` is ar_deleted.
    pub rev: Rev,
}

/// The archived revisions of one title.
#[derive(Debug)]
pub struct Archived {
    /// ar_page_id of every row.
    pub page_id: u64,
    /// Whether they are a big page's, left alone by random operations.
    pub big: bool,
    /// The rows, by ascending ar_rev_id.
    pub rows: Vec<ArRev>,
}

/// The generator's picture of one wiki database.
#[derive(Debug)]
pub struct Wiki {
    /// The database name.
    pub name: String,
    /// Next ids.
    pub ids: Ids,
    /// Live pages by page_id.
    pub pages: BTreeMap<u64, Page>,
    /// Archived revisions by title.
    pub archived: BTreeMap<TitleKey, Archived>,
    /// Group memberships by user id.
    pub groups: BTreeMap<u32, Memberships>,
    live_titles: HashSet<TitleKey>,
    used_titles: HashSet<TitleKey>,
    comments: HashMap<Vec<u8>, u64>,
    actors: HashMap<u32, u64>,
}

impl Wiki {
    /// An empty wiki in database `name`.
    pub fn new(name: String) -> Self {
        Wiki {
            name,
            ids: Ids([1; 7]),
            pages: BTreeMap::new(),
            archived: BTreeMap::new(),
            groups: BTreeMap::new(),
            live_titles: HashSet::new(),
            used_titles: HashSet::new(),
            comments: HashMap::new(),
            actors: HashMap::new(),
        }
    }

    /// A generated title in `ns` that no page of this wiki has ever had.
    pub fn fresh_title(&mut self, rng: &mut StdRng, ns: i32) -> Vec<u8> {
        let base = names::title(rng);
        let mut title = base.clone();
        let mut suffix = 2;
        while self.used_titles.contains(&(ns, title.clone())) {
            title = base.clone();
            title.extend_from_slice(format!("_{suffix}").as_bytes());
            suffix += 1;
        }
        self.used_titles.insert((ns, title.clone()));
        title
    }

    /// Whether a live page has this title.
    pub fn is_live(&self, key: &TitleKey) -> bool {
        self.live_titles.contains(key)
    }

    /// Records a page as live.
    pub fn add_page(&mut self, page: Page) {
        self.live_titles.insert(page.key());
        self.used_titles.insert(page.key());
        self.pages.insert(page.id, page);
    }

    /// Forgets a live page (deleted), returning it.
    pub fn remove_page(&mut self, page_id: u64) -> Option<Page> {
        let page = self.pages.remove(&page_id)?;
        self.live_titles.remove(&page.key());
        Some(page)
    }

    /// Gives a live page a new title.
    pub fn retitle(&mut self, page_id: u64, ns: i32, title: Vec<u8>) {
        if let Some(page) = self.pages.get_mut(&page_id) {
            self.live_titles.remove(&page.key());
            page.ns = ns;
            page.title = title;
            self.live_titles.insert(page.key());
            self.used_titles.insert(page.key());
        }
    }

    /// The comment_id for this text, and whether the row is new (must be inserted).
    pub fn comment(&mut self, text: &[u8]) -> (u64, bool) {
        if let Some(&id) = self.comments.get(text) {
            return (id, false);
        }
        let id = self.ids.take(Seq::Comment);
        self.comments.insert(text.to_vec(), id);
        (id, true)
    }

    /// The actor_id of user `user`, and whether the row is new (must be inserted).
    pub fn actor(&mut self, user: u32) -> (u64, bool) {
        if let Some(&id) = self.actors.get(&user) {
            return (id, false);
        }
        let id = self.ids.take(Seq::Actor);
        self.actors.insert(user, id);
        (id, true)
    }

    /// A random live page satisfying `filter`.
    pub fn pick_page(&self, rng: &mut StdRng, filter: impl Fn(&Page) -> bool) -> Option<u64> {
        let ids: Vec<u64> = self
            .pages
            .values()
            .filter(|page| filter(page))
            .map(|page| page.id)
            .collect();
        ids.choose(rng).copied()
    }

    /// A random title with archived revisions, not live and not a big page's.
    pub fn pick_deleted_title(&self, rng: &mut StdRng) -> Option<TitleKey> {
        let keys: Vec<&TitleKey> = self
            .archived
            .iter()
            .filter(|(key, archived)| !archived.big && !self.is_live(key))
            .map(|(key, _)| key)
            .collect();
        keys.choose(rng).map(|&key| key.clone())
    }
}

/// A random user id of the few every wiki has.
pub fn random_user(rng: &mut StdRng) -> u32 {
    rng.random_range(1..=USERS)
}

/// How many users every wiki has (ids 1..=USERS, named `User_<id>`).
pub const USERS: u32 = 8;

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ids_are_per_sequence() {
        let mut wiki = Wiki::new("wl_0".into());
        assert_eq!(wiki.ids.take(Seq::Revision), 1);
        assert_eq!(wiki.ids.take(Seq::Revision), 2);
        assert_eq!(wiki.ids.take(Seq::Page), 1);
        assert_eq!(wiki.comment(b"x"), (1, true));
        assert_eq!(wiki.comment(b"x"), (1, false));
        assert_eq!(wiki.actor(3), (1, true));
    }

    #[test]
    fn fresh_titles_are_never_reused() {
        let mut wiki = Wiki::new("wl_0".into());
        let mut rng = StdRng::seed_from_u64(3);
        let mut seen = HashSet::new();
        for _ in 0..5_000 {
            assert!(seen.insert(wiki.fresh_title(&mut rng, 0)));
        }
    }
}
