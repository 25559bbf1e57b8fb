//! The second pass over a transaction: a record at each anchor of the [`Plan`].

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::Arc;

use mwcdc_binlog::Value;
use mwcdc_change::{ChangeIter, Op, RowChange, SpillError, TableSchema, Transaction};
use mwcdc_record::{
    json_names, write_json_bytes, write_json_str, write_json_value, BinaryMode, KeyEncoding, Record,
};

use crate::entity::{Action, Entity};
use crate::fold::facts::{LogFact, PageState};
use crate::fold::planned::{Evidence, Plan, Planned, RevPair};
use crate::params::{json_id, param_bytes, GroupChange, Params};
use crate::row::{epoch_timestamp, mw_timestamp, visibility_json, Row};

/// The entity records of one transaction, written anchor by anchor as they are taken.
pub struct EntityRecords<'a> {
    topics: &'a [Arc<str>; 4],
    binary: BinaryMode,
    /// The transaction's commit time as RFC 3339, once per transaction.
    commit_ts: String,
    plan: Plan,
    changes: ChangeIter<'a>,
    /// The index of the next change `changes` gives.
    seq: u32,
    /// The index in `plan.items` of the next planned change to write.
    next: usize,
    ready: VecDeque<Record>,
    /// The buffer each record's `data` is written into first, kept between records.
    body: Cell<Vec<u8>>,
}

impl<'a> EntityRecords<'a> {
    /// The records of `txn` as `plan` (its first pass) plans them, on the topic of each
    /// entity kind in `topics` (indexed by [`Entity::index`]), binary values by `binary`.
    pub(crate) fn new(
        topics: &'a [Arc<str>; 4],
        binary: BinaryMode,
        txn: &'a Transaction,
        plan: Plan,
    ) -> Self {
        Self {
            topics,
            binary,
            commit_ts: epoch_timestamp(txn.commit_ts),
            plan,
            changes: txn.changes.iter(),
            seq: 0,
            next: 0,
            ready: VecDeque::new(),
            body: Cell::default(),
        }
    }
}

impl EntityRecords<'_> {
    /// The entity kind and action of each change these records carry, before they are taken.
    pub fn changes(&self) -> impl Iterator<Item = (Entity, &'static str)> + '_ {
        self.plan
            .items
            .iter()
            .map(|item| (item.entity, item.action.name()))
    }
}

impl Iterator for EntityRecords<'_> {
    type Item = Result<Record, SpillError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.ready.is_empty() {
            let target = self.plan.items.get(self.next)?.seq;
            // Rows before the anchor carry no entity change of their own.
            let change = loop {
                let change = match self.changes.next()? {
                    Ok(c) => c,
                    Err(e) => return Some(Err(e)),
                };
                self.seq += 1;
                if self.seq - 1 == target {
                    break change;
                }
            };
            let mut k = [0u32; 4];
            while let Some(item) = self.plan.items.get(self.next).filter(|p| p.seq == target) {
                let n = &mut k[item.entity.index()];
                let record = self.record(item, &change, *n);
                *n += 1;
                self.ready.push_back(record);
                self.next += 1;
            }
        }
        self.ready.pop_front().map(Ok)
    }
}

