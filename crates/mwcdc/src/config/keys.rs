//! The configuration's keys, read from its types, and their values from `MWCDC_*`
//! environment variables. The key list is what serde's derived `Deserialize` of
//! [`Config`] asks for, probed field by field: a key added to a section is a key here, with
//! the kind its type reads (no second list to keep in step).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::sync::LazyLock;

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::error::{key_error, ConfigError};
use super::sections::Config;

/// The type of a configuration key's value, for environment overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A string.
    Text,
    /// An integer.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A list of strings; in the environment, comma-separated.
    List,
}

/// Every configuration key that an environment variable can override, in section order.
/// Tables of free keys (`source.table_prefix`, `sink.properties`) are set in the file only.
pub static KEYS: LazyLock<Vec<(String, KeyKind)>> = LazyLock::new(probe_keys);

/// The environment variable of a key path.
pub fn env_name(path: &str) -> String {
    format!("MWCDC_{}", path.replace('.', "_").to_ascii_uppercase())
}

/// Sets every key of [`KEYS`] whose environment variable `env` holds in the TOML `doc`.
pub fn apply_environment(
    doc: &mut toml::Table,
    env: &BTreeMap<String, String>,
) -> Result<(), ConfigError> {
    for (key, kind) in KEYS.iter() {
        if let Some(raw) = env.get(&env_name(key)) {
            set_path(doc, key, env_value(key, *kind, raw)?);
        }
    }
    Ok(())
}

fn env_value(key: &str, kind: KeyKind, raw: &str) -> Result<toml::Value, ConfigError> {
    let var = env_name(key);
    Ok(match kind {
        KeyKind::Text => toml::Value::String(raw.to_string()),
        KeyKind::Integer => toml::Value::Integer(
            raw.trim()
                .parse()
                .map_err(|_| key_error(key, format!("{var}={raw:?} is not an integer")))?,
        ),
        KeyKind::Boolean => toml::Value::Boolean(match raw.trim() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => {
                return Err(key_error(
                    key,
                    format!("{var}={raw:?} is not true or false"),
                ))
            }
        }),
        KeyKind::List => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
    })
}

fn set_path(doc: &mut toml::Table, path: &str, value: toml::Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap_or(path);
    let mut table = doc;
    for part in parts {
        let entry = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        table = match entry {
            toml::Value::Table(t) => t,
            _ => unreachable!("replaced by a table above"),
        };
    }
    table.insert(last.to_string(), value);
}

/// What probing one path found.
enum Found {
    /// A value of this kind.
    Leaf(KeyKind),
    /// A section with these fields.
    Section(&'static [&'static str]),
    /// A table of free keys, or a value no environment variable sets.
    Other,
}

/// Walks the sections breadth first: each run of `Config::deserialize` follows one path and
/// reports what its value asks for. The runs end in errors by design: only what they asked
/// for is kept.
fn probe_keys() -> Vec<(String, KeyKind)> {
    let mut keys = Vec::new();
    let mut paths = VecDeque::from([Vec::<&'static str>::new()]);
    while let Some(path) = paths.pop_front() {
        let found = RefCell::new(Found::Other);
        let _ = Config::deserialize(Probe {
            rest: &path,
            found: &found,
        });
        match found.into_inner() {
            Found::Leaf(kind) => keys.push((path.join("."), kind)),
            Found::Section(fields) => paths.extend(fields.iter().map(|f| {
                let mut child = path.clone();
                child.push(*f);
                child
            })),
            Found::Other => {}
        }
    }
    keys
}

/// The error every probe run ends with.
#[derive(Debug)]
struct Probed;

impl std::fmt::Display for Probed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("probed")
    }
}

impl std::error::Error for Probed {}

impl de::Error for Probed {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Probed
    }
}

/// A deserializer standing for the value at `rest` below the current section.
#[derive(Clone, Copy)]
struct Probe<'a> {
    rest: &'a [&'static str],
    found: &'a RefCell<Found>,
}

impl Probe<'_> {
    fn leaf<T>(self, kind: KeyKind) -> Result<T, Probed> {
        if self.rest.is_empty() {
            *self.found.borrow_mut() = Found::Leaf(kind);
        }
        Err(Probed)
    }
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = Probed;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        self.leaf(KeyKind::Text)
    }
    fn deserialize_str<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        self.leaf(KeyKind::Text)
    }
    fn deserialize_string<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        self.leaf(KeyKind::Text)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Probed> {
        self.leaf(KeyKind::Text)
    }
    fn deserialize_bool<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        self.leaf(KeyKind::Boolean)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        self.leaf(KeyKind::Integer)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        self.leaf(KeyKind::Integer)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        self.leaf(KeyKind::List)
    }
    fn deserialize_map<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        Err(Probed)
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Probed> {
        visitor.visit_some(self)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Probed> {
        match self.rest.split_first() {
            None => {
                *self.found.borrow_mut() = Found::Section(fields);
                Err(Probed)
            }
            Some((field, rest)) => visitor.visit_map(OneField {
                field: Some(field),
                value: Probe {
                    rest,
                    found: self.found,
                },
            }),
        }
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u128 f32 f64 char bytes byte_buf unit unit_struct
        newtype_struct tuple tuple_struct identifier ignored_any
    }
}

/// A section holding only the next field of the probed path.
struct OneField<'a> {
    field: Option<&'static str>,
    value: Probe<'a>,
}

impl<'de, 'a> MapAccess<'de> for OneField<'a> {
    type Error = Probed;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Probed> {
        match self.field {
            Some(field) => seed.deserialize(field.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Probed> {
        self.field = None;
        seed.deserialize(self.value)
    }
}
