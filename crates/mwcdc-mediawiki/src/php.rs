//! PHP `serialize()` decoding, for MediaWiki's `logging.log_params`.
//!
//! [`decode_log_params`] mirrors how MediaWiki reads the column
//! (`DatabaseLogEntry::getParameters`): the blob is modern when PHP's `unserialize()` does not
//! return `false`; otherwise it is a legacy newline-separated list (`''` is the empty list).
//! The decoder follows PHP's grammar, so "PHP would reject this" is exactly "legacy"; the few
//! inputs PHP accepts but this module will not represent are [`LogParams::Undecodable`].
//!
//! # JSON mapping
//!
//! | PHP | JSON |
//! |-----|------|
//! | `N;` | `null` |
//! | `b:0;` / `b:1;` | `false` / `true` |
//! | `i:<n>;` | a number (an out-of-range integer is clamped to `i64`, as PHP clamps it) |
//! | `d:<x>;` | a number; `INF`, `-INF`, `NAN` become the strings `"INF"`, `"-INF"`, `"NAN"` |
//! | `s:<len>:"…";`, `S:<len>:"…";` | the bytes by [`bytes_to_json`] (the row stream's binary rule) |
//! | `a:<n>:{…}` with keys exactly `0..n-1` in order | an array |
//! | any other `a:<n>:{…}` | an object, keys as [`key_to_string`] renders them |
//! | `O:…:"Class":<n>:{…}` | `{"__class": "Class", "prop": value, …}` |
//! | `C:…:"Class":<len>:{payload}` | `{"__class": "Class", "__serialized": payload by the binary rule}` |
//! | `E:…:"Enum:Case";` | `{"__enum": "Enum:Case"}` |
//! | `r:<n>;`, `R:<n>;` | not represented: the whole blob is [`LogParams::Undecodable`] |
//!
//! Array keys follow PHP: a string key that is a canonical decimal integer (`"0"`, `"-3"`, not
//! `"01"`) is that integer, and a repeated key overwrites the earlier value in its original
//! position. JSON objects come out with their keys sorted (serde_json's map), so the order of
//! an associative array is not kept; whether an array is a list is decided on PHP's order.
//!
//! Object property names lose PHP's visibility markers (`"\0Class\0prop"` and `"\0*\0prop"`
//! become `"prop"`; if two properties then share a name the later one wins), and
//! `"__class"` always holds the class name, even if the object has a property of that name.
//!
//! Nesting is limited to [`MAX_DEPTH`] containers. The parser is a single iterative pass: no
//! recursion, and no allocation sized by a declared count before the input is known to be long
//! enough to hold it.

use std::borrow::Cow;

use base64::Engine;
use mwcdc_record::{binary_json, BinaryJson, BinaryMode};
use serde_json::{Map, Value};

/// The deepest nesting of arrays and objects that is decoded.
pub const MAX_DEPTH: usize = 64;

/// PHP's default `unserialize_max_depth`: deeper input makes `unserialize()` fail.
const PHP_MAX_DEPTH: usize = 4096;

/// The shortest array entry: `i:0;` and `N;`.
const MIN_ENTRY_LEN: usize = 6;

/// `log_params` decoded into JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum LogParams {
    /// PHP `serialize()` output (MediaWiki: not legacy), decoded by the module's JSON mapping.
    Decoded(Value),
    /// The legacy format (MediaWiki: `isLegacy()`): a JSON array of the `\n`-separated values,
    /// each by [`bytes_to_json`]; empty input is the empty array.
    Legacy(Value),
    /// Input that PHP's `unserialize()` accepts (so MediaWiki reads it as modern parameters)
    /// but that is not represented: bytes after the serialized value, a reference (`r:`/`R:`),
    /// or nesting deeper than [`MAX_DEPTH`]. [`unserialize`] tells which.
    Undecodable,
}

impl LogParams {
    #[cfg(test)]
    /// Whether the row holds legacy (newline-separated) parameters.
    pub fn is_legacy(&self) -> bool {
        matches!(self, LogParams::Legacy(_))
    }

    #[cfg(test)]
    /// The JSON value, `None` when undecodable.
    pub fn into_json(self) -> Option<Value> {
        match self {
            LogParams::Decoded(v) | LogParams::Legacy(v) => Some(v),
            LogParams::Undecodable => None,
        }
    }
}

/// Why [`unserialize`] did not produce a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhpError {
    /// Not `serialize()` output: PHP's `unserialize()` returns `false` for it too.
    #[error("not PHP serialize() output (at byte {offset})")]
    Invalid {
        /// Where parsing stopped.
        offset: usize,
    },
    /// A complete value followed by more bytes (PHP ignores them; this module does not).
    #[error("bytes after the serialized value (from byte {offset})")]
    TrailingData {
        /// Where the extra bytes start.
        offset: usize,
    },
    /// A PHP reference (`r:<n>;` or `R:<n>;`), which JSON cannot express.
    #[error("PHP reference (at byte {offset})")]
    Reference {
        /// Where the first reference starts.
        offset: usize,
    },
    /// Arrays or objects nested deeper than [`MAX_DEPTH`].
    #[error("nested deeper than 64 containers (at byte {offset})")]
    TooDeep {
        /// Where the first container too deep starts.
        offset: usize,
    },
}

impl PhpError {
    #[cfg(test)]
    /// Whether PHP's `unserialize()` accepts the input all the same.
    pub fn php_accepts(&self) -> bool {
        !matches!(self, PhpError::Invalid { .. })
    }
}

/// Decodes a `logging.log_params` value the way MediaWiki reads it.
///
/// Modern when PHP's `unserialize()` would not return `false` (so a lone `b:0;` is legacy, as
/// in MediaWiki), legacy when it would, [`LogParams::Undecodable`] when PHP accepts the input
/// but the module does not represent it (see [`PhpError::php_accepts`]). Strings follow
/// `binary`, the row stream's rule for binary values.
pub fn decode_log_params(raw: &[u8], binary: BinaryMode) -> LogParams {
    match parse_first(raw, binary) {
        Ok((Value::Bool(false), _)) | Err(PhpError::Invalid { .. }) => {
            LogParams::Legacy(legacy_params(raw, binary))
        }
        Ok((value, end)) if end == raw.len() => LogParams::Decoded(value),
        Ok((_, end)) => {
            tracing::debug!(offset = end, "log_params: bytes after the serialized value");
            LogParams::Undecodable
        }
        Err(error) => {
            tracing::debug!(%error, "log_params: not representable");
            LogParams::Undecodable
        }
    }
}