/// A JSON object written field by field.
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    binary: BinaryMode,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut Vec<u8>, binary: BinaryMode) -> Self {
        out.push(b'{');
        Self {
            out,
            first: true,
            binary,
        }
    }

    /// The comma before every field but the first.
    fn separate(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    fn name(&mut self, name: &str) -> &mut Vec<u8> {
        self.separate();
        write_json_str(self.out, name);
        self.out.push(b':');
        self.out
    }

    fn raw(&mut self, name: &str, json: &str) {
        self.name(name).extend_from_slice(json.as_bytes());
    }

    fn str(&mut self, name: &str, s: &str) {
        write_json_str(self.name(name), s);
    }

    fn bytes(&mut self, name: &str, b: &[u8]) {
        let binary = self.binary;
        write_json_bytes(self.name(name), b, binary);
    }

    fn value(&mut self, name: &str, v: &Value) {
        let binary = self.binary;
        write_json_value(self.name(name), v, binary);
    }

    fn json(&mut self, name: &str, v: &serde_json::Value) {
        let _ = serde_json::to_writer(&mut *self.name(name), v);
    }

    fn opt_num(&mut self, name: &str, v: Option<impl std::fmt::Display>) {
        match v {
            Some(n) => self.raw(name, &n.to_string()),
            None => self.raw(name, "null"),
        }
    }

    fn opt_bytes(&mut self, name: &str, v: Option<&[u8]>) {
        match v {
            Some(b) => self.bytes(name, b),
            None => self.raw(name, "null"),
        }
    }

    /// Every column of a row, by name.
    fn columns(&mut self, row: Row<'_>) {
        for (name, v) in json_names(row.schema).iter().zip(row.values) {
            self.separate();
            self.out.extend_from_slice(name);
            write_json_value(self.out, v, self.binary);
        }
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// `prior` (the old values of the columns that changed, and the old `visibility` when given)
/// and `changed` (their names) of an update.
fn prior_and_changed(
    before: Row<'_>,
    after: Row<'_>,
    old_visibility: Option<&str>,
    binary: BinaryMode,
) -> (String, Option<String>) {
    let diff = changed(before, after);
    let mut prior = Vec::new();
    let mut o = Obj::open(&mut prior, binary);
    for (name, old) in &diff {
        // Parameters as `data` has them: decoded (only logging has this column).
        match (*name, old) {
            ("log_params", Value::Bytes(raw)) => {
                let params = Params::decode(raw, binary);
                o.json(name, params.json());
            }
            _ => o.value(name, old),
        }
    }
    if let Some(v) = old_visibility {
        o.raw("visibility", v);
    }
    o.close();
    let names: Vec<&str> = diff.iter().map(|(n, _)| *n).collect();
    (
        String::from_utf8_lossy(&prior).into_owned(),
        Some(serde_json::to_string(&names).unwrap_or_default()),
    )
}

/// The columns whose values differ between two images.
fn changed<'r>(before: Row<'r>, after: Row<'r>) -> Vec<(&'r str, &'r Value)> {
    before
        .schema
        .columns
        .iter()
        .zip(before.values.iter().zip(after.values))
        .filter(|(_, (b, a))| b != a)
        .map(|(name, (b, _))| (name.as_str(), b))
        .collect()
}

/// Which image of a change holds the entity's state after it.
fn image(change: &RowChange) -> Option<Row<'_>> {
    let schema: &TableSchema = &change.table;
    change
        .after
        .as_deref()
        .or(change.before.as_deref())
        .map(|values| Row { schema, values })
}

/// The image holding the entity's state: the before image for a change that removes it.
fn state(change: &RowChange, removes: bool) -> Option<Row<'_>> {
    if removes {
        before(change)
    } else {
        image(change)
    }
}

fn before(change: &RowChange) -> Option<Row<'_>> {
    let schema: &TableSchema = &change.table;
    change
        .before
        .as_deref()
        .map(|values| Row { schema, values })
}

/// The parts of a record other than `data` and `prior`.
struct Head {
    key_json: String,
    kafka_key: String,
    entity_ts: Option<String>,
    tables: Vec<&'static str>,
}

