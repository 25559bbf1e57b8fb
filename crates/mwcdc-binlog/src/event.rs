//! The event decoder: bytes of one event in, a typed [`Event`] out, checksum verified.

use mwcdc_position::{GtidSet, MariaPosition, MySqlGtid};

use crate::charset::Collations;
use crate::events::{
    parse_maria_gtid_list, parse_mysql_gtid, parse_previous_gtids, FormatDescription,
    MariaGtidEvent, Query, Rotate, XaPrepare,
};
use crate::header::{event_type as et, EventHeader, RawEvent, CHECKSUM_LEN, HEADER_LEN};
use crate::rows::RowsEvent;
use crate::table_map::TableMap;
use crate::DecodeError;

/// Header flag: an event the reader may skip when it does not know the type.
const LOG_EVENT_IGNORABLE_F: u16 = 0x80;

/// One decoded event.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// FORMAT_DESCRIPTION: applies to the events after it.
    FormatDescription(FormatDescription),
    /// ROTATE: the following events come from another file.
    Rotate(Rotate),
    /// A heartbeat from an idle server.
    Heartbeat,
    /// MariaDB GTID: a new event group.
    MariaGtid(MariaGtidEvent),
    /// MariaDB GTID_LIST: the binlog state at the start of a file.
    MariaGtidList(MariaPosition),
    /// MySQL GTID: a new transaction.
    MySqlGtid(MySqlGtid),
    /// MySQL ANONYMOUS_GTID: a transaction without a GTID (gtid_mode OFF).
    AnonymousGtid,
    /// MySQL PREVIOUS_GTIDS: the GTIDs executed before this file.
    PreviousGtids(GtidSet),
    /// QUERY (or MariaDB QUERY_COMPRESSED).
    Query(Query),
    /// XID: commit of a transaction on a transactional engine.
    Xid,
    /// XA_PREPARE: end of the prepare part of an XA transaction.
    XaPrepare(XaPrepare),
    /// TABLE_MAP.
    TableMap(TableMap),
    /// WRITE/UPDATE/DELETE rows.
    Rows(RowsEvent<'a>),
    /// MySQL PARTIAL_UPDATE_ROWS (partial JSON updates): a partial row image.
    PartialUpdateRows {
        /// The TABLE_MAP id it refers to.
        table_id: u64,
    },
    /// MySQL TRANSACTION_PAYLOAD: the decompressed events it carries, without checksums.
    TransactionPayload(Vec<u8>),
    /// INCIDENT: the primary lost events; the stream cannot be trusted past it.
    Incident(String),
    /// Events that carry nothing to capture: ANNOTATE_ROWS, BINLOG_CHECKPOINT, ROWS_QUERY,
    /// STOP, TRANSACTION_CONTEXT, VIEW_CHANGE, and ignorable events of unknown type.
    Skipped(u8),
}

/// Decodes events in stream order, keeping the current format description.
#[derive(Debug, Clone)]
pub struct EventDecoder {
    fde: Option<FormatDescription>,
    collations: Collations,
}

impl EventDecoder {
    /// A decoder that has not seen a FORMAT_DESCRIPTION yet.
    pub fn new(collations: Collations) -> Self {
        Self {
            fde: None,
            collations,
        }
    }

    /// The current format description, once one was read.
    pub fn format_description(&self) -> Option<&FormatDescription> {
        self.fde.as_ref()
    }

    /// The post-header length of an event type under the current format description.
    pub fn post_header_len(&self, type_code: u8) -> Option<usize> {
        self.fde.as_ref()?.post_header_len(type_code)
    }

    /// The collation table used for text columns.
    pub fn collations(&self) -> &Collations {
        &self.collations
    }

