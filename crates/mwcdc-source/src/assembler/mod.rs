//! Events to transactions: the state machine that groups a binlog stream into committed
//! transactions of captured row changes, with the position each one ends at.
//!
//! # Transactions
//! A group starts at a GTID event and ends at XID, `COMMIT`/`ROLLBACK` (non-transactional
//! engines), XA_PREPARE, or after its single statement (DDL, `XA COMMIT`/`XA ROLLBACK`).
//! Every group advances the position, whether or not the filter kept any of its rows.
//!
//! # XA
//! MariaDB and MySQL log an XA transaction's rows at `XA PREPARE`. They are held here and
//! published with the `XA COMMIT` group, or dropped at `XA ROLLBACK`. The prepare group is
//! emitted without rows and marked [`XaStep::Prepare`], so the checkpoint cannot pass it until
//! its outcome is published.
//!
//! # Completeness
//! A captured table's DML logged as a statement, or as a partial row image, stops the source:
//! the change cannot be published exactly.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use mwcdc_binlog::header::event_type as et;
use mwcdc_binlog::{DecodeError, Event, EventDecoder, EventHeader, RowsEvent, RowsKind, TableMap};
use mwcdc_change::{ChangeBuffer, Op, RowChange, SpillPolicy, TableSchema, Transaction, XaStep};
use mwcdc_position::{MariaGtid, MySqlGtid, Position};
use tracing::{info, warn};

use crate::filter::TableFilter;
use crate::schema::{apply_columns, table_schema, SchemaLookup, SchemaMode};
use crate::statement::{classify, Statement, TableName};
use crate::{DefiniteError, SourceError, UnusableError};

/// A captured table as the rows events of one TABLE_MAP refer to it.
#[derive(Debug)]
struct MappedTable {
    map: TableMap,
    schema: Arc<TableSchema>,
}

#[derive(Debug)]
enum TableEntry {
    Captured(Arc<MappedTable>),
    Ignored,
}

#[derive(Debug, Clone)]
enum GroupGtid {
    Maria(MariaGtid),
    MySql(MySqlGtid),
}

#[derive(Debug)]
struct Group {
    gtid: GroupGtid,
    text: Arc<str>,
    /// MariaDB's standalone flag, or for MySQL: the group turned out to be one statement.
    standalone: bool,
    /// No event of the group has been seen yet (MySQL standalone detection).
    fresh: bool,
    rows_events: u32,
    changes: ChangeBuffer,
}

/// Groups events into transactions.
pub struct Assembler<L> {
    decoder: EventDecoder,
    filter: TableFilter,
    schema_mode: SchemaMode,
    lookup: L,
    tables: HashMap<u64, (Vec<u8>, TableEntry)>,
    key_cache: HashMap<(String, String), Vec<String>>,
    columns_cache: HashMap<(String, String), Vec<crate::schema::ColumnInfo>>,
    warned_keyless: HashSet<(String, String)>,
    position: Position,
    file: Arc<str>,
    group: Option<Group>,
    held_xa: HashMap<String, ChangeBuffer>,
    pending_payload_echo: VecDeque<EventHeader>,
    spill: Arc<SpillPolicy>,
    next_event_pos: u64,
}

impl<L: SchemaLookup> Assembler<L> {
    /// An assembler that continues from `position`.
    pub fn new(
        decoder: EventDecoder,
        filter: TableFilter,
        schema_mode: SchemaMode,
        lookup: L,
        position: Position,
    ) -> Self {
        Self {
            decoder,
            filter,
            schema_mode,
            lookup,
            tables: HashMap::new(),
            key_cache: HashMap::new(),
            columns_cache: HashMap::new(),
            warned_keyless: HashSet::new(),
            position,
            file: Arc::from(""),
            group: None,
            held_xa: HashMap::new(),
            pending_payload_echo: VecDeque::new(),
            spill: Arc::new(SpillPolicy::unbounded()),
            next_event_pos: 0,
        }
    }

    /// Spills large transactions to disk by `policy` (by default they stay in memory).
    pub fn with_spill(mut self, policy: Arc<SpillPolicy>) -> Self {
        self.spill = policy;
        self
    }

    /// The position after the last complete transaction.
    pub fn position(&self) -> &Position {
        &self.position
    }

    /// The binlog file being read.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Where the next event starts in [`Assembler::file`]: the end of the last event read.
    pub fn next_event_pos(&self) -> u64 {
        self.next_event_pos
    }