impl EntityRecords<'_> {
    fn record(&self, item: &Planned, change: &RowChange, k: u32) -> Record {
        let facts = &self.plan.facts;
        let wiki = change.table.db.as_str();
        let log_of = |i: &Option<u32>| i.map(|i| &facts.logs[i as usize]);
        let mut id = change.id();
        id.push('/');
        id.push_str(item.entity.name());
        if k > 0 {
            id.push('/');
            id.push_str(itoa::Buffer::new().format(k));
        }
        // The body is written into a second buffer, then framed with the head.
        let mut body = self.body.take();
        body.clear();
        let mut log: Option<&LogFact> = None;
        let head = {
            let mut data = Obj::open(&mut body, self.binary);
            match &item.evidence {
                Evidence::Revision { pair, log: l } => {
                    log = log_of(l);
                    self.revision(item.action, change, *pair, log.is_some(), &mut data)
                }
                Evidence::RevisionFromLog { log: l, rev_id } => {
                    let fact = &facts.logs[*l as usize];
                    log = Some(fact);
                    revision_from_log(wiki, fact, *rev_id, &mut data)
                }
                Evidence::Page {
                    page,
                    log: l,
                    restored,
                } => {
                    log = log_of(l);
                    let first = facts.pages[*page as usize].first.as_ref();
                    self.page(item.action, change, first, log, *restored, &mut data)
                }
                Evidence::PageFromLog { log: l, restored } => {
                    let fact = &facts.logs[*l as usize];
                    log = Some(fact);
                    page_from_log(wiki, item.action, fact, *restored, &mut data)
                }
                Evidence::Log => self.log(item, change, &mut data),
                Evidence::UserGroup { log: l } => {
                    log = log_of(l);
                    self.user_group(item.action, change, log, &mut data)
                }
                Evidence::UserGroupFromLog { log: l, change: g } => {
                    let fact = &facts.logs[*l as usize];
                    log = Some(fact);
                    user_group_from_log(item.action, fact, g, &mut data)
                }
                Evidence::Snapshot => match item.entity {
                    Entity::Revision => self.revision(item.action, change, None, false, &mut data),
                    Entity::Page => self.page(item.action, change, None, None, None, &mut data),
                    Entity::Log => self.log(item, change, &mut data),
                    Entity::UserGroup => self.user_group(item.action, change, None, &mut data),
                },
            }
        };
        // Room for the head's fields and names besides the body.
        let mut out = Vec::with_capacity(body.len() + 384);
        // The head's field names are literals, written as they are.
        out.extend_from_slice(b"{\"id\":");
        write_json_str(&mut out, &id);
        out.extend_from_slice(b",\"wiki\":");
        write_json_str(&mut out, wiki);
        out.extend_from_slice(b",\"entity\":");
        write_json_str(&mut out, item.entity.name());
        out.extend_from_slice(b",\"action\":");
        write_json_str(&mut out, item.action.name());
        out.extend_from_slice(b",\"key\":");
        out.extend_from_slice(head.key_json.as_bytes());
        out.extend_from_slice(b",\"entity_ts\":");
        write_json_str(
            &mut out,
            head.entity_ts.as_deref().unwrap_or(&self.commit_ts),
        );
        out.extend_from_slice(b",\"commit_ts\":");
        write_json_str(&mut out, &self.commit_ts);
        // The row's GTID, as in the id and the row stream (for XA: the prepare's); a row a
        // snapshot read has none.
        out.extend_from_slice(b",\"gtid\":");
        if change.op == Op::Read {
            out.extend_from_slice(b"null");
        } else {
            write_json_str(&mut out, &change.gtid);
        }
        out.extend_from_slice(b",\"tables\":[");
        for (n, table) in head.tables.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            write_json_str(&mut out, table);
        }
        out.extend_from_slice(b"],\"data\":");
        out.extend_from_slice(&body);
        self.body.set(body);
        out.extend_from_slice(b",\"log\":");
        match log {
            Some(l) => {
                let mut o = Obj::open(&mut out, self.binary);
                log_enrichment(l, &mut o);
                o.close();
            }
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
        Record {
            topic: self.topics[item.entity.index()].clone(),
            key: Some(head.kafka_key.into_bytes()),
            key_encoding: KeyEncoding::Text,
            value: Some(out),
            id,
            table: change.table.clone(),
            snapshot_key: change.snapshot_key(),
        }
    }

    /// Writes a revision record's data and returns its head; `prior` and `changed` are
    /// appended after `data` by closing it here.
    fn revision(
        &self,
        action: Action,
        change: &RowChange,
        pair: Option<RevPair>,
        with_log: bool,
        data: &mut Obj<'_>,
    ) -> Head {
        let archive = change.table.table == "archive";
        let (id_col, bits_col, ts_col) = if archive {
            ("ar_rev_id", "ar_deleted", "ar_timestamp")
        } else {
            ("rev_id", "rev_deleted", "rev_timestamp")
        };
        let Some(row) = state(change, matches!(action, Action::Delete | Action::Purge)) else {
            return empty_head(change, data);
        };
        let rev_id = row.uint(id_col);
        data.columns(row);
        data.raw(
            "visibility",
            visibility_json(row.uint(bits_col).unwrap_or(0)),
        );
        if action == Action::Snapshot {
            data.str("state", if archive { "archived" } else { "live" });
        }
        let mut tables = vec![if archive { "archive" } else { "revision" }];
        let wiki = &change.table.db;
        let prior_changed = match (action, pair) {
            (Action::Archive, Some(p)) => {
                tables.push("revision");
                Some((
                    format!(
                        "{{\"rev_deleted\":{},\"visibility\":{}}}",
                        p.bits,
                        visibility_json(u64::from(p.bits))
                    ),
                    None,
                ))
            }
            (Action::Restore, Some(p)) => {
                tables.push("archive");
                Some((
                    format!(
                        "{{\"ar_id\":{},\"ar_deleted\":{},\"visibility\":{}}}",
                        json_u64(p.ar_id),
                        p.bits,
                        visibility_json(u64::from(p.bits))
                    ),
                    None,
                ))
            }
            (Action::VisibilityChange | Action::Update, _) => before(change).map(|b| {
                let old_bits = (action == Action::VisibilityChange)
                    .then(|| visibility_json(b.uint(bits_col).unwrap_or(0)));
                prior_and_changed(b, row, old_bits, self.binary)
            }),
            _ => None,
        };
        close_data(data, prior_changed);
        if with_log {
            tables.push("logging");
        }
        Head {
            key_json: key_json("rev_id", rev_id),
            kafka_key: kafka_key(wiki, rev_id),
            entity_ts: row.bytes(ts_col).and_then(mw_timestamp),
            tables,
        }
    }

    /// A page record at its anchor row, which holds the page as the transaction leaves it
    /// (the before image of a deletion); `first` is the page's state before the transaction,
    /// when a row of it has a before image.
    fn page(
        &self,
        action: Action,
        change: &RowChange,
        first: Option<&PageState>,
        log: Option<&LogFact>,
        restored: Option<u64>,
        data: &mut Obj<'_>,
    ) -> Head {
        let Some(row) = state(change, action == Action::Delete) else {
            return empty_head(change, data);
        };
        data.columns(row);
        if let Some(n) = restored {
            data.raw("restored_revisions", &n.to_string());
        }
        let prior = match (action, first) {
            (Action::Move, Some(first)) => {
                let mut prior = Vec::new();
                let mut o = Obj::open(&mut prior, self.binary);
                o.opt_num("page_namespace", first.namespace);
                o.bytes("page_title", &first.title);
                o.close();
                Some(String::from_utf8_lossy(&prior).into_owned())
            }
            (Action::RedirectChange, Some(first)) => Some(format!(
                "{{\"page_is_redirect\":{}}}",
                json_u64(first.is_redirect)
            )),
            _ => None,
        };
        close_data(data, prior.map(|p| (p, None)));
        let mut tables = vec!["page"];
        if log.is_some() {
            tables.push("logging");
        }
        let page_id = row.uint("page_id");
        Head {
            key_json: key_json("page_id", page_id),
            kafka_key: kafka_key(&change.table.db, page_id),
            entity_ts: log.and_then(|l| l.timestamp.clone()),
            tables,
        }
    }

    fn log(&self, item: &Planned, change: &RowChange, data: &mut Obj<'_>) -> Head {
        let action = item.action;
        let Some(row) = state(change, action == Action::Delete) else {
            return empty_head(change, data);
        };
        // An INSERT's parameters were decoded by the first pass; others are decoded here.
        let logs = &self.plan.facts.logs;
        let params = match logs.binary_search_by_key(&item.seq, |l| l.seq) {
            Ok(i) => logs[i].params_as(self.binary),
            Err(_) => Cow::Owned(Params::decode(
                row.bytes("log_params").unwrap_or_default(),
                self.binary,
            )),
        };
        write_log_columns(data, row, &params);
        let prior = (action == Action::Update)
            .then(|| before(change))
            .flatten()
            .map(|b| prior_and_changed(b, row, None, self.binary));
        close_data(data, prior);
        let log_id = row.uint("log_id");
        Head {
            key_json: key_json("log_id", log_id),
            kafka_key: kafka_key(&change.table.db, log_id),
            entity_ts: row.bytes("log_timestamp").and_then(mw_timestamp),
            tables: vec!["logging"],
        }
    }

    fn user_group(
        &self,
        action: Action,
        change: &RowChange,
        log: Option<&LogFact>,
        data: &mut Obj<'_>,
    ) -> Head {
        let Some(row) = state(change, action == Action::Remove) else {
            return empty_head(change, data);
        };
        data.columns(row);
        if let Some(l) = log {
            data.bytes("user_name", &l.title);
        }
        let prior = (action == Action::ExpiryChange)
            .then(|| before(change))
            .flatten()
            .map(|b| {
                let mut prior = Vec::new();
                let mut o = Obj::open(&mut prior, self.binary);
                o.value("ug_expiry", b.get("ug_expiry").unwrap_or(&Value::Null));
                o.close();
                (String::from_utf8_lossy(&prior).into_owned(), None)
            });
        close_data(data, prior);
        let user = row.uint("ug_user");
        let group = row.bytes("ug_group").unwrap_or_default();
        let mut key = Vec::new();
        let mut o = Obj::open(&mut key, self.binary);
        o.opt_num("ug_user", user);
        o.bytes("ug_group", group);
        o.close();
        let mut tables = vec!["user_groups"];
        if log.is_some() {
            tables.push("logging");
        }
        Head {
            key_json: String::from_utf8_lossy(&key).into_owned(),
            kafka_key: format!("{}:{}:{}", change.table.db, key_u64(user), key_text(group)),
            entity_ts: log.and_then(|l| l.timestamp.clone()),
            tables,
        }
    }
}