/// Decodes one complete PHP `serialize()` value (all of `raw`) into JSON by the module's
/// mapping, strings by `binary`.
pub fn unserialize(raw: &[u8], binary: BinaryMode) -> Result<Value, PhpError> {
    let (value, end) = parse_first(raw, binary)?;
    if end == raw.len() {
        Ok(value)
    } else {
        Err(PhpError::TrailingData { offset: end })
    }
}

/// A string value by the row stream's binary rule ([`mwcdc_record::binary_json`]).
pub fn bytes_to_json(bytes: &[u8], binary: BinaryMode) -> Value {
    match binary_json(bytes, binary) {
        BinaryJson::String(s) => Value::String(s.into_owned()),
        BinaryJson::Base64Object(base64) => {
            let mut object = Map::new();
            object.insert("base64".to_owned(), Value::String(base64));
            Value::Object(object)
        }
    }
}

/// A string used as an object key or a name (array keys, property names, class and enum
/// names), whatever the binary mode: valid UTF-8 as it is, anything else `"base64:"` followed
/// by its standard base64 (lossless; a UTF-8 key that itself starts with `base64:` is kept
/// as it is).
pub fn key_to_string(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => format!("base64:{}", base64(bytes)),
    }
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// MediaWiki's `LogPage::extractParams`: `[]` for `''`, else `explode("\n", $blob)`.
fn legacy_params(raw: &[u8], binary: BinaryMode) -> Value {
    if raw.is_empty() {
        return Value::Array(Vec::new());
    }
    Value::Array(
        raw.split(|&b| b == b'\n')
            .map(|line| bytes_to_json(line, binary))
            .collect(),
    )
}

/// Parses the first value of `raw`: the value and where it ends.
fn parse_first(raw: &[u8], binary: BinaryMode) -> Result<(Value, usize), PhpError> {
    let mut parser = Parser {
        raw,
        pos: 0,
        binary,
        slots: 0,
        unsupported: None,
    };
    match parser.run() {
        Err(Syntax) => Err(PhpError::Invalid { offset: parser.pos }),
        Ok(value) => match parser.unsupported {
            Some(error) => Err(error),
            None => Ok((value, parser.pos)),
        },
    }
}

/// A syntax error: PHP's `unserialize()` would return `false`.
struct Syntax;

type Parsed<T> = Result<T, Syntax>;

enum Key<'a> {
    Int(i64),
    Str(Cow<'a, [u8]>),
}

/// A container being read.
struct Frame<'a> {
    /// Entries still to read.
    remaining: usize,
    /// The key read, whose value comes next.
    key: Option<Key<'a>>,
    body: Body,
}

enum Body {
    /// An array whose keys so far are `0..len` in order.
    List(Vec<Value>),
    /// Any other array.
    Map(Map<String, Value>),
    Object {
        class: String,
        props: Map<String, Value>,
    },
    /// Not built: the result is not represented anyway.
    Skip,
}

impl Body {
    fn insert(&mut self, key: Key<'_>, value: Value) {
        match self {
            Body::List(items) => {
                let index = match &key {
                    Key::Int(k) => usize::try_from(*k).ok(),
                    Key::Str(s) => numeric_key(s).and_then(|k| usize::try_from(k).ok()),
                };
                match index {
                    Some(i) if i < items.len() => items[i] = value,
                    Some(i) if i == items.len() => items.push(value),
                    _ => {
                        let mut map: Map<String, Value> = std::mem::take(items)
                            .into_iter()
                            .enumerate()
                            .map(|(i, v)| (i.to_string(), v))
                            .collect();
                        map.insert(array_key(&key), value);
                        *self = Body::Map(map);
                    }
                }
            }
            Body::Map(map) => {
                map.insert(array_key(&key), value);
            }
            Body::Object { props, .. } => {
                let name = match &key {
                    Key::Int(k) => k.to_string(),
                    Key::Str(s) => key_to_string(unmangle(s)),
                };
                props.insert(name, value);
            }
            Body::Skip => {}
        }
    }

    fn finish(self) -> Value {
        match self {
            Body::List(items) => Value::Array(items),
            Body::Map(map) => Value::Object(map),
            Body::Object { class, mut props } => {
                props.insert("__class".to_owned(), Value::String(class));
                Value::Object(props)
            }
            Body::Skip => Value::Null,
        }
    }
}

/// An array key as JSON object key text.
fn array_key(key: &Key<'_>) -> String {
    match key {
        Key::Int(k) => k.to_string(),
        Key::Str(s) => match numeric_key(s) {
            Some(k) => k.to_string(),
            None => key_to_string(s),
        },
    }
}

