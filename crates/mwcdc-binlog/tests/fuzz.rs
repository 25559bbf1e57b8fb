//! Fuzzing of the event and row decoders with proptest: whatever the bytes, decoding gives
//! `Ok` or `Err`, never a panic, an endless loop or an allocation out of proportion to its
//! input.
//!
//! Properties:
//! - `arbitrary_bytes_as_events`: arbitrary bytes fed to the decoder as they are, and framed
//!   as an event of any type (event size and CRC32 made right, so the body parser is reached),
//!   after the FORMAT_DESCRIPTION of each recorded binlog (MySQL 5.0 to 9.0, MariaDB 10.5)
//!   and before any; also as a file and as the contents of a TRANSACTION_PAYLOAD;
//! - `mutated_real_events`: each event of the recorded binlogs (TRANSACTION_PAYLOAD contents
//!   included) with random byte flips, overwrites with boundary values (packed-integer
//!   prefixes, 0, the maximum of a 1-, 2-, 4- or 8-byte field), insertions, deletions,
//!   truncations and another type code, the event size and CRC32 made right afterwards;
//!   rows events decoded against their real table map and every recorded one of their
//!   width, mutated TABLE_MAPs decoding the recorded rows events of their width;
//! - `mutated_files`: whole recorded files with some events mutated, decoded in order as the
//!   source does (a mutated FORMAT_DESCRIPTION changes how the events after it are read);
//! - `damage_without_fixing_the_crc_is_an_error`: a flipped byte or a truncation of a
//!   checksummed event, its CRC32 and size left as they were, is an error;
//! - `arbitrary_table_maps`: arbitrary TABLE_MAP bodies, and generated ones with every column
//!   type (known and unknown), plausible and random metadata and optional metadata fields
//!   (signedness, charsets, names, ENUM/SET members, primary keys, unknown fields);
//! - `rows_against_generated_table_maps`: rows of plausible values for each column kind
//!   (integers, FLOAT/DOUBLE, DECIMAL, every temporal type and fsp, CHAR/VARCHAR/BLOB, JSON,
//!   ENUM/SET, BIT), then mutated, as v1, v2 and MariaDB-compressed rows events of every
//!   kind, decoded against generated table maps;
//! - `binary_json`: generated binary JSON documents (small and large storage, nested
//!   containers, deep nesting, strings, doubles, opaque DECIMAL, DATE, TIME, DATETIME and
//!   other opaque values), mutated, in a JSON column;
//! - `binary_json_agrees_with_mysql_common`: well-formed documents decode to the same JSON
//!   value as `mysql_common` gives (the oracle, which panics on corrupt ones);
//! - `compressed_events`: MariaDB QUERY_COMPRESSED and compressed rows events, and MySQL
//!   TRANSACTION_PAYLOADs (zstd and uncompressed, with their inner events mutated), with
//!   wrong header bytes, wrong sizes and corrupt streams.
//!
//! Each property runs `PROPTEST_CASES` cases (a CI-friendly default otherwise); `make fuzz`
//! runs them for longer in a release build.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use mwcdc_binlog::header::event_type as et;
use mwcdc_binlog::table_map::{Column, ColumnKind};
use mwcdc_binlog::{
    file_events, payload_events, Collations, DecodeError, Event, EventDecoder, EventHeader,
    RawEvent, RowsEvent, TableMap, TextEncoding, Value,
};
use mwcdc_test_support::binlog::events::{query, transaction_payload, PAYLOAD_NONE, PAYLOAD_ZSTD};
use mwcdc_test_support::binlog::frame::{packed, packed_bytes};
use mwcdc_test_support::binlog::values::{self, jsonb, Jsonb};
use mwcdc_test_support::binlog::{self, table_map as opt, Checksum, Header, Present, Rows};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::FileFailurePersistence;

/// Cases per property when `PROPTEST_CASES` is not set: the whole file takes well under a
/// minute in a debug build.
const DEFAULT_CASES: u32 = 2048;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    ProptestConfig {
        cases,
        max_shrink_iters: 4096,
        // tests/fuzz.proptest-regressions, beside this file.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// The corpus: every event of the recorded binlogs, with the decoder state it is read in.

/// One recorded binlog file, split into events.
struct File {
    /// The file's FORMAT_DESCRIPTION event, if it has one.
    fde: Option<Vec<u8>>,
    /// Whether its events end in a CRC32.
    checksummed: bool,
    /// The events in file order (the FORMAT_DESCRIPTION included).
    events: Vec<Vec<u8>>,
    /// The events of its TRANSACTION_PAYLOADs, without checksums.
    payload_events: Vec<Vec<u8>>,
    /// The table maps in force before each event of `events`.
    maps_before: Vec<Arc<HashMap<u64, TableMap>>>,
}

/// A recorded rows event, ready to parse.
struct RowsSample {
    type_code: u8,
    body: Vec<u8>,
    post_header_len: usize,
}

struct Corpus {
    files: Vec<File>,
    table_maps: Vec<TableMap>,
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(load_corpus)
}

fn load_corpus() -> Corpus {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/binlogs");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("fixture directory")
        .map(|e| e.expect("fixture entry").path())
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    paths.sort();
    let mut corpus = Corpus {
        files: Vec::new(),
        table_maps: Vec::new(),
    };
    for path in paths {
        let data = std::fs::read(&path).expect("fixture");
        let mut dec = EventDecoder::new(Collations::default());
        let mut maps = Arc::new(HashMap::new());
        let mut file = File {
            fde: None,
            checksummed: false,
            events: Vec::new(),
            payload_events: Vec::new(),
            maps_before: Vec::new(),
        };
        for (_, bytes) in file_events(&data).map_while(Result::ok) {
            file.events.push(bytes.to_vec());
            file.maps_before.push(Arc::clone(&maps));
            let Ok((header, event)) = dec.decode(bytes) else {
                continue;
            };
            let mut inner = Vec::new();
            if let Event::TransactionPayload(payload) = &event {
                inner.extend(
                    payload_events(payload)
                        .map_while(Result::ok)
                        .map(<[u8]>::to_vec),
                );
            }
            collect(&mut corpus, &mut maps, event);
            for bytes in inner {
                if let Ok((_, event)) = dec.decode_unchecked(&bytes) {
                    collect(&mut corpus, &mut maps, event);
                }
                file.payload_events.push(bytes);
            }
            if header.type_code == et::FORMAT_DESCRIPTION {
                file.fde = Some(bytes.to_vec());
                file.checksummed = dec.format_description().is_some_and(|f| f.checksummed());
            }
        }
        if !file.events.is_empty() {
            corpus.files.push(file);
        }
    }
    assert!(corpus.files.len() > 20, "too few fixtures");
    assert!(corpus.table_maps.len() > 20, "too few table maps");
    corpus
}

/// Keeps a decoded TABLE_MAP in the corpus and in the maps in force.
fn collect(corpus: &mut Corpus, maps: &mut Arc<HashMap<u64, TableMap>>, event: Event<'_>) {
    if let Event::TableMap(map) = event {
        corpus.table_maps.push(map.clone());
        Arc::make_mut(maps).insert(map.table_id, map);
    }
}

/// The recorded rows events, collected in a second pass (their bodies are borrowed while
/// decoding the first).
fn rows_samples() -> &'static [RowsSample] {
    static ROWS: OnceLock<Vec<RowsSample>> = OnceLock::new();
    ROWS.get_or_init(|| {
        let mut out = Vec::new();
        for file in &corpus().files {
            let mut dec = EventDecoder::new(Collations::default());
            let mut push = |dec: &mut EventDecoder, bytes: &[u8], checked: bool| {
                let raw = if checked {
                    dec.split(bytes)
                } else {
                    RawEvent::split(bytes, false)
                };
                let Ok(raw) = raw else { return };
                let t = raw.header.type_code;
                if let Ok(Event::Rows(_)) = dec.decode_raw(raw.header, raw.body) {
                    out.push(RowsSample {
                        type_code: t,
                        body: raw.body.to_vec(),
                        post_header_len: dec.post_header_len(t).unwrap_or(8),
                    });
                }
            };
            for bytes in &file.events {
                push(&mut dec, bytes, true);
            }
            for bytes in &file.payload_events {
                push(&mut dec, bytes, false);
            }
        }
        assert!(out.len() > 20, "too few rows events");
        out
    })
}

