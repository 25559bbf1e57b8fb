//! Which tables are captured: `db.table` glob patterns to include and exclude.

/// A table filter. A table is captured when it matches an include pattern and no exclude
/// pattern. Patterns are `db.table` globs where `*` matches any run of characters (dots
/// included) and `?` one character; matching is case-sensitive, as table names are on Linux.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFilter {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl TableFilter {
    /// The default include list: MediaWiki's revision, archive and logging tables in every
    /// database.
    pub const DEFAULT_INCLUDE: [&'static str; 3] = ["*.revision", "*.archive", "*.logging"];

    /// A filter from include and exclude patterns.
    pub fn new(include: Vec<String>, exclude: Vec<String>) -> Self {
        Self { include, exclude }
    }

    /// Whether `db.table` is captured.
    pub fn captures(&self, db: &str, table: &str) -> bool {
        let name = format!("{db}.{table}");
        self.include
            .iter()
            .any(|p| glob(p.as_bytes(), name.as_bytes()))
            && !self
                .exclude
                .iter()
                .any(|p| glob(p.as_bytes(), name.as_bytes()))
    }
}

/// Whether `text` matches the glob `pattern` (`*` any run of bytes, `?` one byte).
pub fn glob(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative matcher with single-star backtracking: linear in practice, no recursion.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(include: &[&str], exclude: &[&str]) -> TableFilter {
        TableFilter::new(
            include.iter().map(|s| s.to_string()).collect(),
            exclude.iter().map(|s| s.to_string()).collect(),
        )
    }

    #[test]
    fn default_include_captures_mediawiki_tables_in_every_database() {
        let f = filter(&TableFilter::DEFAULT_INCLUDE, &[]);
        assert!(f.captures("enwiki", "revision"));
        assert!(f.captures("dewiki", "logging"));
        assert!(f.captures("x", "archive"));
        assert!(!f.captures("enwiki", "page"));
        assert!(!f.captures("enwiki", "revision_actor_temp"));
    }

    #[test]
    fn exclude_wins_and_globs_work() {
        let f = filter(&["*wiki.*", "test.t?"], &["private*.*", "*.user"]);
        assert!(f.captures("enwiki", "page"));
        assert!(!f.captures("enwiki", "user"));
        assert!(!f.captures("privatewiki", "page"));
        assert!(f.captures("test", "t1"));
        assert!(!f.captures("test", "t12"));
        assert!(!f.captures("enwikt", "page"));
    }

    #[test]
    fn star_backtracks() {
        assert!(glob(b"*a*b", b"xaaab"));
        assert!(!glob(b"*a*b", b"xaaa"));
        assert!(glob(b"**", b""));
    }
}