    /// Splits one complete event as it came from a binlog file or the server, and verifies
    /// its CRC32 when the binlog is checksummed.
    ///
    /// Before the first FORMAT_DESCRIPTION (the server's artificial ROTATE at the start of a
    /// dump), whether the event carries a CRC32 is not announced yet: it is taken to carry
    /// one exactly when its last four bytes are the CRC32 of the rest.
    pub fn split<'a>(&self, bytes: &'a [u8]) -> Result<RawEvent<'a>, DecodeError> {
        let checksummed = match &self.fde {
            Some(fde) => fde.checksummed(),
            None => RawEvent::split(bytes, true).is_ok_and(|raw| raw.verify_checksum().is_ok()),
        };
        let raw = RawEvent::split(bytes, checksummed)?;
        raw.verify_checksum()?;
        Ok(raw)
    }

    /// Decodes one complete event: split, verify, interpret.
    pub fn decode<'a>(&mut self, bytes: &'a [u8]) -> Result<(EventHeader, Event<'a>), DecodeError> {
        let raw = self.split(bytes)?;
        let event = self.decode_raw(raw.header, raw.body)?;
        Ok((raw.header, event))
    }

    /// Decodes the events of a TRANSACTION_PAYLOAD: they have no checksums.
    pub fn decode_unchecked<'a>(
        &mut self,
        bytes: &'a [u8],
    ) -> Result<(EventHeader, Event<'a>), DecodeError> {
        let raw = RawEvent::split(bytes, false)?;
        if raw.header.type_code == et::TRANSACTION_PAYLOAD {
            return Err(DecodeError::Invalid(
                "TRANSACTION_PAYLOAD nested in a transaction payload".into(),
            ));
        }
        let event = self.decode_raw(raw.header, raw.body)?;
        Ok((raw.header, event))
    }

    /// Interprets an event body whose checksum (if any) was already checked and removed.
    pub fn decode_raw<'a>(
        &mut self,
        header: EventHeader,
        body: &'a [u8],
    ) -> Result<Event<'a>, DecodeError> {
        let t = header.type_code;
        if t == et::FORMAT_DESCRIPTION {
            let fde = FormatDescription::parse(body)?;
            if fde.checksummed() {
                verify_fde_checksum(&header, body)?;
            }
            self.fde = Some(fde.clone());
            return Ok(Event::FormatDescription(fde));
        }
        if t == et::ROTATE {
            // The server's artificial ROTATE comes before the first FORMAT_DESCRIPTION.
            return Ok(Event::Rotate(Rotate::parse(body)?));
        }
        let fde = self.fde.as_ref().ok_or_else(|| {
            DecodeError::Invalid(format!("event type {t} before any FORMAT_DESCRIPTION"))
        })?;
        let post_header = |default: usize| fde.post_header_len(t).unwrap_or(default);
        Ok(match t {
            et::ROTATE => Event::Rotate(Rotate::parse(body)?),
            et::HEARTBEAT | et::HEARTBEAT_V2 => Event::Heartbeat,
            et::MARIA_GTID => Event::MariaGtid(MariaGtidEvent::parse(body, header.server_id)?),
            et::MARIA_GTID_LIST => Event::MariaGtidList(parse_maria_gtid_list(body)?),
            et::GTID => Event::MySqlGtid(parse_mysql_gtid(body)?),
            et::ANONYMOUS_GTID => Event::AnonymousGtid,
            et::PREVIOUS_GTIDS => Event::PreviousGtids(parse_previous_gtids(body)?),
            // EXECUTE_LOAD_QUERY is a QUERY (`LOAD DATA ...`) with a longer post-header.
            et::QUERY | et::EXECUTE_LOAD_QUERY => Event::Query(Query::parse(body, post_header(13))?),
            et::MARIA_QUERY_COMPRESSED => {
                Event::Query(Query::parse_compressed(body, post_header(13))?)
            }
            et::XID => Event::Xid,
            et::XA_PREPARE => Event::XaPrepare(XaPrepare::parse(body)?),
            et::TABLE_MAP => {
                Event::TableMap(TableMap::parse(body, post_header(8), &self.collations)?)
            }
            et::PARTIAL_UPDATE_ROWS => Event::PartialUpdateRows {
                table_id: RowsEvent::peek_table_id(body, post_header(10))?,
            },
            t if crate::events::is_rows_event(t) => {
                Event::Rows(RowsEvent::parse(t, body, post_header(8))?)
            }
            et::TRANSACTION_PAYLOAD => {
                Event::TransactionPayload(crate::compression::mysql_transaction_payload(body)?)
            }
            et::INCIDENT => Event::Incident(String::from_utf8_lossy(body).into_owned()),
            // Context of statement-logged DML (the QUERY event that follows is what
            // matters), and markers that carry no row data.
            // Type 17 was a rows event in MySQL 5.1 development builds; BEGIN_LOAD_QUERY's
            // post-header is its 4-byte file id.
            et::BEGIN_LOAD_QUERY if post_header(0) != 4 => {
                return Err(DecodeError::Invalid(format!(
                    "event type {t} with a {}-byte post-header is not BEGIN_LOAD_QUERY (a pre-GA binlog?)",
                    post_header(0)
                )))
            }
            et::INTVAR
            | et::RAND
            | et::USER_VAR
            | et::BEGIN_LOAD_QUERY
            | et::APPEND_BLOCK
            | et::DELETE_FILE
            | et::MARIA_ANNOTATE_ROWS
            | et::MARIA_BINLOG_CHECKPOINT
            | et::ROWS_QUERY
            | et::STOP
            | et::TRANSACTION_CONTEXT
            | et::VIEW_CHANGE
            | et::IGNORABLE => Event::Skipped(t),
            et::GTID_TAGGED => {
                return Err(DecodeError::Invalid(
                    "MySQL tagged GTID event (8.3+, gtid_next='AUTOMATIC:<tag>'): not supported yet"
                        .into(),
                ))
            }
            t if header.flags & LOG_EVENT_IGNORABLE_F != 0 => Event::Skipped(t),
            t => {
                return Err(DecodeError::Invalid(format!(
                    "unknown event type {t} that the server did not mark ignorable"
                )))
            }
        })
    }
}