// ---------------------------------------------------------------------------------------
// Decoding everything an event leads to, ignoring errors: only panics fail a property.

/// Decodes one event and whatever it carries: the rows against the table maps in force and
/// against every recorded table map of their width, the events of a TRANSACTION_PAYLOAD.
fn exercise(
    dec: &mut EventDecoder,
    maps: &mut HashMap<u64, TableMap>,
    bytes: &[u8],
    checked: bool,
) -> bool {
    let result = if checked {
        dec.decode(bytes)
    } else {
        dec.decode_unchecked(bytes)
    };
    let Ok((_, event)) = result else {
        return false;
    };
    follow(dec, maps, event);
    true
}

fn follow(dec: &mut EventDecoder, maps: &mut HashMap<u64, TableMap>, event: Event<'_>) {
    match event {
        Event::TableMap(map) => {
            for sample in rows_samples() {
                if let Ok(rows) =
                    RowsEvent::parse(sample.type_code, &sample.body, sample.post_header_len)
                {
                    if rows.width == map.columns.len() {
                        let _ = rows.decode(&map);
                    }
                }
            }
            maps.insert(map.table_id, map);
        }
        Event::Rows(rows) => {
            let _ = rows.is_full_image();
            if let Some(map) = maps.get(&rows.table_id) {
                let _ = rows.decode(map);
            }
            for map in &corpus().table_maps {
                if map.columns.len() == rows.width {
                    let _ = rows.decode(map);
                }
            }
        }
        Event::TransactionPayload(payload) => {
            for inner in payload_events(&payload) {
                let Ok(inner) = inner else { break };
                if let Ok((_, event)) = dec.decode_unchecked(inner) {
                    if !matches!(event, Event::TransactionPayload(_)) {
                        follow(dec, maps, event);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The events of checksummed files that carry a CRC32 of their own (all but the
/// FORMAT_DESCRIPTION), with their file.
fn checksummed_events() -> &'static [(&'static File, &'static [u8])] {
    static EVENTS: OnceLock<Vec<(&'static File, &'static [u8])>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        let mut out = Vec::new();
        for file in corpus().files.iter().filter(|f| f.checksummed) {
            let dec = decoder_for(file);
            for bytes in &file.events {
                if bytes[4] != et::FORMAT_DESCRIPTION && dec.split(bytes).is_ok() {
                    out.push((file, bytes.as_slice()));
                }
            }
        }
        assert!(out.len() > 100, "too few checksummed events");
        out
    })
}

/// A decoder that has read `file`'s FORMAT_DESCRIPTION.
fn decoder_for(file: &File) -> EventDecoder {
    let mut dec = EventDecoder::new(Collations::default());
    if let Some(fde) = &file.fde {
        dec.decode(fde)
            .expect("the recorded FORMAT_DESCRIPTION decodes");
    }
    dec
}

// ---------------------------------------------------------------------------------------
// Building and mutating events.

/// A complete event of `header`'s type around `body`: the size made right, and a CRC32
/// appended (or, for a FORMAT_DESCRIPTION, its last four bytes made the CRC32) when
/// `checksummed`.
fn frame(header: Header, body: &[u8], checksummed: bool) -> Vec<u8> {
    let checksum = match (checksummed, header.type_code == et::FORMAT_DESCRIPTION) {
        (false, _) => Checksum::None,
        (true, true) => Checksum::InBody,
        (true, false) => Checksum::Crc32,
    };
    binlog::event(&header, body, checksum)
}

/// The header of a recorded event, to frame it again.
fn recorded(header: &EventHeader) -> Header {
    Header {
        timestamp: header.timestamp,
        type_code: header.type_code,
        server_id: header.server_id,
        log_pos: header.log_pos,
        flags: header.flags,
    }
}

/// Type codes worth aiming at: every one the decoder interprets, and a few it does not.
const TYPE_CODES: &[u8] = &[
    et::QUERY,
    et::STOP,
    et::ROTATE,
    et::INTVAR,
    et::FORMAT_DESCRIPTION,
    et::XID,
    et::BEGIN_LOAD_QUERY,
    et::EXECUTE_LOAD_QUERY,
    et::TABLE_MAP,
    et::WRITE_ROWS_V1,
    et::UPDATE_ROWS_V1,
    et::DELETE_ROWS_V1,
    et::INCIDENT,
    et::HEARTBEAT,
    et::ROWS_QUERY,
    et::WRITE_ROWS,
    et::UPDATE_ROWS,
    et::DELETE_ROWS,
    et::GTID,
    et::ANONYMOUS_GTID,
    et::PREVIOUS_GTIDS,
    et::XA_PREPARE,
    et::PARTIAL_UPDATE_ROWS,
    et::TRANSACTION_PAYLOAD,
    et::GTID_TAGGED,
    et::MARIA_ANNOTATE_ROWS,
    et::MARIA_GTID,
    et::MARIA_GTID_LIST,
    et::MARIA_QUERY_COMPRESSED,
    et::MARIA_WRITE_ROWS_COMPRESSED_V1,
    et::MARIA_UPDATE_ROWS_COMPRESSED_V1,
    et::MARIA_DELETE_ROWS_COMPRESSED_V1,
    et::MARIA_WRITE_ROWS_COMPRESSED,
    et::MARIA_UPDATE_ROWS_COMPRESSED,
    et::MARIA_DELETE_ROWS_COMPRESSED,
    0,
    100,
    200,
    255,
];

fn type_code() -> impl Strategy<Value = u8> {
    prop_oneof![4 => prop::sample::select(TYPE_CODES), 1 => any::<u8>()]
}

/// One change to a byte string.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR a byte.
    Flip(Index, u8),
    /// Overwrite a 1-, 2-, 4- or 8-byte little-endian field with a boundary value.
    Boundary(Index, u8, u8),
    /// Overwrite a byte with a packed-integer prefix or another special byte.
    Special(Index, u8),
    /// Insert bytes.
    Insert(Index, Vec<u8>),
    /// Remove up to this many bytes.
    Delete(Index, u8),
    /// Cut the bytes here.
    Truncate(Index),
    /// Repeat a run of bytes.
    Duplicate(Index, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 1..=255u8).prop_map(|(i, m)| Mutation::Flip(i, m)),
        3 => (any::<Index>(), 0..4u8, any::<u8>()).prop_map(|(i, w, v)| Mutation::Boundary(i, w, v)),
        3 => (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Mutation::Special(i, v)),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => (any::<Index>(), 1..32u8).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), 1..32u8).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..5)
}