/// PHP's `ZEND_HANDLE_NUMERIC_STR`: a string array key that is a canonical decimal integer
/// (`-?[1-9][0-9]*` or `0`, within `i64`) is that integer.
fn numeric_key(s: &[u8]) -> Option<i64> {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    let canonical = match digits {
        [b'0'] => s.len() == 1,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !canonical {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// A property name without PHP's visibility markers (`\0Class\0name`, `\0*\0name`).
fn unmangle(name: &[u8]) -> &[u8] {
    if let Some(rest) = name.strip_prefix(b"\0") {
        if let Some(end) = rest.iter().position(|&b| b == 0) {
            return &rest[end + 1..];
        }
    }
    name
}

/// PHP's `zend_is_valid_class_name`.
fn valid_class_name(name: &[u8]) -> bool {
    name.iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'\\' || b >= 0x80)
}

fn float_json(f: f64) -> Value {
    if f.is_nan() {
        Value::String("NAN".to_owned())
    } else if f.is_infinite() {
        Value::String(if f > 0.0 { "INF" } else { "-INF" }.to_owned())
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

struct Parser<'a> {
    raw: &'a [u8],
    pos: usize,
    binary: BinaryMode,
    /// PHP's table of values for references: every value read so far except keys and `R:`.
    slots: usize,
    /// The first construct PHP accepts but the module does not represent.
    unsupported: Option<PhpError>,
}

impl<'a> Parser<'a> {
    /// Reads one value, iteratively: containers are frames on `stack`.
    fn run(&mut self) -> Parsed<Value> {
        let mut stack: Vec<Frame<'a>> = Vec::new();
        loop {
            let value = if stack.last().is_some_and(|top| top.remaining == 0) {
                self.expect(b'}')?;
                match stack.pop() {
                    Some(frame) => frame.body.finish(),
                    None => return Err(Syntax),
                }
            } else {
                if let Some(top) = stack.last_mut() {
                    top.key = Some(self.key()?);
                }
                match self.value(&mut stack)? {
                    Some(value) => value,
                    // A container was opened.
                    None => continue,
                }
            };
            match stack.last_mut() {
                None => return Ok(value),
                Some(top) => {
                    if let Some(key) = top.key.take() {
                        top.body.insert(key, value);
                    }
                    top.remaining -= 1;
                }
            }
        }
    }

    /// Reads a value, or opens a container (`None`).
    fn value(&mut self, stack: &mut Vec<Frame<'a>>) -> Parsed<Option<Value>> {
        let start = self.pos;
        let tag = self.next()?;
        let slots_before = self.slots;
        if tag != b'R' {
            self.slots += 1;
        }
        let value = match tag {
            b'N' => {
                self.expect(b';')?;
                Value::Null
            }
            b'b' => {
                self.expect(b':')?;
                let v = match self.next()? {
                    b'0' => false,
                    b'1' => true,
                    _ => return Err(Syntax),
                };
                self.expect(b';')?;
                Value::Bool(v)
            }
            b'i' => {
                self.expect(b':')?;
                let v = self.int()?;
                self.expect(b';')?;
                Value::from(v)
            }
            b'd' => {
                self.expect(b':')?;
                float_json(self.float()?)
            }
            b's' => {
                self.expect(b':')?;
                let bytes = self.quoted()?;
                self.expect(b';')?;
                bytes_to_json(bytes, self.binary)
            }
            b'S' => {
                self.expect(b':')?;
                let bytes = self.escaped()?;
                self.expect(b';')?;
                bytes_to_json(&bytes, self.binary)
            }
            b'a' => {
                self.expect(b':')?;
                let count = self.uint()?;
                self.expect(b':')?;
                self.expect(b'{')?;
                self.open(stack, start, count, None)?;
                return Ok(None);
            }
            b'O' => {
                self.expect(b':')?;
                let class = self.class_name()?;
                self.expect(b':')?;
                let count = self.uint()?;
                self.expect(b':')?;
                self.expect(b'{')?;
                self.open(stack, start, count, Some(key_to_string(class)))?;
                return Ok(None);
            }
            b'C' => {
                self.expect(b':')?;
                let class = self.class_name()?;
                self.expect(b':')?;
                let len = self.uint()?;
                self.expect(b':')?;
                self.expect(b'{')?;
                let payload = self.take(len)?;
                self.expect(b'}')?;
                let mut object = Map::new();
                object.insert("__class".to_owned(), Value::String(key_to_string(class)));
                object.insert(
                    "__serialized".to_owned(),
                    bytes_to_json(payload, self.binary),
                );
                Value::Object(object)
            }
            b'E' => {
                self.expect(b':')?;
                let name = self.quoted()?;
                self.expect(b';')?;
                if !name.contains(&b':') {
                    return Err(Syntax);
                }
                let mut object = Map::new();
                object.insert("__enum".to_owned(), Value::String(key_to_string(name)));
                Value::Object(object)
            }
            b'r' | b'R' => {
                self.expect(b':')?;
                let id = self.uint()?;
                self.expect(b';')?;
                if id == 0 || id > slots_before {
                    return Err(Syntax);
                }
                self.unsupported
                    .get_or_insert(PhpError::Reference { offset: start });
                Value::Null
            }
            _ => return Err(Syntax),
        };
        Ok(Some(value))
    }

    /// Opens an array (`class` `None`) or an object of `count` entries.
    fn open(
        &mut self,
        stack: &mut Vec<Frame<'a>>,
        start: usize,
        count: usize,
        class: Option<String>,
    ) -> Parsed<()> {
        // Room for `count` entries and the closing brace.
        let room = (self.raw.len() - self.pos).saturating_sub(1) / MIN_ENTRY_LEN;
        let depth = stack.len() + 1;
        if count > room || depth > PHP_MAX_DEPTH {
            return Err(Syntax);
        }
        if depth > MAX_DEPTH {
            self.unsupported
                .get_or_insert(PhpError::TooDeep { offset: start });
        }
        let body = match class {
            _ if self.unsupported.is_some() => Body::Skip,
            None => Body::List(Vec::with_capacity(count.min(16))),
            Some(class) => Body::Object {
                class,
                props: Map::new(),
            },
        };
        stack.push(Frame {
            remaining: count,
            key: None,
            body,
        });
        Ok(())
    }

    /// An array key or property name: `i:<n>;`, `s:<len>:"…";` or `S:<len>:"…";`.
    fn key(&mut self) -> Parsed<Key<'a>> {
        let tag = self.next()?;
        self.expect(b':')?;
        let key = match tag {
            b'i' => Key::Int(self.int()?),
            b's' => Key::Str(Cow::Borrowed(self.quoted()?)),
            b'S' => Key::Str(Cow::Owned(self.escaped()?)),
            _ => return Err(Syntax),
        };
        self.expect(b';')?;
        Ok(key)
    }

    fn next(&mut self) -> Parsed<u8> {
        let b = *self.raw.get(self.pos).ok_or(Syntax)?;
        self.pos += 1;
        Ok(b)
    }

    fn peek(&self) -> Option<u8> {
        self.raw.get(self.pos).copied()
    }

    fn expect(&mut self, expected: u8) -> Parsed<()> {
        if self.next()? == expected {
            Ok(())
        } else {
            Err(Syntax)
        }
    }

    /// The next `len` bytes.
    fn take(&mut self, len: usize) -> Parsed<&'a [u8]> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|&end| end <= self.raw.len())
            .ok_or(Syntax)?;
        let bytes = &self.raw[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    /// Decimal digits, at least one.
    fn digits(&mut self) -> Parsed<&'a [u8]> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(Syntax);
        }
        Ok(&self.raw[start..self.pos])
    }

    /// A length or count: `[0-9]+`.
    fn uint(&mut self) -> Parsed<usize> {
        self.digits()?.iter().try_fold(0usize, |n, &d| {
            n.checked_mul(10)
                .and_then(|n| n.checked_add(usize::from(d - b'0')))
                .ok_or(Syntax)
        })
    }

    /// An integer: `[+-]?[0-9]+`, clamped to `i64` as PHP clamps it.
    fn int(&mut self) -> Parsed<i64> {
        let negative = match self.peek() {
            Some(b'-') => true,
            Some(b'+') => false,
            _ => {
                return self
                    .magnitude()
                    .map(|m| i64::try_from(m).unwrap_or(i64::MAX))
            }
        };
        self.pos += 1;
        let m = self.magnitude()?;
        Ok(if negative {
            0i64.checked_sub_unsigned(m).unwrap_or(i64::MIN)
        } else {
            i64::try_from(m).unwrap_or(i64::MAX)
        })
    }

    fn magnitude(&mut self) -> Parsed<u64> {
        Ok(self.digits()?.iter().fold(0u64, |n, &d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        }))
    }

    /// A float and its `;`: `NAN`, `INF`, `-INF`, or
    /// `[+-]?([0-9]+|[0-9]+\.[0-9]*|[0-9]*\.[0-9]+)([eE][+-]?[0-9]+)?`.
    fn float(&mut self) -> Parsed<f64> {
        let rest = &self.raw[self.pos..];
        for (text, value) in [
            (&b"NAN;"[..], f64::NAN),
            (b"INF;", f64::INFINITY),
            (b"-INF;", f64::NEG_INFINITY),
        ] {
            if rest.starts_with(text) {
                self.pos += text.len();
                return Ok(value);
            }
        }
        let start = self.pos;
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.pos += 1;
        }
        let mut mantissa = self.digits().map_or(0, <[u8]>::len);
        if self.peek() == Some(b'.') {
            self.pos += 1;
            mantissa += self.digits().map_or(0, <[u8]>::len);
        }
        if mantissa == 0 {
            return Err(Syntax);
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.digits()?;
        }
        let text = std::str::from_utf8(&self.raw[start..self.pos]).map_err(|_| Syntax)?;
        let value = text.parse().map_err(|_| Syntax)?;
        self.expect(b';')?;
        Ok(value)
    }

    /// `<len>:"<len bytes>"`.
    fn quoted(&mut self) -> Parsed<&'a [u8]> {
        let len = self.uint()?;
        self.expect(b':')?;
        self.expect(b'"')?;
        let bytes = self.take(len)?;
        self.expect(b'"')?;
        Ok(bytes)
    }

    /// A class name, `<len>:"<name>"`, checked as PHP checks it.
    fn class_name(&mut self) -> Parsed<&'a [u8]> {
        let name = self.quoted()?;
        if valid_class_name(name) {
            Ok(name)
        } else {
            Err(Syntax)
        }
    }

    /// `S:`'s `<len>:"…"`: `len` bytes, each literal or `\` and two hex digits.
    fn escaped(&mut self) -> Parsed<Vec<u8>> {
        let len = self.uint()?;
        self.expect(b':')?;
        self.expect(b'"')?;
        if len > self.raw.len() - self.pos {
            return Err(Syntax);
        }
        let mut bytes = Vec::with_capacity(len);
        for _ in 0..len {
            let b = self.next()?;
            if b == b'\\' {
                let hi = hex_digit(self.next()?)?;
                let lo = hex_digit(self.next()?)?;
                bytes.push(hi << 4 | lo);
            } else {
                bytes.push(b);
            }
        }
        self.expect(b'"')?;
        Ok(bytes)
    }
}