/// Closes `data` and appends `prior` (and `changed`, when given) as sibling fields. The
/// record writer continues after them.
fn close_data(data: &mut Obj<'_>, prior_changed: Option<(String, Option<String>)>) {
    data.out.push(b'}');
    let (prior, changed) = match prior_changed {
        Some((p, c)) => (p, c.unwrap_or_else(|| "null".into())),
        None => ("null".into(), "null".into()),
    };
    data.out.extend_from_slice(b",\"prior\":");
    data.out.extend_from_slice(prior.as_bytes());
    data.out.extend_from_slice(b",\"changed\":");
    data.out.extend_from_slice(changed.as_bytes());
}

/// The head of a change without the image it needs (not written by MySQL or MariaDB).
fn empty_head(change: &RowChange, data: &mut Obj<'_>) -> Head {
    close_data(data, None);
    Head {
        key_json: "null".into(),
        kafka_key: change.table.db.clone(),
        entity_ts: None,
        tables: Vec::new(),
    }
}

/// `{"<name>":<id>}` (`null` for a missing id).
fn key_json(name: &str, id: Option<u64>) -> String {
    let mut out = String::with_capacity(name.len() + 26);
    out.push_str("{\"");
    out.push_str(name);
    out.push_str("\":");
    match id {
        Some(n) => out.push_str(itoa::Buffer::new().format(n)),
        None => out.push_str("null"),
    }
    out.push('}');
    out
}

