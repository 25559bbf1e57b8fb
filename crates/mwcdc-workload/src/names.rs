//! Generated names: page titles, comments, namespaces and user names.
//!
//! Titles and comments are mostly ASCII, about 20% carry non-ASCII UTF-8 and about 3% an
//! invalid UTF-8 sequence, since MediaWiki's binary columns guarantee no encoding.

use rand::{rngs::StdRng, seq::IndexedRandom, Rng};

/// The namespaces pages are created in, with their canonical names and weights.
const NAMESPACES: [(i32, &str, u32); 4] = [
    (0, "", 70),
    (1, "Talk", 15),
    (2, "User", 5),
    (4, "Project", 10),
];

/// The namespace of user pages, where `rights/rights` log rows point.
pub const USER_NAMESPACE: i32 = 2;

const ASCII_WORDS: [&str; 24] = [
    "river", "station", "alpha", "garden", "library", "mountain", "bridge", "castle", "harbor",
    "forest", "museum", "valley", "island", "church", "market", "tower", "lake", "railway",
    "school", "park", "street", "history", "battle", "festival",
];

const UTF8_WORDS: [&str; 10] = [
    "Zürich",
    "Straße",
    "東京",
    "Москва",
    "Ελλάδα",
    "Café",
    "Kraków",
    "São",
    "Ørsted",
    "naïve",
];

/// Invalid UTF-8: a lone 0xFF, a two-byte lead without continuation, a truncated 3-byte form.
const INVALID_FRAGMENTS: [&[u8]; 3] = [b"\xff", b"\xc3(", b"\xe6\x9d"];

const COMMENT_PHRASES: [&str; 10] = [
    "fix typo",
    "expand section",
    "add source",
    "revert vandalism",
    "update infobox",
    "copyedit",
    "per talk page discussion",
    "cleanup",
    "new article",
    "tidy references",
];

/// The kind of text a generated name gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    Ascii,
    Utf8,
    Invalid,
}

fn flavor(rng: &mut StdRng) -> Flavor {
    match rng.random_range(0..100) {
        0..3 => Flavor::Invalid,
        3..23 => Flavor::Utf8,
        _ => Flavor::Ascii,
    }
}

/// Words joined by `separator`: 1 to 3 ASCII words, one of them replaced by a non-ASCII word
/// or followed by an invalid fragment, as the flavor says.
fn words(rng: &mut StdRng, separator: &[u8], flavor: Flavor) -> Vec<u8> {
    let count = rng.random_range(1..=3);
    let special = rng.random_range(0..count);
    let mut out = Vec::new();
    for index in 0..count {
        if index > 0 {
            out.extend_from_slice(separator);
        }
        let word = ASCII_WORDS.choose(rng).copied().unwrap_or("page");
        match flavor {
            Flavor::Utf8 if index == special => {
                out.extend_from_slice(UTF8_WORDS.choose(rng).copied().unwrap_or("Café").as_bytes())
            }
            _ => out.extend_from_slice(word.as_bytes()),
        }
        if flavor == Flavor::Invalid && index == special {
            out.extend_from_slice(INVALID_FRAGMENTS.choose(rng).copied().unwrap_or(b"\xff"));
        }
    }
    out
}

/// A page title in MediaWiki's DB key form: underscores, first letter upper case.
pub fn title(rng: &mut StdRng) -> Vec<u8> {
    let flavor = flavor(rng);
    let mut out = words(rng, b"_", flavor);
    out[0] = out[0].to_ascii_uppercase();
    if rng.random_bool(0.3) {
        let year = rng.random_range(1800..2030);
        out.extend_from_slice(format!("_({year})").as_bytes());
    }
    out
}

/// An edit or log comment; occasionally empty, as MediaWiki allows.
pub fn comment(rng: &mut StdRng) -> Vec<u8> {
    if rng.random_bool(0.05) {
        return Vec::new();
    }
    let flavor = flavor(rng);
    let mut out = COMMENT_PHRASES
        .choose(rng)
        .copied()
        .unwrap_or("edit")
        .as_bytes()
        .to_vec();
    if flavor != Flavor::Ascii || rng.random_bool(0.3) {
        out.extend_from_slice(b": ");
        out.extend_from_slice(&words(rng, b" ", flavor));
    }
    out
}

/// A namespace for a new page, by weight.
pub fn namespace(rng: &mut StdRng) -> i32 {
    let total: u32 = NAMESPACES.iter().map(|&(_, _, weight)| weight).sum();
    let mut pick = rng.random_range(0..total);
    for (ns, _, weight) in NAMESPACES {
        if pick < weight {
            return ns;
        }
        pick -= weight;
    }
    0
}

/// The title as MediaWiki's `getPrefixedText()` shows it: `Talk:Foo bar` (spaces, not
/// underscores), the namespace name omitted for the main namespace.
pub fn prefixed_text(ns: i32, title: &[u8]) -> Vec<u8> {
    let name = NAMESPACES
        .iter()
        .find(|&&(id, _, _)| id == ns)
        .map_or("", |&(_, name, _)| name);
    let mut out = Vec::with_capacity(name.len() + 1 + title.len());
    if !name.is_empty() {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
    }
    out.extend(title.iter().map(|&b| if b == b'_' { b' ' } else { b }));
    out
}

/// The name of user `id` (ASCII, DB key form), e.g. `User_3`.
pub fn user_name(id: u32) -> String {
    format!("User_{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn title_mix_is_mostly_ascii_some_utf8_a_few_invalid() {
        let mut rng = StdRng::seed_from_u64(7);
        let (mut ascii, mut utf8, mut invalid) = (0, 0, 0);
        for _ in 0..10_000 {
            let title = title(&mut rng);
            assert!(!title.is_empty() && title.len() <= 255);
            assert!(!title.contains(&b' '), "titles use underscores");
            assert!(!title[0].is_ascii_lowercase(), "first letter upper case");
            match std::str::from_utf8(&title) {
                Err(_) => invalid += 1,
                Ok(text) if text.is_ascii() => ascii += 1,
                Ok(_) => utf8 += 1,
            }
        }
        assert!((7_300..8_300).contains(&ascii), "ascii {ascii}");
        assert!((1_600..2_400).contains(&utf8), "utf8 {utf8}");
        assert!((150..450).contains(&invalid), "invalid {invalid}");
    }

    #[test]
    fn same_seed_same_titles() {
        let mut a = StdRng::seed_from_u64(42);
        let mut b = StdRng::seed_from_u64(42);
        for _ in 0..100 {
            assert_eq!(title(&mut a), title(&mut b));
            assert_eq!(comment(&mut a), comment(&mut b));
        }
    }

    #[test]
    fn prefixed_text_uses_spaces_and_namespace_names() {
        assert_eq!(prefixed_text(0, b"Foo_bar"), b"Foo bar");
        assert_eq!(
            prefixed_text(1, "Zürich_x".as_bytes()),
            "Talk:Zürich x".as_bytes()
        );
        assert_eq!(prefixed_text(4, b"A\xff_b"), b"Project:A\xff b");
    }

    #[test]
    fn namespaces_are_known() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..1_000 {
            let ns = namespace(&mut rng);
            assert!(NAMESPACES.iter().any(|&(id, _, _)| id == ns));
        }
    }
}
