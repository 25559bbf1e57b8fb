//! Binlog coordinates (file and offset) and their order within one server's binlog: how a
//! chunk's read position is compared with what the stream has published.

use std::cmp::Ordering;
use std::sync::Arc;

/// A place in a server's binlog: a file and a byte offset in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordinates {
    /// The binlog file, `<base>.<sequence>` (`mariadb-bin.000012`).
    pub file: Arc<str>,
    /// The byte offset in `file`.
    pub pos: u64,
}

impl Coordinates {
    /// The order of two places of one binlog: by the file's sequence number, then by offset.
    /// `None` when the files are not of one binlog (different base names, or a name without a
    /// numeric sequence), as after a failover to another server.
    pub fn compare(&self, other: &Coordinates) -> Option<Ordering> {
        let (base, seq) = split(&self.file)?;
        let (other_base, other_seq) = split(&other.file)?;
        (base == other_base).then(|| (seq, self.pos).cmp(&(other_seq, other.pos)))
    }
}

impl std::fmt::Display for Coordinates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.pos)
    }
}

/// A binlog file name's base and sequence number.
fn split(file: &str) -> Option<(&str, u64)> {
    let (base, seq) = file.rsplit_once('.')?;
    Some((base, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str, pos: u64) -> Coordinates {
        Coordinates {
            file: file.into(),
            pos,
        }
    }

    #[test]
    fn places_are_ordered_by_file_sequence_then_offset() {
        let a = at("mariadb-bin.000009", 900);
        assert_eq!(
            a.compare(&at("mariadb-bin.000009", 900)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            a.compare(&at("mariadb-bin.000009", 901)),
            Some(Ordering::Less)
        );
        // The sequence is a number: 10 follows 9 whatever the offsets.
        assert_eq!(
            a.compare(&at("mariadb-bin.000010", 4)),
            Some(Ordering::Less)
        );
        assert_eq!(
            at("mariadb-bin.1000000", 4).compare(&at("mariadb-bin.999999", 9)),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn places_of_different_binlogs_have_no_order() {
        let a = at("mariadb-bin.000009", 900);
        assert_eq!(a.compare(&at("other-bin.000009", 900)), None);
        assert_eq!(a.compare(&at("mariadb-bin", 900)), None);
        assert_eq!(at("x.y", 1).compare(&at("x.y", 1)), None);
    }
}