/// `<wiki>:<id>` (nothing after the colon for a missing id).
fn kafka_key(wiki: &str, id: Option<u64>) -> String {
    let mut out = String::with_capacity(wiki.len() + 21);
    out.push_str(wiki);
    out.push(':');
    if let Some(n) = id {
        out.push_str(itoa::Buffer::new().format(n));
    }
    out
}

fn json_u64(v: Option<u64>) -> String {
    v.map_or_else(|| "null".into(), |n| n.to_string())
}

fn key_u64(v: Option<u64>) -> String {
    v.map_or_else(String::new, |n| n.to_string())
}

/// A revision deletion from its log row alone. The row says which bits the request added
/// (`7::nfield`, the OR of the bits added to its items) and removed (`6::ofield`), not the
/// bits before or after: the record carries exactly that, and a consumer applies it as
/// `(old | added) & !removed`.
fn revision_from_log(wiki: &str, log: &LogFact, rev_id: u64, data: &mut Obj<'_>) -> Head {
    let params = log.params.json();
    let bits = |k: &str| params.get(k).and_then(json_id).unwrap_or(0);
    data.raw("rev_id", itoa::Buffer::new().format(rev_id));
    data.raw("visibility_added", visibility_json(bits("7::nfield")));
    data.raw("visibility_removed", visibility_json(bits("6::ofield")));
    close_data(data, None);
    Head {
        key_json: key_json("rev_id", Some(rev_id)),
        kafka_key: kafka_key(wiki, Some(rev_id)),
        entity_ts: log.timestamp.clone(),
        tables: vec!["logging"],
    }
}