    /// Forgets a partly read transaction and the format state, for a new connection that
    /// resumes from [`Assembler::position`]. Held XA transactions are kept: their prepare
    /// groups are behind the position and will not be sent again.
    pub fn reconnect(&mut self) {
        self.group = None;
        self.tables.clear();
        self.pending_payload_echo.clear();
        self.decoder = EventDecoder::new(self.decoder.collations().clone());
    }

    /// Takes the rows held for the prepared XA transaction `xid`.
    pub fn take_prepared(&mut self, xid: &str) -> Option<ChangeBuffer> {
        self.held_xa.remove(xid)
    }

    /// Holds `rows` for the prepared XA transaction `xid`, read again from its prepare group
    /// (which was before the start position), so that its XA COMMIT publishes them.
    pub fn hold_prepared(&mut self, xid: String, rows: ChangeBuffer) {
        self.held_xa.insert(xid, rows);
    }

    /// Feeds one complete event (header, body and checksum as the server sent it) and
    /// appends the transactions it completes to `out`.
    pub async fn handle(
        &mut self,
        bytes: &[u8],
        out: &mut Vec<Transaction>,
    ) -> Result<(), SourceError> {
        if let Some(front) = self.pending_payload_echo.front() {
            // The driver also yields the events of a TRANSACTION_PAYLOAD it decompressed,
            // without checksums; they were handled with the payload already.
            if EventHeader::parse(bytes).is_ok_and(|h| h == *front) {
                self.pending_payload_echo.pop_front();
                return Ok(());
            }
            self.pending_payload_echo.clear();
        }
        let raw = self
            .decoder
            .split(bytes)
            .map_err(|e| self.decode_error(bytes, e))?;
        if raw.header.log_pos != 0 {
            self.next_event_pos = u64::from(raw.header.log_pos);
        }
        self.handle_event(raw.header, raw.body, out).await
    }

    async fn handle_event(
        &mut self,
        header: EventHeader,
        body: &[u8],
        out: &mut Vec<Transaction>,
    ) -> Result<(), SourceError> {
        let pos = u64::from(header.start_pos().unwrap_or(0));
        let t = header.type_code;
        if t == et::TABLE_MAP {
            return self.table_map(body, pos).await;
        }
        if mwcdc_binlog::events::is_rows_event(t) || t == et::PARTIAL_UPDATE_ROWS {
            return self.rows(header, body, pos);
        }
        let event = self
            .decoder
            .decode_raw(header, body)
            .map_err(|e| self.decode_error_at(pos, e))?;
        match event {
            Event::MariaGtidList(list) => {
                if let Position::MariaDb(p) = &mut self.position {
                    p.seed(&list);
                }
            }
            Event::MariaGtid(g) => {
                self.start_group(GroupGtid::Maria(g.gtid), g.standalone(), pos)?
            }
            Event::MySqlGtid(g) => self.start_group(GroupGtid::MySql(g), false, pos)?,
            Event::AnonymousGtid => {
                return Err(self.protocol(
                    pos,
                    "anonymous transaction: the server has gtid_mode OFF; mwcdc needs gtid_mode=ON",
                ))
            }
            Event::Query(q) => self.query(&q.db, &q.sql, header, pos, out)?,
            Event::Xid => self.finish(header, None, pos, out)?,
            Event::XaPrepare(p) => {
                if p.one_phase {
                    self.finish(header, None, pos, out)?;
                } else {
                    self.finish(header, Some(XaStep::Prepare(p.xid.to_string())), pos, out)?;
                }
            }
            Event::TransactionPayload(payload) => {
                for inner in mwcdc_binlog::payload_events(&payload) {
                    let inner = inner.map_err(|e| self.decode_error_at(pos, e))?;
                    let raw = mwcdc_binlog::RawEvent::split(inner, false)
                        .map_err(|e| self.decode_error_at(pos, e))?;
                    self.pending_payload_echo.push_back(raw.header);
                    Box::pin(self.handle_event(raw.header, raw.body, out)).await?;
                }
            }
            Event::Incident(msg) => {
                return Err(self.protocol(
                    pos,
                    &format!("INCIDENT event: the primary may have lost changes here ({msg})"),
                ))
            }
            Event::FormatDescription(_)
            | Event::Heartbeat
            | Event::PreviousGtids(_)
            | Event::Skipped(_) => {}
            Event::Rotate(r) => {
                self.file = Arc::from(r.file.as_str());
                self.next_event_pos = r.position;
                // A transaction never spans binlog files, nor do the TABLE_MAPs its rows
                // events refer to: the maps of the last file are not needed any more.
                self.tables.clear();
            }
            Event::TableMap(_) | Event::Rows(_) | Event::PartialUpdateRows { .. } => {
                return Err(self.protocol(pos, "table and rows events are read before decoding"))
            }
        }
        Ok(())
    }