const SPECIAL_BYTES: [u8; 10] = [0, 1, 2, 0x7f, 0x80, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe];

fn boundary(width: usize, which: u8) -> u64 {
    let max = if width == 8 {
        u64::MAX
    } else {
        (1u64 << (8 * width)) - 1
    };
    match which % 8 {
        0 => 0,
        1 => 1,
        2 => max,
        3 => max - 1,
        4 => max / 2,
        5 => max / 2 + 1,
        6 => u64::from(which),
        _ => u64::from(which) << 8,
    }
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len) };
    match mutation {
        Mutation::Flip(i, m) => {
            if !bytes.is_empty() {
                let i = at(i, bytes.len());
                bytes[i] ^= m;
            }
        }
        Mutation::Boundary(i, w, v) => {
            let width = 1usize << (w % 4);
            if bytes.len() >= width {
                let i = at(i, bytes.len() - width + 1);
                let value = boundary(width, *v).to_le_bytes();
                bytes[i..i + width].copy_from_slice(&value[..width]);
            }
        }
        Mutation::Special(i, v) => {
            if !bytes.is_empty() {
                let i = at(i, bytes.len());
                bytes[i] = SPECIAL_BYTES[usize::from(*v) % SPECIAL_BYTES.len()];
            }
        }
        Mutation::Insert(i, new) => {
            let i = at(i, bytes.len() + 1);
            bytes.splice(i..i, new.iter().copied());
        }
        Mutation::Delete(i, n) => {
            if !bytes.is_empty() {
                let i = at(i, bytes.len());
                let end = (i + usize::from(*n)).min(bytes.len());
                bytes.drain(i..end);
            }
        }
        Mutation::Truncate(i) => {
            let i = at(i, bytes.len() + 1);
            bytes.truncate(i);
        }
        Mutation::Duplicate(i, n) => {
            if !bytes.is_empty() {
                let i = at(i, bytes.len());
                let end = (i + usize::from(*n)).min(bytes.len());
                let run = bytes[i..end].to_vec();
                bytes.splice(end..end, run);
            }
        }
    }
}

/// An event of the corpus with `mutations` applied to its body and maybe another type code,
/// framed again so that its size and CRC32 are right.
fn mutate_event(
    bytes: &[u8],
    checksummed: bool,
    mutations: &[Mutation],
    retype: Option<u8>,
) -> Vec<u8> {
    let Ok(raw) = RawEvent::split(bytes, checksummed) else {
        let mut out = bytes.to_vec();
        mutations.iter().for_each(|m| apply(&mut out, m));
        return out;
    };
    // A FORMAT_DESCRIPTION's CRC32 is part of its body: `frame` makes it right again.
    let mut header = recorded(&raw.header);
    let mut body = raw.body.to_vec();
    mutations.iter().for_each(|m| apply(&mut body, m));
    if let Some(t) = retype {
        header.type_code = t;
    }
    frame(header, &body, checksummed)
}

// ---------------------------------------------------------------------------------------
// Generated TABLE_MAPs.

/// One column of a generated TABLE_MAP: type code, metadata bytes, nullable.
type ColSpec = (u8, Vec<u8>, bool);