fn hex_digit(b: u8) -> Parsed<u8> {
    match b {
        b'0'..=b'9' => Ok(b - b'0'),
        b'a'..=b'f' => Ok(b - b'a' + 10),
        b'A'..=b'F' => Ok(b - b'A' + 10),
        _ => Err(Syntax),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const UTF8: BinaryMode = BinaryMode::Utf8;

    fn decoded(raw: &[u8]) -> Value {
        match decode_log_params(raw, UTF8) {
            LogParams::Decoded(v) => v,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(raw)),
        }
    }

    fn legacy(raw: &[u8]) -> Value {
        match decode_log_params(raw, UTF8) {
            LogParams::Legacy(v) => v,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(raw)),
        }
    }

    /// Input PHP rejects is legacy: the whole blob as one line when it has no newline.
    fn assert_rejected(raw: &[u8]) {
        assert!(
            matches!(unserialize(raw, UTF8), Err(PhpError::Invalid { .. })),
            "{:?}",
            String::from_utf8_lossy(raw)
        );
        let lines: Vec<Value> = raw
            .split(|&b| b == b'\n')
            .map(|l| bytes_to_json(l, UTF8))
            .collect();
        assert_eq!(legacy(raw), Value::Array(lines));
    }

    #[test]
    fn scalars() {
        assert_eq!(unserialize(b"N;", UTF8), Ok(Value::Null));
        assert_eq!(unserialize(b"b:1;", UTF8), Ok(json!(true)));
        assert_eq!(unserialize(b"b:0;", UTF8), Ok(json!(false)));
        assert_eq!(unserialize(b"i:0;", UTF8), Ok(json!(0)));
        assert_eq!(unserialize(b"i:-42;", UTF8), Ok(json!(-42)));
        assert_eq!(unserialize(b"i:+7;", UTF8), Ok(json!(7)));
        assert_eq!(
            unserialize(b"i:9223372036854775807;", UTF8),
            Ok(json!(i64::MAX))
        );
        assert_eq!(
            unserialize(b"i:-9223372036854775808;", UTF8),
            Ok(json!(i64::MIN))
        );
        // PHP clamps out-of-range integers.
        assert_eq!(
            unserialize(b"i:99999999999999999999999;", UTF8),
            Ok(json!(i64::MAX))
        );
        assert_eq!(
            unserialize(b"i:-99999999999999999999999;", UTF8),
            Ok(json!(i64::MIN))
        );
        assert_eq!(unserialize(b"s:0:\"\";", UTF8), Ok(json!("")));
        assert_eq!(unserialize(b"s:3:\"abc\";", UTF8), Ok(json!("abc")));
        assert_eq!(unserialize(b"S:3:\"a\\62c\";", UTF8), Ok(json!("abc")));
        assert_eq!(
            unserialize(b"S:1:\"\\Ff\";", UTF8),
            Ok(json!({"base64": "/w=="}))
        );
        assert_eq!(decoded(b"N;"), Value::Null);
        assert_eq!(decoded(b"b:1;"), json!(true));
        assert_eq!(decoded(b"i:5;"), json!(5));
        // unserialize() returns false for it, so MediaWiki reads it as legacy.
        assert_eq!(legacy(b"b:0;"), json!(["b:0;"]));
    }

    #[test]
    fn floats() {
        for (raw, expected) in [
            (&b"d:1.5;"[..], json!(1.5)),
            (b"d:-0.25;", json!(-0.25)),
            (b"d:1;", json!(1.0)),
            (b"d:+2;", json!(2.0)),
            (b"d:.5;", json!(0.5)),
            (b"d:5.;", json!(5.0)),
            (b"d:1.0E+25;", json!(1.0e25)),
            (b"d:1e-7;", json!(1.0e-7)),
            (b"d:0.1;", json!(0.1)),
            (b"d:INF;", json!("INF")),
            (b"d:-INF;", json!("-INF")),
            (b"d:NAN;", json!("NAN")),
            (b"d:1e999;", json!("INF")),
        ] {
            assert_eq!(unserialize(raw, UTF8), Ok(expected), "{raw:?}");
        }
        for raw in [
            &b"d:;"[..],
            b"d:.;",
            b"d:1e;",
            b"d:1.5",
            b"d:+INF;",
            b"d:inf;",
            b"d:1x;",
            b"d:--1;",
        ] {
            assert_rejected(raw);
        }
    }

    #[test]
    fn mediawiki_examples() {
        assert_eq!(decoded(b"a:0:{}"), json!([]));
        assert_eq!(
            decoded(b"a:2:{s:9:\"4::target\";s:9:\"New title\";s:10:\"5::noredir\";s:1:\"0\";}"),
            json!({"4::target": "New title", "5::noredir": "0"})
        );
        assert_eq!(
            decoded(b"a:1:{s:12:\":assoc:count\";a:2:{s:9:\"revisions\";i:3;s:5:\"files\";i:0;}}"),
            json!({":assoc:count": {"revisions": 3, "files": 0}})
        );
    }

    #[test]
    fn rights_params() {
        let raw = b"a:4:{s:12:\"4::oldgroups\";a:0:{}s:12:\"5::newgroups\";a:1:{i:0;s:3:\"bot\";}\
s:11:\"oldmetadata\";a:0:{}s:11:\"newmetadata\";a:1:{i:0;a:1:{s:6:\"expiry\";N;}}}";
        assert_eq!(
            decoded(raw),
            json!({
                "4::oldgroups": [],
                "5::newgroups": ["bot"],
                "oldmetadata": [],
                "newmetadata": [{"expiry": null}],
            })
        );
    }

    #[test]
    fn revdel_params() {
        let raw = b"a:4:{s:7:\"4::type\";s:8:\"revision\";s:6:\"5::ids\";a:1:{i:0;s:2:\"12\";}\
s:9:\"6::ofield\";i:0;s:9:\"7::nfield\";i:1;}";
        assert_eq!(
            decoded(raw),
            json!({"4::type": "revision", "5::ids": ["12"], "6::ofield": 0, "7::nfield": 1})
        );
        // "4::type" is 7 bytes: with a length of 6 PHP rejects the blob, so it is legacy.
        assert_rejected(
            b"a:4:{s:6:\"4::type\";s:8:\"revision\";s:6:\"5::ids\";a:1:{i:0;s:2:\"12\";}\
s:9:\"6::ofield\";i:0;s:9:\"7::nfield\";i:1;}",
        );
    }

    #[test]
    fn lengths_count_bytes() {
        // "Zürich" is 7 bytes, "日本" 6, "😀" 4.
        assert_eq!(
            decoded("a:3:{i:0;s:7:\"Zürich\";i:1;s:6:\"日本\";i:2;s:4:\"😀\";}".as_bytes()),
            json!(["Zürich", "日本", "😀"])
        );
        assert_eq!(
            decoded("a:1:{s:4:\"clé\";s:1:\"x\";}".as_bytes()),
            json!({"clé": "x"})
        );
        // A character count is not a byte count.
        assert_rejected("s:6:\"Zürich\";".as_bytes());
        assert_rejected("a:1:{i:0;s:6:\"Zürich\";}".as_bytes());
    }

    #[test]
    fn invalid_utf8_by_binary_mode() {
        let raw = b"a:2:{i:0;s:3:\"\xff\x00A\";i:1;s:2:\"ok\";}";
        assert_eq!(decoded(raw), json!([{"base64": "/wBB"}, "ok"]));
        assert_eq!(
            decode_log_params(raw, BinaryMode::Base64),
            LogParams::Decoded(json!(["/wBB", "b2s="]))
        );
        assert_eq!(
            decode_log_params(raw, BinaryMode::Hex),
            LogParams::Decoded(json!(["ff0041", "6f6b"]))
        );
        // A truncated multi-byte character.
        assert_eq!(decoded(b"s:1:\"\xc3\";"), json!({"base64": "ww=="}));
        assert_eq!(bytes_to_json(b"", BinaryMode::Hex), json!(""));
        assert_eq!(bytes_to_json("é".as_bytes(), UTF8), json!("é"));
    }

    #[test]
    fn string_with_quote_semicolon_inside() {
        assert_eq!(decoded(b"s:4:\"a\";b\";"), json!("a\";b"));
        assert_eq!(
            decoded(b"a:2:{i:0;s:4:\"x\";}\";i:1;s:2:\";\"\";}"),
            json!(["x\";}", ";\""])
        );
        assert_eq!(
            decoded(b"a:1:{s:3:\"\";}\";s:1:\"\n\";}"),
            json!({"\";}": "\n"})
        );
    }

    #[test]
    fn array_keys() {
        // Numeric string keys are integers, as in PHP.
        assert_eq!(
            decoded(b"a:2:{s:1:\"0\";s:1:\"a\";s:1:\"1\";s:1:\"b\";}"),
            json!(["a", "b"])
        );
        // Not canonical: string keys.
        assert_eq!(
            decoded(b"a:2:{s:2:\"00\";i:1;s:2:\"-0\";i:2;}"),
            json!({"00": 1, "-0": 2})
        );
        // Out of order, or not starting at 0: an object.
        assert_eq!(
            decoded(b"a:2:{i:1;s:1:\"b\";i:0;s:1:\"a\";}"),
            json!({"0": "a", "1": "b"})
        );
        assert_eq!(decoded(b"a:1:{i:1;N;}"), json!({"1": null}));
        assert_eq!(decoded(b"a:1:{i:-1;N;}"), json!({"-1": null}));
        assert_eq!(
            decoded(b"a:3:{i:0;i:1;i:1;i:2;s:1:\"x\";i:3;}"),
            json!({"0": 1, "1": 2, "x": 3})
        );
        // A repeated key overwrites in place.
        assert_eq!(
            decoded(b"a:3:{i:0;s:1:\"a\";i:1;s:1:\"b\";i:0;s:1:\"c\";}"),
            json!(["c", "b"])
        );
        assert_eq!(
            decoded(b"a:2:{s:1:\"k\";i:1;s:1:\"k\";i:2;}"),
            json!({"k": 2})
        );
        // A key that is not UTF-8 stays lossless.
        assert_eq!(
            decoded(b"a:1:{s:2:\"\xff\xfe\";i:1;}"),
            json!({"base64://4=": 1})
        );
        // Keys are names in every binary mode.
        assert_eq!(
            decode_log_params(b"a:1:{s:1:\"k\";s:1:\"v\";}", BinaryMode::Hex),
            LogParams::Decoded(json!({"k": "76"}))
        );
        assert_eq!(key_to_string(b"\xff"), "base64:/w==");
        // Keys must be integers or strings.
        assert_rejected(b"a:1:{N;N;}");
        assert_rejected(b"a:1:{d:1;N;}");
        assert_rejected(b"a:1:{b:1;N;}");
    }

    #[test]
    fn objects() {
        assert_eq!(
            decoded(b"O:8:\"stdClass\":2:{s:1:\"a\";i:1;s:1:\"b\";a:0:{}}"),
            json!({"__class": "stdClass", "a": 1, "b": []})
        );
        assert_eq!(decoded(b"O:3:\"Foo\":0:{}"), json!({"__class": "Foo"}));
        // Private (\0Class\0name) and protected (\0*\0name) properties.
        let raw = b"O:15:\"MediaWiki\\Title\":3:{s:9:\"\0*\0mDbkey\";s:4:\"Main\";\
s:27:\"\0MediaWiki\\Title\0mNamespace\";i:0;s:6:\"public\";b:1;}";
        assert_eq!(
            decoded(raw),
            json!({"__class": "MediaWiki\\Title", "mDbkey": "Main", "mNamespace": 0, "public": true})
        );
        // Integer property names, and a property that claims to be the class.
        assert_eq!(
            decoded(b"O:1:\"A\":2:{i:0;s:1:\"x\";s:7:\"__class\";s:1:\"y\";}"),
            json!({"__class": "A", "0": "x"})
        );
        // A lone NUL is not a visibility marker.
        assert_eq!(
            decoded(b"O:1:\"A\":1:{s:2:\"\0x\";N;}"),
            json!({"__class": "A", "\u{0}x": null})
        );
        assert_eq!(
            decoded(b"a:1:{i:0;O:1:\"B\":1:{s:1:\"p\";O:1:\"C\":0:{}}}"),
            json!([{"__class": "B", "p": {"__class": "C"}}])
        );
        // PHP checks class names.
        assert_rejected(b"O:3:\"a b\":0:{}");
        assert_rejected(b"O:1:\"A\":1:{N;N;}");
    }

    #[test]
    fn custom_serialized_and_enums() {
        assert_eq!(
            decoded(b"C:11:\"ArrayObject\":21:{x:i:0;a:0:{};m:a:0:{}}"),
            json!({"__class": "ArrayObject", "__serialized": "x:i:0;a:0:{};m:a:0:{}"})
        );
        assert_eq!(
            decoded(b"C:1:\"X\":2:{\xff}}"),
            json!({"__class": "X", "__serialized": {"base64": "/30="}})
        );
        assert_eq!(
            decode_log_params(b"C:1:\"X\":1:{z}", BinaryMode::Base64),
            LogParams::Decoded(json!({"__class": "X", "__serialized": "eg=="}))
        );
        assert_eq!(
            decoded(b"a:1:{s:1:\"e\";E:11:\"Suit:Hearts\";}"),
            json!({"e": {"__enum": "Suit:Hearts"}})
        );
        assert_rejected(b"C:1:\"X\":3:{z}");
        assert_rejected(b"E:4:\"Suit\";");
    }

    #[test]
    fn references_are_undecodable() {
        let raw = b"a:2:{i:0;s:1:\"x\";i:1;R:2;}";
        assert_eq!(decode_log_params(raw, UTF8), LogParams::Undecodable);
        assert_eq!(
            unserialize(raw, UTF8),
            Err(PhpError::Reference { offset: 21 })
        );
        assert_eq!(
            decode_log_params(b"a:2:{i:0;O:1:\"A\":0:{}i:1;r:2;}", UTF8),
            LogParams::Undecodable
        );
        // A reference to a value that does not exist: PHP rejects it.
        assert_rejected(b"a:1:{i:0;R:3;}");
        assert_rejected(b"a:1:{i:0;R:0;}");
        // A reference followed by a syntax error: PHP rejects it.
        assert_rejected(b"a:2:{i:0;R:1;i:1;x}");
        assert!(PhpError::Reference { offset: 0 }.php_accepts());
        assert!(!PhpError::Invalid { offset: 0 }.php_accepts());
    }

    #[test]
    fn legacy_newline_params() {
        assert_eq!(legacy(b"New_title\n1"), json!(["New_title", "1"]));
        assert_eq!(
            legacy(b"infinite\nnocreate,noautoblock"),
            json!(["infinite", "nocreate,noautoblock"])
        );
        assert_eq!(legacy(b"single"), json!(["single"]));
        assert_eq!(legacy(b"a\n\nb\n"), json!(["a", "", "b", ""]));
        assert_eq!(legacy(b"\xff\nx"), json!([{"base64": "/w=="}, "x"]));
        assert_eq!(
            decode_log_params(b"ab\ncd", BinaryMode::Hex),
            LogParams::Legacy(json!(["6162", "6364"]))
        );
        // Starts like a serialized value but is not one.
        assert_eq!(legacy(b"a:b"), json!(["a:b"]));
        assert_eq!(legacy(b"s:Foo\n1"), json!(["s:Foo", "1"]));
        assert!(decode_log_params(b"x", UTF8).is_legacy());
        assert_eq!(
            decode_log_params(b"x", UTF8).into_json(),
            Some(json!(["x"]))
        );
    }

    #[test]
    fn empty_input() {
        assert_eq!(decode_log_params(b"", UTF8), LogParams::Legacy(json!([])));
        assert_eq!(unserialize(b"", UTF8), Err(PhpError::Invalid { offset: 0 }));
    }

    #[test]
    fn malformed() {
        for raw in [
            &b"a"[..],
            b"a:",
            b"a:1",
            b"a:1:",
            b"a:1:{",
            b"a:1:{i:0;",
            b"a:1:{i:0;N;",
            b"a:2:{i:0;N;}",
            b"a:0:{i:0;N;}",
            b"a:-1:{}",
            b"s:5:\"abc\";",
            b"s:3:\"abc\"",
            b"s:3:\"abc;",
            b"s:3:abc;",
            b"s:-1:\"\";",
            b"s:2:\"abc\";",
            b"i:;",
            b"i:1",
            b"i:1.5;",
            b"i:-;",
            b"b:2;",
            b"b:;",
            b"N",
            b"N:",
            b"x:1;",
            b"S:1:\"\\g0\";",
            b"S:2:\"\\6\";",
            b"O:1:\"A\":1:{}",
            b"O:1:\"A\"",
            b"E:3:\"A:B\"",
            b"r:1;",
            b":",
            b"}",
        ] {
            assert_rejected(raw);
        }
        // Declared counts and lengths far beyond the input.
        assert_rejected(b"a:999999999999:{}");
        assert_rejected(b"a:2:{i:0;N;}");
        assert_rejected(b"O:1:\"A\":4294967295:{}");
        assert_rejected(b"s:18446744073709551615:\"\";");
        assert_rejected(b"s:99999999999999999999999999:\"\";");
        assert_rejected(b"C:1:\"A\":18446744073709551615:{}");
        assert_rejected(b"S:999999:\"\";");
    }

    #[test]
    fn trailing_bytes_are_undecodable() {
        // PHP ignores bytes after the value, so MediaWiki would read these as modern.
        assert_eq!(decode_log_params(b"a:0:{}x", UTF8), LogParams::Undecodable);
        assert_eq!(decode_log_params(b"N;N;", UTF8), LogParams::Undecodable);
        assert_eq!(decode_log_params(b"i:1;\n", UTF8), LogParams::Undecodable);
        assert_eq!(
            decode_log_params(b"a:1:{i:0;N;}}", UTF8),
            LogParams::Undecodable
        );
        assert_eq!(
            unserialize(b"a:0:{}x", UTF8),
            Err(PhpError::TrailingData { offset: 6 })
        );
        // Except after `false`, for which unserialize() fails.
        assert_eq!(legacy(b"b:0;\nx"), json!(["b:0;", "x"]));
    }

    fn nested(depth: usize, close: bool) -> Vec<u8> {
        let mut raw = b"a:1:{i:0;".repeat(depth - 1);
        raw.extend_from_slice(b"a:0:{}");
        if close {
            raw.extend(std::iter::repeat_n(b'}', depth - 1));
        }
        raw
    }

    #[test]
    fn depth() {
        let mut expected = json!([]);
        for _ in 1..MAX_DEPTH {
            expected = json!([expected]);
        }
        assert_eq!(decoded(&nested(MAX_DEPTH, true)), expected);
        assert_eq!(
            unserialize(&nested(MAX_DEPTH + 1, true), UTF8),
            Err(PhpError::TooDeep {
                offset: 9 * MAX_DEPTH
            })
        );
        assert_eq!(
            decode_log_params(&nested(MAX_DEPTH + 1, true), UTF8),
            LogParams::Undecodable
        );
        assert_eq!(
            decode_log_params(&nested(PHP_MAX_DEPTH, true), UTF8),
            LogParams::Undecodable
        );
        // Beyond PHP's limit, or unclosed: PHP rejects it. No recursion either way.
        assert!(decode_log_params(&nested(PHP_MAX_DEPTH + 1, true), UTF8).is_legacy());
        assert!(decode_log_params(&nested(100_000, true), UTF8).is_legacy());
        assert!(decode_log_params(&nested(100_000, false), UTF8).is_legacy());
        assert!(decode_log_params(&nested(MAX_DEPTH + 1, false), UTF8).is_legacy());
        let objects = b"O:1:\"A\":1:{s:1:\"p\";".repeat(50_000);
        assert!(decode_log_params(&objects, UTF8).is_legacy());
    }

    /// A PHP value, for the serializer below.
    #[derive(Debug, Clone)]
    enum Php {
        Null,
        Bool(bool),
        Int(i64),
        Float(f64),
        Str(Vec<u8>),
        Array(Vec<(PhpKey, Php)>),
        /// Class, and properties as (visibility, name, value); names are distinct.
        Object(String, Vec<(Visibility, String, Php)>),
    }

    #[derive(Debug, Clone)]
    enum PhpKey {
        Int(i64),
        Str(Vec<u8>),
    }

    #[derive(Debug, Clone, Copy)]
    enum Visibility {
        Public,
        Protected,
        Private,
    }

    fn serialize_str(tag: &str, bytes: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{tag}:{}:\"", bytes.len()).as_bytes());
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\";");
    }

    /// PHP's serialize().
    fn serialize(value: &Php, out: &mut Vec<u8>) {
        match value {
            Php::Null => out.extend_from_slice(b"N;"),
            Php::Bool(b) => out.extend_from_slice(if *b { b"b:1;" } else { b"b:0;" }),
            Php::Int(i) => out.extend_from_slice(format!("i:{i};").as_bytes()),
            Php::Float(f) => out.extend_from_slice(format!("d:{f:?};").as_bytes()),
            Php::Str(s) => serialize_str("s", s, out),
            Php::Array(entries) => {
                out.extend_from_slice(format!("a:{}:{{", entries.len()).as_bytes());
                for (key, value) in entries {
                    match key {
                        PhpKey::Int(i) => out.extend_from_slice(format!("i:{i};").as_bytes()),
                        PhpKey::Str(s) => serialize_str("s", s, out),
                    }
                    serialize(value, out);
                }
                out.push(b'}');
            }
            Php::Object(class, props) => {
                out.extend_from_slice(
                    format!("O:{}:\"{class}\":{}:{{", class.len(), props.len()).as_bytes(),
                );
                for (visibility, name, value) in props {
                    let mangled = match visibility {
                        Visibility::Public => name.clone(),
                        Visibility::Protected => format!("\0*\0{name}"),
                        Visibility::Private => format!("\0{class}\0{name}"),
                    };
                    serialize_str("s", mangled.as_bytes(), out);
                    serialize(value, out);
                }
                out.push(b'}');
            }
        }
    }

    /// The JSON a PHP value is expected to decode to (keys are never numeric strings and
    /// never repeat, by construction).
    fn expected(value: &Php, mode: BinaryMode) -> Value {
        let string = |s: &[u8]| match mode {
            BinaryMode::Utf8 => match String::from_utf8(s.to_vec()) {
                Ok(s) => json!(s),
                Err(_) => json!({"base64": base64(s)}),
            },
            BinaryMode::Base64 => json!(base64(s)),
            BinaryMode::Hex => json!(s.iter().map(|b| format!("{b:02x}")).collect::<String>()),
        };
        match value {
            Php::Null => Value::Null,
            Php::Bool(b) => json!(b),
            Php::Int(i) => json!(i),
            Php::Float(f) => json!(f),
            Php::Str(s) => string(s),
            Php::Array(entries) => {
                let is_list = entries
                    .iter()
                    .enumerate()
                    .all(|(i, (k, _))| matches!(k, PhpKey::Int(k) if usize::try_from(*k) == Ok(i)));
                if is_list {
                    Value::Array(entries.iter().map(|(_, v)| expected(v, mode)).collect())
                } else {
                    let mut map = Map::new();
                    for (key, value) in entries {
                        let key = match key {
                            PhpKey::Int(i) => i.to_string(),
                            PhpKey::Str(s) => match String::from_utf8(s.clone()) {
                                Ok(s) => s,
                                Err(_) => format!("base64:{}", base64(s)),
                            },
                        };
                        map.insert(key, expected(value, mode));
                    }
                    Value::Object(map)
                }
            }
            Php::Object(class, props) => {
                let mut map = Map::new();
                map.insert("__class".to_owned(), json!(class));
                for (_, name, value) in props {
                    map.insert(name.clone(), expected(value, mode));
                }
                Value::Object(map)
            }
        }
    }

    fn php_value() -> impl Strategy<Value = Php> {
        let leaf = prop_oneof![
            Just(Php::Null),
            any::<bool>().prop_map(Php::Bool),
            any::<i64>().prop_map(Php::Int),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Php::Float),
            prop::collection::vec(any::<u8>(), 0..12).prop_map(Php::Str),
            "[a-zé日😀\";:{}\n ]{0,8}".prop_map(|s| Php::Str(s.into_bytes())),
        ];
        leaf.prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(|items| Php::Array(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (PhpKey::Int(i as i64), v))
                        .collect()
                )),
                prop::collection::btree_map(-3i64..6, inner.clone(), 0..6).prop_map(|m| {
                    Php::Array(m.into_iter().map(|(k, v)| (PhpKey::Int(k), v)).collect())
                }),
                prop::collection::btree_map(
                    "[a-zé:_\";]{1,6}|[\\x80-\\xff]{1,3}",
                    inner.clone(),
                    0..6
                )
                .prop_map(|m| {
                    Php::Array(
                        m.into_iter()
                            .map(|(k, v)| (PhpKey::Str(k.into_bytes()), v))
                            .collect(),
                    )
                }),
                prop::collection::btree_map(
                    "[a-z]{1,5}",
                    (
                        prop_oneof![
                            Just(Visibility::Public),
                            Just(Visibility::Protected),
                            Just(Visibility::Private)
                        ],
                        inner
                    ),
                    0..5
                )
                .prop_flat_map(|props| ("[A-Z][A-Za-z_]{0,6}", Just(props)))
                .prop_map(|(class, props)| Php::Object(
                    class,
                    props.into_iter().map(|(n, (vis, v))| (vis, n, v)).collect()
                )),
            ]
        })
    }

    fn binary_mode() -> impl Strategy<Value = BinaryMode> {
        prop_oneof![
            Just(BinaryMode::Utf8),
            Just(BinaryMode::Base64),
            Just(BinaryMode::Hex)
        ]
    }

    /// Pieces of serialize() output, to get deeper into the parser than random bytes do.
    fn serialize_like() -> impl Strategy<Value = Vec<u8>> {
        const TOKENS: &[&[u8]] = &[
            b"a:",
            b"O:1:\"A\":",
            b"C:1:\"A\":",
            b"E:3:\"A:B\";",
            b"s:",
            b"S:",
            b"i:",
            b"d:",
            b"b:1;",
            b"N;",
            b"r:1;",
            b"R:1;",
            b"0",
            b"1",
            b"2",
            b"99999999999999999999",
            b"INF",
            b".",
            b"e",
            b"-",
            b":",
            b";",
            b"{",
            b"}",
            b"\"",
            b"\\",
            b"\n",
            b"\xff",
        ];
        let token = prop::sample::select(TOKENS);
        prop::collection::vec(token, 0..40).prop_map(|tokens| tokens.concat())
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..256), mode in binary_mode()) {
            let params = decode_log_params(&raw, mode);
            if let LogParams::Legacy(v) = params {
                prop_assert_eq!(v, legacy_params(&raw, mode));
            }
            let _ = unserialize(&raw, mode);
        }

        #[test]
        fn serialize_like_input_never_panics(raw in serialize_like(), mode in binary_mode()) {
            let params = decode_log_params(&raw, mode);
            match unserialize(&raw, mode) {
                Ok(Value::Bool(false)) | Err(PhpError::Invalid { .. }) => {
                    prop_assert_eq!(params, LogParams::Legacy(legacy_params(&raw, mode)));
                }
                Ok(v) => prop_assert_eq!(params, LogParams::Decoded(v)),
                Err(_) => prop_assert_eq!(params, LogParams::Undecodable),
            }
        }

        #[test]
        fn plain_text_is_legacy(
            lines in prop::collection::vec(
                prop::collection::vec(any::<u8>().prop_filter("no separators", |b| !b":;\n".contains(b)), 0..10),
                1..5,
            ),
        ) {
            let raw = lines.join(&b'\n');
            let expected = if raw.is_empty() {
                json!([])
            } else {
                Value::Array(lines.iter().map(|l| bytes_to_json(l, UTF8)).collect())
            };
            prop_assert_eq!(decode_log_params(&raw, UTF8), LogParams::Legacy(expected));
        }

        #[test]
        fn serialized_values_round_trip(value in php_value(), mode in binary_mode(), cut in any::<prop::sample::Index>()) {
            let mut raw = Vec::new();
            serialize(&value, &mut raw);
            let json = expected(&value, mode);
            prop_assert_eq!(unserialize(&raw, mode), Ok(json.clone()));
            if json == Value::Bool(false) {
                prop_assert!(decode_log_params(&raw, mode).is_legacy());
            } else {
                prop_assert_eq!(decode_log_params(&raw, mode), LogParams::Decoded(json));
            }
            // Any proper prefix is not serialize() output.
            let cut = cut.index(raw.len());
            let invalid = matches!(unserialize(&raw[..cut], mode), Err(PhpError::Invalid { .. }));
            prop_assert!(invalid);
            prop_assert!(decode_log_params(&raw[..cut], mode).is_legacy());
        }
    }
}