    fn start_group(
        &mut self,
        gtid: GroupGtid,
        standalone: bool,
        pos: u64,
    ) -> Result<(), SourceError> {
        if let Some(open) = &self.group {
            return Err(self.protocol(
                pos,
                &format!("a new GTID while transaction {} is still open", open.text),
            ));
        }
        let text = match &gtid {
            GroupGtid::Maria(g) => g.to_string(),
            GroupGtid::MySql(g) => g.to_string(),
        };
        self.group = Some(Group {
            gtid,
            text: Arc::from(text.as_str()),
            standalone,
            fresh: true,
            rows_events: 0,
            changes: ChangeBuffer::new(self.spill.clone()),
        });
        Ok(())
    }

    fn open_group(&mut self, pos: u64, what: &str) -> Result<&mut Group, SourceError> {
        if self.group.is_none() {
            return Err(self.protocol(pos, &format!("{what} outside a GTID transaction")));
        }
        let group = self.group.as_mut().expect("checked above");
        Ok(group)
    }

    fn captured(&self, name: &TableName, default_db: &str) -> Option<(String, String)> {
        let db = name.db.clone().unwrap_or_else(|| default_db.to_string());
        self.filter
            .captures(&db, &name.table)
            .then(|| (db, name.table.clone()))
    }

    fn query(
        &mut self,
        db: &str,
        sql: &str,
        header: EventHeader,
        pos: u64,
        out: &mut Vec<Transaction>,
    ) -> Result<(), SourceError> {
        let statement = classify(sql);
        let group = self.open_group(pos, "a statement")?;
        // MySQL has no standalone flag: a group whose first event is a statement other than
        // BEGIN is that one statement. MariaDB's flag is authoritative: its transactions have
        // no BEGIN, so a statement-logged DML may come first in a group that ends at XID.
        // MySQL 8.0.21+ logs an atomic CREATE TABLE ... SELECT as `CREATE ... START
        // TRANSACTION`, rows and an XID.
        let opens_transaction = sql
            .trim_end()
            .to_ascii_uppercase()
            .ends_with("START TRANSACTION");
        if group.fresh
            && matches!(group.gtid, GroupGtid::MySql(_))
            && !matches!(statement, Statement::Begin | Statement::XaMarker)
            && !opens_transaction
        {
            group.standalone = true;
        }
        group.fresh = false;
        let standalone = group.standalone;
        match statement {
            Statement::Begin | Statement::XaMarker => Ok(()),
            Statement::Commit | Statement::Rollback => self.finish(header, None, pos, out),
            Statement::XaCommit(xid) => self.resolve_xa(xid, true, header, pos, out),
            Statement::XaRollback(xid) => self.resolve_xa(xid, false, header, pos, out),
            Statement::Truncate(name) => {
                if let Some((db, table)) = self.captured(&name, db) {
                    let schema = Arc::new(TableSchema::new(db, table, Vec::new(), Vec::new()));
                    let change = self.change(schema, Op::Truncate, None, None, 0, 0, header, pos);
                    if let Some(group) = self.group.as_mut() {
                        group.changes.push(change)?;
                    }
                }
                self.forget_schema(&name, db);
                self.finish_if(standalone, header, pos, out)
            }
            Statement::Ddl(names) => {
                for name in &names {
                    if self.captured(name, db).is_some() {
                        info!(sql, "DDL on a captured table; its schema is read again");
                    }
                    self.forget_schema(name, db);
                }
                self.finish_if(standalone, header, pos, out)
            }
            Statement::Dml(names) => {
                if let Some((db, table)) = names.iter().find_map(|n| self.captured(n, db)) {
                    let gtid = self
                        .group
                        .as_ref()
                        .map(|g| g.text.to_string())
                        .unwrap_or_default();
                    return Err(SourceError::Unusable(UnusableError::Incomplete {
                        gtid,
                        table: format!("{db}.{table}"),
                        what: "with a statement instead of row images (the session used binlog_format STATEMENT or MIXED)".into(),
                        setting: "binlog_format=ROW".into(),
                    }));
                }
                self.finish_if(standalone, header, pos, out)
            }
            Statement::Other => self.finish_if(standalone, header, pos, out),
        }
    }