fn page_from_log(
    wiki: &str,
    action: Action,
    log: &LogFact,
    restored: Option<u64>,
    data: &mut Obj<'_>,
) -> Head {
    data.opt_num("page_id", log.page);
    let prior = if action == Action::Move {
        let target = log.params.json().get("4::target").and_then(param_bytes);
        data.opt_bytes("title_text", target.as_deref());
        let mut prior = Vec::new();
        let mut o = Obj::open(&mut prior, data.binary);
        o.opt_num("page_namespace", log.namespace);
        o.bytes("page_title", &log.title);
        o.close();
        Some((String::from_utf8_lossy(&prior).into_owned(), None))
    } else {
        data.opt_num("page_namespace", log.namespace);
        data.bytes("page_title", &log.title);
        None
    };
    if let Some(n) = restored {
        data.raw("restored_revisions", &n.to_string());
    }
    close_data(data, prior);
    let (key_json, kafka_key) = match log.page {
        Some(p) => (format!("{{\"page_id\":{p}}}"), format!("{wiki}:{p}")),
        // Without a page id the title is all there is.
        None => (
            "{\"page_id\":null}".into(),
            format!(
                "{wiki}:{}:{}",
                log.namespace.unwrap_or(0),
                key_text(&log.title)
            ),
        ),
    };
    Head {
        key_json,
        kafka_key,
        entity_ts: log.timestamp.clone(),
        tables: vec!["logging"],
    }
}

fn user_group_from_log(
    action: Action,
    log: &LogFact,
    change: &GroupChange,
    data: &mut Obj<'_>,
) -> Head {
    data.bytes("user_name", &change.user_name);
    data.str("user_wiki", &change.user_wiki);
    data.bytes("ug_group", &change.group);
    data.opt_bytes("ug_expiry", change.expiry.as_deref());
    let prior = matches!(action, Action::ExpiryChange | Action::Remove).then(|| {
        let mut prior = Vec::new();
        let mut o = Obj::open(&mut prior, data.binary);
        o.opt_bytes("ug_expiry", change.prior_expiry.as_deref());
        o.close();
        (String::from_utf8_lossy(&prior).into_owned(), None)
    });
    close_data(data, prior);
    let mut key = Vec::new();
    let mut o = Obj::open(&mut key, data.binary);
    o.bytes("user_name", &change.user_name);
    o.str("user_wiki", &change.user_wiki);
    o.bytes("ug_group", &change.group);
    o.close();
    Head {
        key_json: String::from_utf8_lossy(&key).into_owned(),
        kafka_key: format!(
            "{}:{}:{}",
            change.user_wiki,
            key_text(&change.user_name),
            key_text(&change.group)
        ),
        entity_ts: log.timestamp.clone(),
        tables: vec!["logging"],
    }
}

/// Bytes in a text Kafka key: UTF-8 as it is, a backslash doubled, any other byte as `\xNN`,
/// so that different byte strings never share a key.
fn key_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// What a log row adds to the record of the change it explains.
fn log_enrichment(l: &LogFact, o: &mut Obj<'_>) {
    let binary = o.binary;
    o.opt_num("log_id", l.log_id);
    o.bytes("log_type", &l.log_type);
    o.bytes("log_action", &l.log_action);
    match &l.timestamp {
        Some(t) => o.str("log_timestamp", t),
        None => o.raw("log_timestamp", "null"),
    }
    o.opt_num("log_actor", l.actor);
    o.opt_num("log_comment_id", l.comment_id);
    o.json("log_params", l.params_as(binary).json());
}

/// A logging row's columns, `log_params` decoded (with its flag when it was not decoded).
fn write_log_columns(data: &mut Obj<'_>, row: Row<'_>, params: &Params) {
    for (name, v) in row.schema.columns.iter().zip(row.values) {
        if name != "log_params" {
            data.value(name, v);
            continue;
        }
        data.json("log_params", params.json());
        if let Some(flag) = params.flag() {
            data.raw(flag, "true");
        }
    }
}
