//! Validates records against the JSON Schemas in `docs/schemas`.
//!
//! The schema files are read once, checked against their meta-schema and compiled with one
//! another registered (their relative references resolve without fetching anything). Used by
//! the tests of mwcdc-record, mwcdc-mediawiki and the integration tests.

use std::sync::OnceLock;

use jsonschema::{Registry, Validator};
use serde_json::Value;

/// `docs/schemas`, the directory of the schema files.
pub const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schemas");

/// Every schema file in [`DIR`].
pub const FILES: [&str; 9] = [
    "entity.schema.json",
    "entity-common.schema.json",
    "entity-revision.schema.json",
    "entity-page.schema.json",
    "entity-log.schema.json",
    "entity-user_group.schema.json",
    "row-change.schema.json",
    "row-key.schema.json",
    "oversize-marker.schema.json",
];

/// Where the files are registered. They have no `$id`, so their relative references
/// (`entity-common.schema.json#/$defs/...`) resolve against the URI they are loaded from, as
/// they would against the directory they are read from; nothing is fetched.
const BASE: &str = "file:///mwcdc/docs/schemas/";

/// The compiled schemas of the four kinds of record part.
struct Validators {
    entity: Validator,
    row: Validator,
    key: Validator,
    oversize: Validator,
}

/// Reads and parses one schema file.
pub fn load(name: &str) -> Value {
    let path = format!("{DIR}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The validators, compiled on first use.
fn validators() -> &'static Validators {
    static VALIDATORS: OnceLock<Validators> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let schemas: Vec<(&str, Value)> = FILES.iter().map(|&f| (f, load(f))).collect();
        for (name, schema) in &schemas {
            if let Err(e) = jsonschema::meta::validate(schema) {
                panic!("{name} is not a valid JSON Schema: {e}");
            }
        }
        let registry = Registry::new()
            .extend(
                schemas
                    .iter()
                    .map(|(name, schema)| (format!("{BASE}{name}"), schema)),
            )
            .and_then(|r| r.prepare())
            .unwrap_or_else(|e| panic!("registering {DIR}: {e}"));
        let build = |name: &str| {
            let schema = &schemas.iter().find(|(n, _)| *n == name).unwrap().1;
            jsonschema::options()
                .offline()
                .with_base_uri(format!("{BASE}{name}"))
                .with_registry(&registry)
                .should_validate_formats(true)
                .build(schema)
                .unwrap_or_else(|e| panic!("compiling {name}: {e}"))
        };
        Validators {
            entity: build("entity.schema.json"),
            row: build("row-change.schema.json"),
            key: build("row-key.schema.json"),
            oversize: build("oversize-marker.schema.json"),
        }
    })
}

/// The validator's messages for `value`, each with its place in the value and the schema.
fn errors(validator: &Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| {
            // The keyword's file and location when it is behind a reference.
            let keyword = e.absolute_keyword_location().map_or_else(
                || format!("#{}", e.schema_path()),
                |uri| uri.as_str().trim_start_matches(BASE).to_string(),
            );
            format!("{e} (at \"{}\", schema {keyword})", e.instance_path())
        })
        .collect()
}

/// Panics with `errors`, naming `what` and showing `value`, unless there are none.
fn check(what: &str, errors: Vec<String>, value: &Value) {
    if !errors.is_empty() {
        panic!(
            "{what} does not match its schema in docs/schemas:\n  {}\n{}",
            errors.join("\n  "),
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    }
}

/// The schema errors of an entity record's value (entity.schema.json).
pub fn entity_errors(value: &Value) -> Vec<String> {
    errors(&validators().entity, value)
}

/// The schema errors of a row change record's value (row-change.schema.json).
pub fn row_errors(value: &Value) -> Vec<String> {
    errors(&validators().row, value)
}

/// The schema errors of a row change record's key (row-key.schema.json).
pub fn key_errors(key: &Value) -> Vec<String> {
    errors(&validators().key, key)
}

/// Panics with the validator's messages unless `value` is a valid oversize marker.
pub fn validate_oversize_marker(value: &Value) {
    check(
        "oversize marker",
        errors(&validators().oversize, value),
        value,
    );
}

/// Panics with the validator's messages unless `value` is a valid entity record.
pub fn validate_entity(value: &Value) {
    check("entity record", entity_errors(value), value);
}

/// Panics with the validator's messages unless `value` is a valid row change record value
/// and `key`, when there is one, a valid key.
pub fn validate_row(value: &Value, key: Option<&Value>) {
    check("row change record value", row_errors(value), value);
    if let Some(key) = key {
        check("row change record key", key_errors(key), key);
    }
}