    /// Ends an `XA COMMIT` or `XA ROLLBACK` group; a commit publishes the held rows.
    fn resolve_xa(
        &mut self,
        xid: String,
        commit: bool,
        header: EventHeader,
        pos: u64,
        out: &mut Vec<Transaction>,
    ) -> Result<(), SourceError> {
        let held = self.held_xa.remove(&xid);
        match (&held, commit) {
            (None, true) => {
                return Err(SourceError::Unusable(UnusableError::XaPrepareMissing {
                    gtid: self
                        .group
                        .as_ref()
                        .map(|g| g.text.to_string())
                        .unwrap_or_default(),
                    xid,
                    why: "the replicator reads that group again where the server allows it".into(),
                }))
            }
            // A rollback of a transaction prepared before the start: it wrote nothing.
            (None, false) => {
                warn!(%xid, "XA ROLLBACK of a transaction prepared before the start position: nothing to publish");
            }
            _ => {}
        }
        if let (true, Some(rows), Some(group)) = (commit, held, self.group.as_mut()) {
            group.changes = rows;
        }
        self.finish(header, Some(XaStep::Resolve(xid)), pos, out)
    }

    fn forget_schema(&mut self, name: &TableName, default_db: &str) {
        let key = (
            name.db.clone().unwrap_or_else(|| default_db.to_string()),
            name.table.clone(),
        );
        self.key_cache.remove(&key);
        self.columns_cache.remove(&key);
        self.warned_keyless.remove(&key);
    }

    fn finish_if(
        &mut self,
        standalone: bool,
        header: EventHeader,
        pos: u64,
        out: &mut Vec<Transaction>,
    ) -> Result<(), SourceError> {
        if standalone {
            self.finish(header, None, pos, out)
        } else {
            Ok(())
        }
    }

    fn finish(
        &mut self,
        header: EventHeader,
        xa: Option<XaStep>,
        pos: u64,
        out: &mut Vec<Transaction>,
    ) -> Result<(), SourceError> {
        let Some(group) = self.group.take() else {
            return Err(self.protocol(pos, "a commit outside a GTID transaction"));
        };
        // Sealing may fail (the spill file): the position moves only once it has not.
        let mut changes = group.changes;
        changes.seal()?;
        match (&group.gtid, &mut self.position) {
            (GroupGtid::Maria(g), Position::MariaDb(p)) => p.advance(*g)?,
            (GroupGtid::MySql(g), Position::MySql(set)) => set.add(g)?,
            _ => {
                return Err(self.protocol(
                    pos,
                    "a GTID of the other server flavor than the start position",
                ))
            }
        }
        if changes.spilled_bytes() > 0 {
            info!(gtid = %group.text, changes = changes.len(), spilled_bytes = changes.spilled_bytes(), "a large transaction was spilled to disk");
        }
        if let Some(XaStep::Prepare(xid)) = &xa {
            self.held_xa.insert(
                xid.clone(),
                std::mem::replace(&mut changes, ChangeBuffer::new(self.spill.clone())),
            );
        }
        out.push(Transaction {
            gtid: group.text,
            position: self.position.clone(),
            file: self.file.clone(),
            end_pos: u64::from(header.log_pos),
            commit_ts: header.timestamp,
            changes,
            xa,
            snapshot: None,
        });
        Ok(())
    }

    async fn table_map(&mut self, body: &[u8], pos: u64) -> Result<(), SourceError> {
        let ph = self.decoder.post_header_len(et::TABLE_MAP).unwrap_or(8);
        let (table_id, db, table) =
            TableMap::peek_name(body, ph).map_err(|e| self.decode_error_at(pos, e))?;
        if let Some((cached, _)) = self.tables.get(&table_id) {
            if cached == body {
                return Ok(());
            }
        }
        let entry = if self.filter.captures(&db, &table) {
            let mut map = TableMap::parse(body, ph, self.decoder.collations())
                .map_err(|e| self.decode_error_at(pos, e))?;
            let key = (db.clone(), table.clone());
            match self.schema_mode {
                SchemaMode::Binlog if !map.has_full_metadata => {
                    return Err(SourceError::Unusable(UnusableError::ServerSetting {
                        setting: "binlog_row_metadata".into(),
                        actual: "not FULL when this event was written".into(),
                        expected: "FULL".into(),
                        fix: "SET GLOBAL binlog_row_metadata = FULL and add binlog_row_metadata=FULL to the server configuration; events written before that carry no column names, so either start after them or set source.schema = \"information_schema\"".into(),
                    }))
                }
                SchemaMode::Binlog => {}
                SchemaMode::InformationSchema => {
                    if !self.columns_cache.contains_key(&key) {
                        let cols = self.lookup.columns(&db, &table).await?;
                        self.columns_cache.insert(key.clone(), cols);
                    }
                    let cols = &self.columns_cache[&key];
                    apply_columns(&mut map, cols).map_err(|detail| SourceError::Definite(DefiniteError::SchemaMismatch {
                        table: format!("{db}.{table}"),
                        file: self.file.to_string(),
                        pos,
                        detail,
                    }))?;
                }
            }
            let key_names = if map.primary_key.is_none() {
                if !self.key_cache.contains_key(&key) {
                    let names = self.lookup.key_columns(&db, &table).await?;
                    self.key_cache.insert(key.clone(), names);
                }
                Some(self.key_cache[&key].clone())
            } else {
                None
            };
            let schema = table_schema(&map, key_names.as_deref());
            if schema.key.is_empty() && self.warned_keyless.insert(key) {
                warn!(table = %format!("{db}.{table}"), "table has no primary key and no unique key without NULL columns: its records get a null key");
            }
            TableEntry::Captured(Arc::new(MappedTable {
                map,
                schema: Arc::new(schema),
            }))
        } else {
            TableEntry::Ignored
        };
        self.tables.insert(table_id, (body.to_vec(), entry));
        Ok(())
    }