fn verify_fde_checksum(header: &EventHeader, body: &[u8]) -> Result<(), DecodeError> {
    let split = body
        .len()
        .checked_sub(CHECKSUM_LEN)
        .ok_or(DecodeError::Truncated {
            needed: CHECKSUM_LEN,
            available: body.len(),
        })?;
    let mut stored = [0u8; CHECKSUM_LEN];
    stored.copy_from_slice(&body[split..]);
    RawEvent {
        header: *header,
        body: &body[..split],
        checksum: Some(u32::from_le_bytes(stored)),
    }
    .verify_checksum()
}

/// Iterates over the events of a binlog file's bytes (magic header, then events), yielding
/// each event's start offset and bytes. Stops with an error at a truncated event.
pub fn file_events(file: &[u8]) -> impl Iterator<Item = Result<(usize, &[u8]), DecodeError>> {
    let magic_ok = file.get(..4) == Some(&[0xfe, b'b', b'i', b'n'][..]);
    let bad_magic =
        (!magic_ok).then(|| Err(DecodeError::Invalid("not a binlog file (bad magic)".into())));
    bad_magic
        .into_iter()
        .chain(magic_ok.then(|| events_from(file, 4)).into_iter().flatten())
}

/// Iterates over the events inside a decompressed TRANSACTION_PAYLOAD.
pub fn payload_events(payload: &[u8]) -> impl Iterator<Item = Result<&[u8], DecodeError>> {
    events_from(payload, 0).map(|item| item.map(|(_, bytes)| bytes))
}

/// Consecutive events from `offset` on, each as its offset and bytes; ends at the end of
/// `buf` or after the first event that does not fit.
fn events_from(
    buf: &[u8],
    mut offset: usize,
) -> impl Iterator<Item = Result<(usize, &[u8]), DecodeError>> {
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || offset >= buf.len() {
            return None;
        }
        let result = EventHeader::parse(&buf[offset..]).and_then(|h| {
            let size = h.event_size as usize;
            if size < HEADER_LEN || offset + size > buf.len() {
                Err(DecodeError::Truncated {
                    needed: size,
                    available: buf.len() - offset,
                })
            } else {
                Ok((offset, &buf[offset..offset + size]))
            }
        });
        match &result {
            Ok((_, bytes)) => offset += bytes.len(),
            Err(_) => failed = true,
        }
        Some(result)
    })
}
