//! Collation ids to character encodings, for converting text columns to UTF-8.

use std::collections::HashMap;

use encoding_rs::Encoding;

/// The collation id of the `binary` character set.
pub const BINARY_COLLATION: u16 = 63;

/// How the bytes of a string column are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// The `binary` character set (BINARY, VARBINARY, BLOB): bytes, not text.
    Binary,
    /// UTF-8 (`utf8mb3`, `utf8mb4`) or ASCII: the bytes are already UTF-8 when valid.
    Utf8,
    /// UTF-32 big-endian (`utf32`), which encoding_rs does not cover.
    Utf32,
    /// Another character set, converted with encoding_rs.
    Other(&'static Encoding),
    /// A character set this build cannot convert: values are carried as bytes.
    Unknown,
}

impl TextEncoding {
    /// The encoding for a character set name as the server spells it (`utf8mb4`, `latin1`).
    pub fn for_charset(name: &str) -> Self {
        let label = match name {
            "binary" => return Self::Binary,
            "utf8" | "utf8mb3" | "utf8mb4" | "ascii" => return Self::Utf8,
            "utf32" => return Self::Utf32,
            // MySQL's latin1 is Windows-1252, not ISO-8859-1.
            "latin1" => "windows-1252",
            "latin2" => "iso-8859-2",
            "latin5" => "windows-1254",
            "latin7" => "iso-8859-13",
            "cp1250" => "windows-1250",
            "cp1251" => "windows-1251",
            "cp1256" => "windows-1256",
            "cp1257" => "windows-1257",
            "cp866" => "ibm866",
            "greek" => "iso-8859-7",
            "hebrew" => "iso-8859-8",
            "koi8r" => "koi8-r",
            "koi8u" => "koi8-u",
            "sjis" | "cp932" => "shift_jis",
            "ujis" | "eucjpms" => "euc-jp",
            "euckr" => "euc-kr",
            "gbk" | "gb2312" => "gbk",
            "gb18030" => "gb18030",
            "big5" => "big5",
            "tis620" => "windows-874",
            "macroman" => "macintosh",
            "ucs2" | "utf16" => "utf-16be",
            "utf16le" => "utf-16le",
            _ => return Self::Unknown,
        };
        Encoding::for_label(label.as_bytes()).map_or(Self::Unknown, Self::Other)
    }

    /// Converts a value's bytes to UTF-8. `None` when the bytes are binary, not valid in the
    /// character set, or in a character set this build cannot convert: the caller keeps them
    /// as bytes, so nothing is lost.
    pub fn decode(self, bytes: &[u8]) -> Option<String> {
        match self {
            Self::Binary | Self::Unknown => None,
            Self::Utf8 => std::str::from_utf8(bytes).ok().map(str::to_owned),
            Self::Utf32 => {
                if !bytes.len().is_multiple_of(4) {
                    return None;
                }
                bytes
                    .chunks_exact(4)
                    .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                    .collect()
            }
            Self::Other(enc) => enc
                .decode_without_bom_handling_and_without_replacement(bytes)
                .map(|s| s.into_owned()),
        }
    }
}

/// Collation id to character set, from a built-in table of MySQL's and MariaDB's fixed ids,
/// extended with what the server reports in `information_schema.COLLATIONS`.
#[derive(Debug, Clone, Default)]
pub struct Collations {
    server: HashMap<u16, TextEncoding>,
}

impl Collations {
    /// Adds the server's own collation list (`ID`, `CHARACTER_SET_NAME`), which also covers
    /// ids the built-in table does not know (MariaDB's UCA 14 collations, say).
    pub fn with_server_collations<I, S>(list: I) -> Self
    where
        I: IntoIterator<Item = (u16, S)>,
        S: AsRef<str>,
    {
        Self {
            server: list
                .into_iter()
                .map(|(id, cs)| (id, TextEncoding::for_charset(cs.as_ref())))
                .collect(),
        }
    }

    /// The encoding of a collation id.
    pub fn encoding(&self, collation: u16) -> TextEncoding {
        if let Some(enc) = self.server.get(&collation) {
            return *enc;
        }
        builtin_charset(collation).map_or(TextEncoding::Unknown, TextEncoding::for_charset)
    }
}

fn builtin_charset(id: u16) -> Option<&'static str> {
    Some(match id {
        63 => "binary",
        45 | 46 | 224..=247 | 255 | 303..=323 => "utf8mb4",
        33 | 83 | 76 | 192..=215 | 223 => "utf8mb3",
        5 | 8 | 15 | 31 | 47 | 48 | 49 | 94 => "latin1",
        11 | 65 => "ascii",
        9 | 21 | 27 | 77 | 2 => "latin2",
        26 | 34 | 44 | 66 | 99 => "cp1250",
        14 | 23 | 50 | 51 | 52 => "cp1251",
        57 | 67 => "cp1256",
        29 | 58 | 59 => "cp1257",
        25 | 70 => "greek",
        16 | 71 => "hebrew",
        7 | 74 => "koi8r",
        22 | 75 => "koi8u",
        13 | 88 => "sjis",
        95 | 96 => "cp932",
        12 | 91 => "ujis",
        97 | 98 => "eucjpms",
        19 | 85 => "euckr",
        28 | 87 => "gbk",
        24 | 86 => "gb2312",
        248..=250 => "gb18030",
        1 | 84 => "big5",
        18 | 89 => "tis620",
        30 | 78 => "latin5",
        20 | 41 | 42 | 79 => "latin7",
        36 | 68 => "cp866",
        39 | 53 => "macroman",
        35 | 90 | 128..=151 | 159 => "ucs2",
        54 | 55 | 101..=124 => "utf16",
        56 | 62 => "utf16le",
        60 | 61 | 160..=183 => "utf32",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_common_charsets() {
        let c = Collations::default();
        assert_eq!(c.encoding(63), TextEncoding::Binary);
        assert_eq!(
            c.encoding(255).decode("Zürich".as_bytes()).unwrap(),
            "Zürich"
        );
        assert_eq!(c.encoding(8).decode(&[0x5a, 0xfc, 0x80]).unwrap(), "Zü€");
        assert_eq!(
            c.encoding(60)
                .decode(&[0, 0, 0, 0x41, 0, 1, 0xf6, 0])
                .unwrap(),
            "A😀"
        );
        assert_eq!(c.encoding(54).decode(&[0, 0x41]).unwrap(), "A");
    }

    #[test]
    fn invalid_or_unknown_bytes_are_not_converted() {
        let c = Collations::default();
        assert_eq!(c.encoding(45).decode(&[0xff, 0xfe]), None);
        assert_eq!(c.encoding(63).decode(b"abc"), None);
        assert_eq!(c.encoding(9999), TextEncoding::Unknown);
        let server = Collations::with_server_collations([(9999u16, "latin1")]);
        assert_eq!(server.encoding(9999).decode(&[0xe9]).unwrap(), "é");
    }
}