fn col_spec() -> impl Strategy<Value = ColSpec> {
    use mwcdc_binlog::table_map::column_type as ct;
    let no_meta = prop::sample::select(vec![
        ct::TINY,
        ct::SHORT,
        ct::INT24,
        ct::LONG,
        ct::LONGLONG,
        ct::YEAR,
        ct::DATE,
        ct::NEWDATE,
        ct::TIME,
        ct::DATETIME,
        ct::TIMESTAMP,
        ct::NULL,
    ])
    .prop_map(|t| (t, Vec::new()));
    let meta = prop_oneof![
        no_meta,
        (
            prop::sample::select(vec![ct::FLOAT, ct::DOUBLE]),
            any::<u8>()
        )
            .prop_map(|(t, m)| (t, vec![m])),
        (0..=70u8, 0..=40u8).prop_map(|(p, s)| (ct::NEWDECIMAL, vec![p, s.min(p)])),
        (0..=70u8, 0..=70u8).prop_map(|(p, s)| (ct::NEWDECIMAL, vec![p, s])),
        (
            prop::sample::select(vec![ct::TIME2, ct::DATETIME2, ct::TIMESTAMP2]),
            0..=7u8
        )
            .prop_map(|(t, fsp)| (t, vec![fsp])),
        (
            prop::sample::select(vec![ct::VARCHAR, ct::VAR_STRING]),
            any::<u16>()
        )
            .prop_map(|(t, max)| (t, max.to_le_bytes().to_vec())),
        (
            prop::sample::select(vec![ct::BLOB, ct::GEOMETRY, ct::VECTOR, ct::JSON]),
            0..=5u8
        )
            .prop_map(|(t, n)| (t, vec![n])),
        (0..=8u8, 0..=9u8).prop_map(|(bits, bytes)| (ct::BIT, vec![bits, bytes])),
        (
            prop::sample::select(vec![
                ct::STRING,
                ct::ENUM,
                ct::SET,
                ct::VAR_STRING,
                0xee,
                0xfa
            ]),
            any::<u8>()
        )
            .prop_map(|(real, len)| (ct::STRING, vec![real, len])),
        (prop::sample::select(vec![ct::ENUM, ct::SET]), any::<u16>())
            .prop_map(|(t, m)| (t, m.to_le_bytes().to_vec())),
        (any::<u8>(), prop::collection::vec(any::<u8>(), 0..4)),
    ];
    (meta, any::<bool>()).prop_map(|((t, m), nullable)| (t, m, nullable))
}

/// An optional metadata field: its type and value.
fn optional_field() -> impl Strategy<Value = (u8, Vec<u8>)> {
    let small = || prop::sample::select(vec![0u64, 1, 2, 3, 8, 33, 45, 54, 60, 63, 255, 70_000]);
    let name = || prop::collection::vec(any::<u8>(), 0..6);
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..4).prop_map(|b| (opt::SIGNEDNESS, b)),
        (
            prop::sample::select(vec![
                opt::DEFAULT_CHARSET,
                opt::ENUM_AND_SET_DEFAULT_CHARSET
            ]),
            small(),
            prop::collection::vec((small(), small()), 0..4)
        )
            .prop_map(|(f, default, pairs)| {
                let mut v = packed(default);
                for (i, c) in pairs {
                    v.extend(packed(i));
                    v.extend(packed(c));
                }
                (f, v)
            }),
        (
            prop::sample::select(vec![opt::COLUMN_CHARSET, opt::ENUM_AND_SET_COLUMN_CHARSET]),
            prop::collection::vec(small(), 0..8)
        )
            .prop_map(|(f, ids)| (f, ids.into_iter().flat_map(packed).collect())),
        prop::collection::vec(name(), 0..8).prop_map(|names| (
            opt::COLUMN_NAME,
            names.iter().flat_map(|n| packed_bytes(n)).collect()
        )),
        (
            prop::sample::select(vec![opt::SET_STR_VALUE, opt::ENUM_STR_VALUE]),
            prop::collection::vec(prop::collection::vec(name(), 0..4), 0..4)
        )
            .prop_map(|(f, cols)| {
                let mut v = Vec::new();
                for members in cols {
                    v.extend(packed(members.len() as u64));
                    for m in members {
                        v.extend(packed_bytes(&m));
                    }
                }
                (f, v)
            }),
        prop::collection::vec(0..10u64, 0..4).prop_map(|pk| (
            opt::SIMPLE_PRIMARY_KEY,
            pk.into_iter().flat_map(packed).collect()
        )),
        prop::collection::vec((0..10u64, 0..300u64), 0..4).prop_map(|pk| (
            opt::PRIMARY_KEY_WITH_PREFIX,
            pk.into_iter()
                .flat_map(|(c, p)| [packed(c), packed(p)].concat())
                .collect()
        )),
        (any::<u8>(), prop::collection::vec(any::<u8>(), 0..8)),
    ]
}

/// The body of a generated TABLE_MAP of `wiki.page`.
fn table_map_body(table_id: u64, cols: &[ColSpec], optional: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let cols: Vec<(u8, &[u8], bool)> = cols.iter().map(|(t, m, n)| (*t, &m[..], *n)).collect();
    binlog::table_map(table_id, "wiki", "page", &cols, optional)
}

// ---------------------------------------------------------------------------------------
// Generated binary JSON.

fn jv() -> impl Strategy<Value = Jsonb> {
    let opaque = prop_oneof![
        (
            0..=70u8,
            0..=70u8,
            prop::collection::vec(any::<u8>(), 0..36)
        )
            .prop_map(|(p, s, b)| {
                let mut v = vec![p, s];
                v.extend(b);
                Jsonb::Opaque(246, v)
            }),
        (
            prop::sample::select(vec![7u8, 10, 11, 12]),
            prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(-1i64), any::<i64>()],
            0..10usize
        )
            .prop_map(|(t, v, len)| {
                let bytes = v.to_le_bytes();
                Jsonb::Opaque(t, bytes[..len.min(8)].to_vec())
            }),
        (any::<u8>(), prop::collection::vec(any::<u8>(), 0..12))
            .prop_map(|(t, b)| Jsonb::Opaque(t, b)),
    ];
    let leaf = prop_oneof![
        (0..4u8).prop_map(Jsonb::Literal),
        any::<i16>().prop_map(Jsonb::I16),
        any::<u16>().prop_map(Jsonb::U16),
        any::<i32>().prop_map(Jsonb::I32),
        any::<u32>().prop_map(Jsonb::U32),
        any::<i64>().prop_map(Jsonb::I64),
        any::<u64>().prop_map(Jsonb::U64),
        any::<f64>().prop_map(Jsonb::Double),
        prop_oneof![
            "[a-z]{0,8}".prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..8)
        ]
        .prop_map(Jsonb::Str),
        opaque,
    ];
    let tree = leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            (any::<bool>(), prop::collection::vec(inner.clone(), 0..6))
                .prop_map(|(large, v)| Jsonb::Array(large, v)),
            (
                any::<bool>(),
                prop::collection::vec(("[a-z]{0,4}".prop_map(String::into_bytes), inner), 0..6)
            )
                .prop_map(|(large, v)| Jsonb::Object(large, v)),
        ]
    });
    prop_oneof![
        6 => tree.clone(),
        1 => (0..3000u16, tree).prop_map(|(depth, v)| Jsonb::Deep(depth, Box::new(v))),
    ]
}