    fn rows(&mut self, header: EventHeader, body: &[u8], pos: u64) -> Result<(), SourceError> {
        let t = header.type_code;
        let ph = self
            .decoder
            .post_header_len(t)
            .unwrap_or(if t >= et::WRITE_ROWS { 10 } else { 8 });
        let table_id =
            RowsEvent::peek_table_id(body, ph).map_err(|e| self.decode_error_at(pos, e))?;
        let mapped = match self.tables.get(&table_id) {
            Some((_, TableEntry::Captured(m))) => Some(m.clone()),
            Some((_, TableEntry::Ignored)) => None,
            None => return Err(self.decode_error_at(pos, DecodeError::UnknownTable(table_id))),
        };
        let group = self.open_group(pos, "a rows event")?;
        group.fresh = false;
        let event_index = group.rows_events;
        group.rows_events += 1;
        let gtid = group.text.to_string();
        let Some(mapped) = mapped else {
            return Ok(());
        };
        let table_name = mapped.map.qualified_name();
        let partial = || {
            SourceError::Unusable(UnusableError::Incomplete {
            gtid: gtid.clone(),
            table: table_name.clone(),
            what: "with a partial row image (the session used binlog_row_image MINIMAL or NOBLOB, or partial JSON updates)".into(),
            setting: "binlog_row_image=FULL".into(),
        })
        };
        if t == et::PARTIAL_UPDATE_ROWS {
            return Err(partial());
        }
        let rows = RowsEvent::parse(t, body, ph).map_err(|e| self.decode_error_at(pos, e))?;
        if !rows.is_full_image() {
            return Err(partial());
        }
        let images = rows
            .decode(&mapped.map)
            .map_err(|e| self.decode_error_at(pos, e))?;
        let op = match rows.kind {
            RowsKind::Insert => Op::Create,
            RowsKind::Update => Op::Update,
            RowsKind::Delete => Op::Delete,
        };
        for (row_index, image) in images.into_iter().enumerate() {
            let change = self.change(
                mapped.schema.clone(),
                op,
                image.before,
                image.after,
                event_index,
                row_index as u32,
                header,
                pos,
            );
            if let Some(group) = self.group.as_mut() {
                group.changes.push(change)?;
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn change(
        &self,
        table: Arc<TableSchema>,
        op: Op,
        before: Option<Vec<mwcdc_binlog::Value>>,
        after: Option<Vec<mwcdc_binlog::Value>>,
        event_index: u32,
        row_index: u32,
        header: EventHeader,
        pos: u64,
    ) -> RowChange {
        RowChange {
            table,
            op,
            before,
            after,
            gtid: self
                .group
                .as_ref()
                .map_or_else(|| Arc::from(""), |g| g.text.clone()),
            event_index,
            row_index,
            file: self.file.clone(),
            pos,
            server_id: header.server_id,
            ts_sec: header.timestamp,
        }
    }

    fn decode_error(&self, bytes: &[u8], source: DecodeError) -> SourceError {
        let pos = EventHeader::parse(bytes)
            .ok()
            .and_then(|h| h.start_pos())
            .map_or(0, u64::from);
        self.decode_error_at(pos, source)
    }

    fn decode_error_at(&self, pos: u64, source: DecodeError) -> SourceError {
        SourceError::Definite(DefiniteError::Decode {
            file: self.file.to_string(),
            pos,
            source,
        })
    }

    fn protocol(&self, pos: u64, message: &str) -> SourceError {
        SourceError::Definite(DefiniteError::Protocol {
            file: self.file.to_string(),
            pos,
            message: message.to_string(),
        })
    }
}

#[cfg(test)]
mod tests;
