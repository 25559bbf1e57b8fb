//! PHP `serialize()` output for `log_params`, and its JSON decoding as the connector does it.

use serde_json::{Map, Value};

use crate::binary::binary_json;

/// A PHP value, as MediaWiki passes it to `serialize()` for `log_params`.
#[derive(Clone, Debug, PartialEq)]
pub enum Php {
    /// `i:N;`
    Int(i64),
    /// `s:LEN:"bytes";`, LEN in bytes.
    Str(Vec<u8>),
    /// `N;`
    Null,
    /// An array with keys 0..n-1.
    List(Vec<Php>),
    /// An array with string keys, in insertion order.
    Map(Vec<(&'static str, Php)>),
    /// An array with integer keys, in insertion order, not necessarily 0..n-1 (what
    /// `array_diff` leaves).
    IntMap(Vec<(usize, Php)>),
}

impl Php {
    /// A PHP string of these bytes.
    pub fn str(bytes: impl Into<Vec<u8>>) -> Php {
        Php::Str(bytes.into())
    }

    /// The bytes PHP's `serialize()` writes for this value.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Php::Int(n) => out.extend_from_slice(format!("i:{n};").as_bytes()),
            Php::Str(bytes) => write_str(out, bytes),
            Php::Null => out.extend_from_slice(b"N;"),
            Php::List(items) => write_int_keyed(out, items.iter().enumerate()),
            Php::IntMap(entries) => write_int_keyed(out, entries.iter().map(|(k, v)| (*k, v))),
            Php::Map(entries) => {
                out.extend_from_slice(format!("a:{}:{{", entries.len()).as_bytes());
                for (key, value) in entries {
                    write_str(out, key.as_bytes());
                    value.write(out);
                }
                out.push(b'}');
            }
        }
    }

    /// The value as the connector decodes it: lists to JSON arrays (an empty array too),
    /// string-keyed arrays to objects, strings by the binary rule.
    pub fn to_json(&self) -> Value {
        match self {
            Php::Int(n) => Value::from(*n),
            Php::Str(bytes) => binary_json(bytes),
            Php::Null => Value::Null,
            Php::List(items) => Value::Array(items.iter().map(Php::to_json).collect()),
            Php::IntMap(entries) if entries.iter().enumerate().all(|(i, (k, _))| i == *k) => {
                Value::Array(entries.iter().map(|(_, v)| v.to_json()).collect())
            }
            Php::IntMap(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.to_string(), value.to_json()))
                    .collect::<Map<_, _>>(),
            ),
            Php::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| ((*key).to_owned(), value.to_json()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// `a:N:{i:K;V...}` of integer-keyed entries.
fn write_int_keyed<'a>(
    out: &mut Vec<u8>,
    entries: impl ExactSizeIterator<Item = (usize, &'a Php)>,
) {
    out.extend_from_slice(format!("a:{}:{{", entries.len()).as_bytes());
    for (key, value) in entries {
        out.extend_from_slice(format!("i:{key};").as_bytes());
        value.write(out);
    }
    out.push(b'}');
}

fn write_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(format!("s:{}:\"", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\";");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn move_params_match_mediawiki() {
        let params = Php::Map(vec![
            ("4::target", Php::str("New title")),
            ("5::noredir", Php::str("0")),
        ]);
        assert_eq!(
            params.serialize(),
            br#"a:2:{s:9:"4::target";s:9:"New title";s:10:"5::noredir";s:1:"0";}"#
        );
    }

    #[test]
    fn string_lengths_count_bytes() {
        assert_eq!(Php::str("Zürich").serialize(), "s:7:\"Zürich\";".as_bytes());
        assert_eq!(Php::str("東京").serialize(), "s:6:\"東京\";".as_bytes());
        assert_eq!(Php::str(b"a\xffb".to_vec()).serialize(), b"s:3:\"a\xffb\";");
    }

    #[test]
    fn restore_params_match_the_brief() {
        let params = Php::Map(vec![(
            ":assoc:count",
            Php::Map(vec![("revisions", Php::Int(5000)), ("files", Php::Int(0))]),
        )]);
        assert_eq!(
            params.serialize(),
            br#"a:1:{s:12:":assoc:count";a:2:{s:9:"revisions";i:5000;s:5:"files";i:0;}}"#
        );
    }

    #[test]
    fn lists_and_null() {
        let value = Php::List(vec![
            Php::str("sysop"),
            Php::Map(vec![("expiry", Php::Null)]),
        ]);
        assert_eq!(
            value.serialize(),
            br#"a:2:{i:0;s:5:"sysop";i:1;a:1:{s:6:"expiry";N;}}"#
        );
        assert_eq!(Php::List(vec![]).serialize(), b"a:0:{}");
    }

    #[test]
    fn json_decoding() {
        let value = Php::Map(vec![
            ("4::type", Php::str("revision")),
            ("5::ids", Php::List(vec![Php::str("12")])),
            ("6::ofield", Php::Int(0)),
            ("title", Php::str(b"A\xff".to_vec())),
            ("none", Php::Null),
            ("empty", Php::List(vec![])),
        ]);
        assert_eq!(
            value.to_json(),
            json!({
                "4::type": "revision", "5::ids": ["12"], "6::ofield": 0,
                "title": {"base64": "Qf8="}, "none": null, "empty": []
            })
        );
    }
}