/// Well-formed documents as a server writes them (valid UTF-8, finite numbers, in-range
/// DECIMAL digits and temporal fields, known opaque types), on which `mysql_common` is an
/// oracle.
fn jv_well_formed() -> impl Strategy<Value = Jsonb> {
    let decimal = (
        1..=65u8,
        0..=30u8,
        prop::collection::vec(any::<u32>(), 16),
        any::<bool>(),
    )
        .prop_map(|(p, s, seed, negative)| {
            Jsonb::Opaque(246, values::decimal(p, s.min(p), &seed, negative))
        });
    let datetime = (
        (0..=9999u64, 0..=12u64, 0..=31u64),
        (0..=23u64, 0..=59u64, 0..=59u64, 0..1_000_000u64),
        prop::sample::select(vec![7u8, 10, 12]),
    )
        .prop_map(|((y, mo, d), (h, mi, s, us), t)| {
            let ymd = ((y * 13 + mo) << 5) | d;
            let packed = (((ymd << 17) | (h << 12) | (mi << 6) | s) << 24) | us;
            Jsonb::Opaque(t, packed.to_le_bytes().to_vec())
        });
    let time = (
        any::<bool>(),
        0..=838i64,
        0..=59i64,
        0..=59i64,
        0..1_000_000i64,
    )
        .prop_map(|(neg, h, m, s, us)| {
            let packed = ((((h << 12) | (m << 6) | s) << 24) | us) * if neg { -1 } else { 1 };
            Jsonb::Opaque(11, packed.to_le_bytes().to_vec())
        });
    let other = (
        prop::sample::select(vec![15u8, 16, 252, 253, 254, 255]),
        prop::collection::vec(any::<u8>(), 0..10),
    )
        .prop_map(|(t, b)| Jsonb::Opaque(t, b));
    let leaf = prop_oneof![
        (0..3u8).prop_map(Jsonb::Literal),
        any::<i16>().prop_map(Jsonb::I16),
        any::<u16>().prop_map(Jsonb::U16),
        any::<i32>().prop_map(Jsonb::I32),
        any::<u32>().prop_map(Jsonb::U32),
        any::<i64>().prop_map(Jsonb::I64),
        any::<u64>().prop_map(Jsonb::U64),
        (prop::num::f64::NORMAL | prop::num::f64::ZERO | prop::num::f64::SUBNORMAL)
            .prop_map(Jsonb::Double),
        "[a-zA-Z0-9 \"\\\\é€😀]{0,12}".prop_map(|s| Jsonb::Str(s.into_bytes())),
        decimal,
        datetime,
        time,
        other,
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            (any::<bool>(), prop::collection::vec(inner.clone(), 0..6))
                .prop_map(|(large, v)| Jsonb::Array(large, v)),
            (
                any::<bool>(),
                prop::collection::vec(("[a-z_é]{0,6}".prop_map(String::into_bytes), inner), 0..6)
            )
                .prop_map(|(large, v)| Jsonb::Object(large, v)),
        ]
    })
}

// ---------------------------------------------------------------------------------------
// Generated rows.

/// Pulls bytes from a random pool; zeros once it is used up.
struct Entropy<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Entropy<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::from(u16::from_le_bytes([self.byte(), self.byte()])) % n
        }
    }

    fn fill(&mut self, n: usize, out: &mut Vec<u8>) {
        for _ in 0..n {
            let b = self.byte();
            out.push(b);
        }
    }
}

fn decimal_size(precision: u8, scale: u8) -> usize {
    const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
    let (p, s) = (usize::from(precision), usize::from(scale));
    if s > p || p > 65 {
        return usize::from(precision % 16);
    }
    let intg = p - s;
    intg / 9 * 4 + DIG2BYTES[intg % 9] + s / 9 * 4 + DIG2BYTES[s % 9]
}

/// Bytes of a plausible value of `column`, sometimes with a length that is off.
fn plausible_value(column: &Column, e: &mut Entropy<'_>, json: &[Vec<u8>], out: &mut Vec<u8>) {
    let frac = |fsp: u8| usize::from(fsp).div_ceil(2);
    let length = |e: &mut Entropy<'_>, max: usize| {
        if e.byte() == 0xff {
            usize::from(e.byte()) << 8 | usize::from(e.byte())
        } else {
            e.below(max.min(40) + 1)
        }
    };
    match column.kind {
        ColumnKind::Int { bytes } => e.fill(usize::from(bytes), out),
        ColumnKind::Float => e.fill(4, out),
        ColumnKind::Double => e.fill(8, out),
        ColumnKind::Decimal { precision, scale } => {
            if e.byte() < 200 && (1..=65).contains(&precision) && scale <= precision {
                let seed: Vec<u32> = (0..8)
                    .map(|_| u32::from_le_bytes([e.byte(), e.byte(), e.byte(), e.byte()]))
                    .collect();
                out.extend_from_slice(
                    &values::decimal(precision, scale, &seed, e.byte() & 1 == 1)[2..],
                );
            } else {
                e.fill(decimal_size(precision, scale), out);
            }
        }
        ColumnKind::Year => e.fill(1, out),
        ColumnKind::Date | ColumnKind::Time => e.fill(3, out),
        ColumnKind::DateTime => e.fill(8, out),
        ColumnKind::Timestamp => e.fill(4, out),
        ColumnKind::Time2 { fsp } => e.fill(3 + frac(fsp), out),
        ColumnKind::DateTime2 { fsp } => {
            out.push(0x80 | e.byte() >> 1);
            e.fill(4 + frac(fsp), out);
        }
        ColumnKind::Timestamp2 { fsp } => e.fill(4 + frac(fsp), out),
        ColumnKind::FixedString { max_len } => {
            let len = length(e, usize::from(max_len));
            let width = if max_len < 256 { 1 } else { 2 };
            out.extend_from_slice(&(len as u64).to_le_bytes()[..width]);
            e.fill(len, out);
        }
        ColumnKind::VarString { len_bytes } | ColumnKind::Blob { len_bytes } => {
            let len = length(e, 255);
            out.extend_from_slice(&(len as u64).to_le_bytes()[..usize::from(len_bytes)]);
            e.fill(len, out);
        }
        ColumnKind::Json { len_bytes } => {
            let doc = if json.is_empty() {
                Vec::new()
            } else {
                json[e.below(json.len())].clone()
            };
            out.extend_from_slice(&(doc.len() as u64).to_le_bytes()[..usize::from(len_bytes)]);
            out.extend(doc);
        }
        ColumnKind::Enum { bytes } | ColumnKind::Set { bytes } => {
            e.fill(usize::from(bytes), out);
        }
        ColumnKind::Bit { bits } => e.fill(usize::from(bits.div_ceil(8)), out),
        ColumnKind::Null => {}
    }
}

/// Rows of plausible values for `map`: a null bitmap and values for each image.
fn plausible_rows(map: &TableMap, images: usize, e: &mut Entropy<'_>, json: &[Vec<u8>]) -> Vec<u8> {
    let n = map.columns.len();
    let mut out = Vec::new();
    for _ in 0..images {
        let mut nulls = vec![0u8; n.div_ceil(8)];
        for (i, column) in map.columns.iter().enumerate() {
            if column.nullable && e.byte() < 40 {
                nulls[i / 8] |= 1 << (i % 8);
            }
        }
        out.extend_from_slice(&nulls);
        for (i, column) in map.columns.iter().enumerate() {
            if nulls[i / 8] & (1 << (i % 8)) == 0 {
                plausible_value(column, e, json, &mut out);
            }
        }
    }
    out
}

/// MariaDB's compressed form of `data`, `skew` added to the stored length.
fn maria_compress(data: &[u8], skew: i64) -> Vec<u8> {
    values::mariadb_compressed(data, (data.len() as i64 + skew).max(0) as u64)
}

fn rows_kind_type() -> impl Strategy<Value = u8> {
    prop::sample::select(vec![23u8, 24, 25, 30, 31, 32, 166, 167, 168, 169, 170, 171])
}

/// A table with one column of `kind`.
fn single_column(kind: ColumnKind, text: TextEncoding) -> TableMap {
    TableMap {
        table_id: 1,
        db: "d".into(),
        table: "t".into(),
        columns: vec![Column {
            name: None,
            type_code: 245,
            kind,
            unsigned: false,
            nullable: true,
            collation: None,
            text,
            members: None,
        }],
        primary_key: None,
        has_full_metadata: false,
    }
}

/// Decodes one JSON document as the only value of a one-column insert.
fn decode_json(doc: &[u8]) -> Result<serde_json::Value, DecodeError> {
    let map = single_column(ColumnKind::Json { len_bytes: 4 }, TextEncoding::Binary);
    let mut rows = vec![0u8];
    rows.extend_from_slice(&(doc.len() as u32).to_le_bytes());
    rows.extend_from_slice(doc);
    let body = Rows::new(et::WRITE_ROWS_V1, 1, 1, &rows).body();
    let images = RowsEvent::parse(et::WRITE_ROWS_V1, &body, 8)?.decode(&map)?;
    match images.into_iter().next().and_then(|i| i.after).as_deref() {
        Some([Value::Json(v)]) => Ok(v.clone()),
        other => panic!("one JSON value expected, got {other:?}"),
    }
}

/// `mysql_common`'s reading of a document.
fn their_json(doc: &[u8]) -> Option<serde_json::Value> {
    use mysql_common::binlog::jsonb;
    let value: jsonb::Value<'_> = mysql_common::io::ParseBuf(doc).parse(()).ok()?;
    Some(serde_json::Value::from(value.parse().ok()?))
}

// ---------------------------------------------------------------------------------------
// The properties.

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_as_events(
        file in any::<Index>(),
        t in type_code(),
        flags in prop::sample::select(vec![0u16, 0x80, 0xffff]),
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let corpus = corpus();
        let file = &corpus.files[file.index(corpus.files.len())];
        let mut maps = HashMap::new();
        // As they are, to a fresh decoder and to one that has read a FORMAT_DESCRIPTION.
        let _ = EventDecoder::new(Collations::default()).decode(&body);
        let mut dec = decoder_for(file);
        exercise(&mut dec, &mut maps, &body, true);
        exercise(&mut dec, &mut maps, &body, false);
        // Framed as an event of type `t`, reaching the body parser.
        let mut h = Header::new(t);
        h.flags = flags;
        let mut dec = decoder_for(file);
        exercise(&mut dec, &mut maps, &frame(h, &body, file.checksummed), true);
        exercise(&mut dec, &mut maps, &frame(h, &body, false), false);
        // As a file after the magic and FDE, and as a payload's contents.
        let mut data = b"\xfebin".to_vec();
        data.extend(file.fde.iter().flatten());
        data.extend_from_slice(&body);
        let mut dec = EventDecoder::new(Collations::default());
        for (_, bytes) in file_events(&data).map_while(Result::ok) {
            exercise(&mut dec, &mut maps, bytes, true);
        }
        for bytes in payload_events(&body).map_while(Result::ok) {
            exercise(&mut dec, &mut maps, bytes, false);
        }
    }

    #[test]
    fn mutated_real_events(
        file in any::<Index>(),
        event in any::<Index>(),
        payload in any::<bool>(),
        mutations in mutations(),
        retype in prop::option::weighted(0.15, type_code()),
    ) {
        let corpus = corpus();
        let file = &corpus.files[file.index(corpus.files.len())];
        let (bytes, checked, maps) = if payload && !file.payload_events.is_empty() {
            let i = event.index(file.payload_events.len());
            (&file.payload_events[i], false, file.maps_before.last().cloned().unwrap_or_default())
        } else {
            let i = event.index(file.events.len());
            (&file.events[i], true, Arc::clone(&file.maps_before[i]))
        };
        let mutated = mutate_event(bytes, checked && file.checksummed, &mutations, retype);
        let mut dec = decoder_for(file);
        let mut maps = (*maps).clone();
        exercise(&mut dec, &mut maps, &mutated, checked);
    }

    #[test]
    fn mutated_files(
        file in any::<Index>(),
        changes in prop::collection::vec((any::<Index>(), mutations(), prop::option::weighted(0.1, type_code())), 1..4),
    ) {
        let corpus = corpus();
        let file = &corpus.files[file.index(corpus.files.len())];
        let mut events = file.events.clone();
        for (i, mutations, retype) in &changes {
            let i = i.index(events.len());
            events[i] = mutate_event(&events[i], file.checksummed, mutations, *retype);
        }
        let mut dec = EventDecoder::new(Collations::default());
        let mut maps = HashMap::new();
        for bytes in &events {
            exercise(&mut dec, &mut maps, bytes, true);
        }
    }

    #[test]
    fn damage_without_fixing_the_crc_is_an_error(
        event in any::<Index>(),
        at in any::<Index>(),
        mask in 1..=255u8,
        cut in any::<Index>(),
    ) {
        let events = checksummed_events();
        let (file, bytes) = &events[event.index(events.len())];
        let dec = decoder_for(file);
        let mut flipped = bytes.to_vec();
        let at = at.index(flipped.len());
        flipped[at] ^= mask;
        // A type code turned into FORMAT_DESCRIPTION is read without the stream's CRC32.
        if flipped[4] != et::FORMAT_DESCRIPTION {
            let err = dec.clone().decode(&flipped).map(|_| ()).unwrap_err();
            prop_assert!(
                matches!(err, DecodeError::ChecksumMismatch { .. } | DecodeError::Invalid(_)),
                "{err:?}"
            );
        }
        let truncated = &bytes[..cut.index(bytes.len())];
        prop_assert!(dec.clone().decode(truncated).is_err());
    }

    #[test]
    fn arbitrary_table_maps(
        raw in prop::collection::vec(any::<u8>(), 0..200),
        cols in prop::collection::vec(col_spec(), 0..12),
        optional in prop::collection::vec(optional_field(), 0..5),
        mutations in prop::collection::vec(mutation(), 0..3),
        post_header_len in prop::sample::select(vec![6usize, 8, 0, 10]),
    ) {
        let collations = Collations::default();
        let _ = TableMap::parse(&raw, post_header_len, &collations);
        let _ = TableMap::peek_name(&raw, post_header_len);
        let mut body = table_map_body(7, &cols, &optional);
        mutations.iter().for_each(|m| apply(&mut body, m));
        if let Ok(map) = TableMap::parse(&body, post_header_len, &collations) {
            let _ = map.qualified_name();
            for sample in rows_samples() {
                if let Ok(rows) = RowsEvent::parse(sample.type_code, &sample.body, sample.post_header_len) {
                    if rows.width == map.columns.len() {
                        let _ = rows.decode(&map);
                    }
                }
            }
        }
    }

    #[test]
    fn rows_against_generated_table_maps(
        cols in prop::collection::vec(col_spec(), 0..10),
        optional in prop::collection::vec(optional_field(), 0..4),
        json in prop::collection::vec(jv().prop_map(|v| jsonb(&v)), 0..3),
        entropy in prop::collection::vec(any::<u8>(), 0..400),
        images in 0..4usize,
        t in rows_kind_type(),
        present in prop::option::weighted(0.1, any::<u8>()),
        v2_extra in prop::collection::vec(any::<u8>(), 0..3),
        mutations in prop::collection::vec(mutation(), 0..3),
        post_header_len in prop::sample::select(vec![8usize, 6]),
    ) {
        let body = table_map_body(7, &cols, &optional);
        let Ok(map) = TableMap::parse(&body, 8, &Collations::default()) else {
            return Ok(());
        };
        let mut e = Entropy { bytes: &entropy, pos: 0 };
        let per_row = if matches!(t, 24 | 31 | 167 | 170) { 2 } else { 1 };
        let mut rows = plausible_rows(&map, images * per_row, &mut e, &json);
        mutations.iter().for_each(|m| apply(&mut rows, m));
        let present = present.map_or(Present::All, Present::Each);
        let mut body = Rows::new(t, 7, map.columns.len(), &rows)
            .present(present)
            .extra(&v2_extra)
            .body();
        if post_header_len == 6 {
            body.drain(4..6);
        }
        if let Ok(event) = RowsEvent::parse(t, &body, post_header_len) {
            let _ = event.is_full_image();
            let _ = event.decode(&map);
        }
        // The same, framed, through the event decoder (MariaDB FDE: compressed types known).
        let maria = corpus().files.iter().find(|f| {
            f.fde.as_deref().is_some_and(|b| b.windows(7).any(|w| w == b"MariaDB"))
        }).expect("a MariaDB fixture");
        let mut dec = decoder_for(maria);
        let mut maps = HashMap::from([(map.table_id, map)]);
        exercise(&mut dec, &mut maps, &frame(Header::new(t), &body, maria.checksummed), true);
    }

    #[test]
    fn binary_json(
        value in jv(),
        mutations in prop::collection::vec(mutation(), 0..3),
    ) {
        let mut doc = jsonb(&value);
        let _ = decode_json(&doc);
        mutations.iter().for_each(|m| apply(&mut doc, m));
        let _ = decode_json(&doc);
    }

    #[test]
    fn binary_json_agrees_with_mysql_common(value in jv_well_formed()) {
        let doc = jsonb(&value);
        let ours = decode_json(&doc).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let theirs = their_json(&doc).expect("mysql_common reads a well-formed document");
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn compressed_events(
        sql in prop::collection::vec(any::<u8>(), 0..200),
        skew in prop::sample::select(vec![0i64, 0, 0, -1, 1, 1 << 20, (1 << 30) - 300, 1 << 31]),
        head in prop::option::weighted(0.2, any::<u8>()),
        mutations in prop::collection::vec(mutation(), 0..3),
        rows in any::<Index>(),
        inner in prop::collection::vec((any::<Index>(), any::<Index>(), prop::collection::vec(mutation(), 0..2)), 0..4),
        zstd_level in prop::option::of(1..4i32),
        fields in prop::collection::vec((0..5u64, prop::collection::vec(any::<u8>(), 0..10)), 0..3),
    ) {
        let corpus = corpus();
        let maria = corpus.files.iter().find(|f| {
            f.fde.as_deref().is_some_and(|b| b.windows(7).any(|w| w == b"MariaDB"))
        }).expect("a MariaDB fixture");
        let mut maps = HashMap::new();
        // QUERY_COMPRESSED.
        let mut compressed = maria_compress(&sql, skew);
        if let Some(h) = head {
            compressed[0] = h;
        }
        mutations.iter().for_each(|m| apply(&mut compressed, m));
        let body = query(1, "wiki", &[], &compressed);
        let mut dec = decoder_for(maria);
        exercise(&mut dec, &mut maps, &frame(Header::new(et::MARIA_QUERY_COMPRESSED), &body, true), true);
        // A recorded rows event, compressed as MariaDB does it.
        let samples = rows_samples();
        let sample = &samples[rows.index(samples.len())];
        if let Some(start) = rows_data_start(sample) {
            let compressed_type = match sample.type_code {
                t @ 23..=25 => t - 23 + et::MARIA_WRITE_ROWS_COMPRESSED_V1,
                t @ 30..=32 => t - 30 + et::MARIA_WRITE_ROWS_COMPRESSED,
                t => t,
            };
            let mut body = sample.body[..start].to_vec();
            let mut data = maria_compress(&sample.body[start..], skew);
            mutations.iter().for_each(|m| apply(&mut data, m));
            body.extend(data);
            if let Ok(event) = RowsEvent::parse(compressed_type, &body, sample.post_header_len) {
                for map in &corpus.table_maps {
                    if map.columns.len() == event.width {
                        let _ = event.decode(map);
                    }
                }
            }
        }
        // A TRANSACTION_PAYLOAD of mutated recorded events.
        let mut events = Vec::new();
        for (file, event, mutations) in &inner {
            let file = &corpus.files[file.index(corpus.files.len())];
            let bytes = &file.events[event.index(file.events.len())];
            let Ok(raw) = RawEvent::split(bytes, file.checksummed) else { continue };
            let mut body = raw.body.to_vec();
            mutations.iter().for_each(|m| apply(&mut body, m));
            events.extend(frame(recorded(&raw.header), &body, false));
        }
        let (compression, payload) = match zstd_level {
            Some(level) => (PAYLOAD_ZSTD, zstd::encode_all(&events[..], level).expect("zstd")),
            None => (PAYLOAD_NONE, events.clone()),
        };
        let size = (events.len() as i64 + skew).max(0) as u64;
        let fields: Vec<_> = fields.iter().map(|(f, v)| (f + 1, v.clone())).collect();
        let mut body = transaction_payload(compression, size, &fields, &payload);
        mutations.iter().for_each(|m| apply(&mut body, m));
        let mysql = corpus.files.iter().find(|f| {
            f.payload_events.len() > 1
        }).expect("a fixture with a TRANSACTION_PAYLOAD");
        let mut dec = decoder_for(mysql);
        exercise(&mut dec, &mut maps, &frame(Header::new(et::TRANSACTION_PAYLOAD), &body, mysql.checksummed), true);
    }
}

/// Where the row images start in a recorded rows event body.
fn rows_data_start(sample: &RowsSample) -> Option<usize> {
    let body = &sample.body;
    let mut p = if sample.post_header_len == 6 { 4 } else { 6 } + 2;
    if matches!(sample.type_code, 30..=32) {
        let extra = u16::from_le_bytes([*body.get(p)?, *body.get(p + 1)?]);
        p += usize::from(extra);
    }
    let (width, len) = match *body.get(p)? {
        b @ 0..=250 => (usize::from(b), 1),
        0xfc => (
            usize::from(u16::from_le_bytes([*body.get(p + 1)?, *body.get(p + 2)?])),
            3,
        ),
        _ => return None,
    };
    p += len;
    let images = if matches!(sample.type_code, 24 | 31) {
        2
    } else {
        1
    };
    p += images * width.div_ceil(8);
    (p <= body.len()).then_some(p)
}

/// The recorded corpus covers what the properties claim to reach.
#[test]
fn corpus_reaches_every_kind_of_event() {
    let corpus = corpus();
    let types: std::collections::HashSet<u8> = corpus
        .files
        .iter()
        .flat_map(|f| f.events.iter().chain(&f.payload_events))
        .filter_map(|b| b.get(4).copied())
        .collect();
    for t in [
        et::FORMAT_DESCRIPTION,
        et::QUERY,
        et::TABLE_MAP,
        et::WRITE_ROWS_V1,
        et::WRITE_ROWS,
        et::UPDATE_ROWS,
        et::DELETE_ROWS,
        et::PARTIAL_UPDATE_ROWS,
        et::TRANSACTION_PAYLOAD,
        et::GTID,
        et::PREVIOUS_GTIDS,
        et::MARIA_GTID,
        et::MARIA_GTID_LIST,
        et::XID,
        et::ROTATE,
    ] {
        assert!(types.contains(&t), "no event of type {t} in the corpus");
    }
    let kinds: Vec<_> = corpus
        .table_maps
        .iter()
        .flat_map(|m| m.columns.iter().map(|c| std::mem::discriminant(&c.kind)))
        .collect();
    for kind in [
        ColumnKind::Json { len_bytes: 4 },
        ColumnKind::Decimal {
            precision: 10,
            scale: 2,
        },
        ColumnKind::Time2 { fsp: 0 },
        ColumnKind::Enum { bytes: 1 },
        ColumnKind::Bit { bits: 1 },
    ] {
        assert!(
            kinds.contains(&std::mem::discriminant(&kind)),
            "no {kind:?} column in the corpus"
        );
    }
    // The generated JSON encoder writes what the decoder reads.
    let doc = jsonb(&Jsonb::Object(
        false,
        vec![(
            b"a".to_vec(),
            Jsonb::Array(true, vec![Jsonb::I32(7), Jsonb::Str(b"x".to_vec())]),
        )],
    ));
    decode_json(&doc).expect("generated JSON decodes");
}
