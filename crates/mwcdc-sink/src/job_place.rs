//! Where a record stands in a snapshot job: the `mwcdc.snapshot` header, and how an
//! exactly-once replay compares a snapshot row with what a partition already holds.
//!
//! A job reads its tables in `db.table` order and each by its key, so the snapshot records
//! a run sends to one partition are in (table, key) order. A chunk read again after a restart
//! goes out at another stream position, and may hold other rows than the first read (rows
//! inserted or deleted in between), so neither its position nor a record's index in it says
//! whether a row is already written; its table and key do. Every record carries, while a job
//! runs, how far the job had got in that order when the record was sent:
//!
//! - a snapshot record, its own table and key: `{"job":"initial","table":"enwiki.page","key":[12]}`;
//! - any other record, the job's progress before it (the last key published in the table
//!   being read, none yet when empty): `{"job":"initial","table":"enwiki.page","after":[12]}`,
//!   or `{"job":"initial","done":true}` once the last chunk went out.
//!
//! A replayed snapshot row is already in its partition when the partition's last record
//! says the job had got to or past the row's table and key. A row that is not there yet (a
//! row of the range inserted since the first read) is not written again: the stream carries
//! its insert, which is later than the first read.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// A record's place in a snapshot job, as the pipeline gives it to the sink: the text of its
/// `mwcdc.snapshot` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobPlace<'a> {
    /// A row a snapshot read: the header names the job, the row's table and its key.
    Read(&'a str),
    /// A record of the binlog stream while a job is not done for good: the header names how
    /// far the job had got when the record was sent.
    Progress(&'a str),
}

impl<'a> JobPlace<'a> {
    /// The header's text.
    pub fn text(self) -> &'a str {
        match self {
            JobPlace::Read(text) | JobPlace::Progress(text) => text,
        }
    }

    /// The header of a snapshot record of `job`, table `table` (`db.table`), whose key is
    /// `key` (a JSON array in the snapshot cursor's encoding).
    pub fn read_header(job: &str, table: &str, key: &str) -> String {
        Self::read_header_from(&Self::read_header_prefix(job, table), key)
    }

    /// The start of [`JobPlace::read_header`]'s text, the same for every row of a table.
    pub fn read_header_prefix(job: &str, table: &str) -> String {
        let quote = |s: &str| Json::String(s.to_owned()).to_string();
        format!(r#"{{"job":{},"table":{},"key":"#, quote(job), quote(table))
    }

    /// [`JobPlace::read_header`] from its start ([`JobPlace::read_header_prefix`]).
    pub fn read_header_from(prefix: &str, key: &str) -> String {
        let mut text = String::with_capacity(prefix.len() + key.len() + 1);
        text.push_str(prefix);
        text.push_str(key);
        text.push('}');
        text
    }

    /// The header of a stream record sent when job `job` had got as far as `progress`.
    pub fn progress_header(job: &str, progress: JobProgress<'_>) -> String {
        let mut mark = Mark {
            job: job.to_owned(),
            table: None,
            key: None,
            after: None,
            done: false,
        };
        match progress {
            JobProgress::NotBegun => {}
            JobProgress::Reading { table, after } => {
                mark.table = Some(table.to_owned());
                mark.after = Some(after.to_vec());
            }
            JobProgress::Done => mark.done = true,
        }
        serde_json::to_string(&mark).unwrap_or_default()
    }
}

/// How far a job had got when a stream record was sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JobProgress<'a> {
    /// No row is published yet.
    NotBegun,
    /// The tables before `table` are published, and its rows up to the key `after` (none of
    /// them when it is empty).
    Reading {
        /// The table being read, `db.table`.
        table: &'a str,
        /// The last key published in it, in the snapshot cursor's encoding.
        after: &'a [Json],
    },
    /// Every table is published.
    Done,
}

/// A `mwcdc.snapshot` header, parsed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// The job.
    pub job: String,
    /// The table (`db.table`) of a snapshot record, or being read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// A snapshot record's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Vec<Json>>,
    /// For another record, the last key of `table` published before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Vec<Json>>,
    /// Whether every table of the job was published before the record.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub done: bool,
}

impl Mark {
    /// Parses a header's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("{text:?} is not a snapshot place: {e}"))
    }

    /// The header of a stream record sent when the job had got as far as this mark says.
    pub fn as_progress(&self) -> String {
        let after = self.key.as_deref().or(self.after.as_deref()).unwrap_or(&[]);
        let progress = match &self.table {
            _ if self.done => JobProgress::Done,
            Some(table) => JobProgress::Reading { table, after },
            None => JobProgress::NotBegun,
        };
        JobPlace::progress_header(&self.job, progress)
    }

    /// Whether this is a snapshot record's own place (not the job's progress).
    pub fn is_read(&self) -> bool {
        self.key.is_some()
    }

    /// Whether a partition whose last record has this mark already holds the snapshot row
    /// `read` (the mark of a record being replayed): the job had got to or past its table and
    /// key. An error says that the keys cannot be ordered.
    pub fn holds(&self, read: &Mark) -> Result<bool, String> {
        let (Some(table), Some(key)) = (&read.table, &read.key) else {
            return Err(format!("{read:?} is not a snapshot row's place"));
        };
        if self.job != read.job {
            return Ok(false);
        }
        if self.done {
            return Ok(true);
        }
        let Some(reached) = &self.table else {
            return Ok(false);
        };
        match table.as_str().cmp(reached.as_str()) {
            Ordering::Less => Ok(true),
            Ordering::Greater => Ok(false),
            Ordering::Equal => match self.key.as_ref().or(self.after.as_ref()) {
                Some(bound) if !bound.is_empty() => {
                    Ok(mwcdc_change::cursor::compare(key, bound)? != Ordering::Greater)
                }
                _ => Ok(false),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(text: &str) -> Mark {
        Mark::parse(text).unwrap()
    }

    /// The header of a stream record sent while job `initial` reads `table`.
    fn reading(table: &str, after: &[Json]) -> String {
        JobPlace::progress_header("initial", JobProgress::Reading { table, after })
    }

    #[test]
    fn headers_are_the_marks_they_describe() {
        let read = mark(&JobPlace::read_header("initial", "enwiki.page", "[12]"));
        assert!(read.is_read());
        assert_eq!(read.key, Some(vec![Json::from(12)]));
        let progress = mark(&reading("enwiki.page", &[Json::from(3)]));
        assert!(!progress.is_read());
        assert_eq!(progress.table.as_deref(), Some("enwiki.page"));
        assert_eq!(progress.after, Some(vec![Json::from(3)]));
        let done = JobPlace::progress_header("initial", JobProgress::Done);
        assert_eq!(done, r#"{"job":"initial","done":true}"#);
        let fresh = JobPlace::progress_header("initial", JobProgress::NotBegun);
        assert_eq!(fresh, r#"{"job":"initial"}"#);
        assert_eq!(mark(&fresh).as_progress(), fresh);
        // A snapshot record's place, as a stream record's: the rows up to it are published.
        assert_eq!(
            read.as_progress(),
            r#"{"job":"initial","table":"enwiki.page","after":[12]}"#
        );
        assert_eq!(mark(&done).as_progress(), done);
        // A job or table name is quoted as JSON.
        let odd = mark(&JobPlace::read_header("a\"b", "w.t", "[1]"));
        assert_eq!(odd.job, "a\"b");
    }

    #[test]
    fn a_partition_holds_the_rows_up_to_its_last_records_place() {
        let row = |table: &str, key: u64| {
            mark(&JobPlace::read_header(
                "initial",
                table,
                &format!("[{key}]"),
            ))
        };
        let at_page_12 = row("enwiki.page", 12);
        let reading_page_after_12 = mark(&reading("enwiki.page", &[Json::from(12)]));
        let page_not_begun = mark(&reading("enwiki.page", &[]));
        let done = mark(&JobPlace::progress_header("initial", JobProgress::Done));
        let fresh = mark(&JobPlace::progress_header("initial", JobProgress::NotBegun));
        assert!(!fresh.holds(&row("aawiki.archive", 1)).unwrap());
        for end in [&at_page_12, &reading_page_after_12] {
            assert!(end.holds(&row("enwiki.page", 12)).unwrap());
            assert!(end.holds(&row("enwiki.page", 9)).unwrap());
            assert!(!end.holds(&row("enwiki.page", 13)).unwrap());
            assert!(end.holds(&row("enwiki.archive", 99)).unwrap());
            assert!(!end.holds(&row("enwiki.revision", 1)).unwrap());
            assert!(!end.holds(&row("frwiki.archive", 1)).unwrap());
        }
        assert!(page_not_begun.holds(&row("enwiki.archive", 5)).unwrap());
        assert!(!page_not_begun.holds(&row("enwiki.page", 1)).unwrap());
        assert!(done.holds(&row("zzwiki.user_groups", u64::MAX)).unwrap());
        // Another job's records say nothing of this one's.
        let other = mark(&JobPlace::read_header("other", "enwiki.page", "[12]"));
        assert!(!other.holds(&row("enwiki.page", 1)).unwrap());
    }

    #[test]
    fn keys_that_cannot_be_ordered_are_an_error_not_a_guess() {
        let end = mark(r#"{"job":"j","table":"w.t","key":[{"text":"b"}]}"#);
        let read = mark(r#"{"job":"j","table":"w.t","key":[{"text":"a"}]}"#);
        assert!(end.holds(&read).is_err());
        let progress = mark(r#"{"job":"j","table":"w.t","after":[1]}"#);
        assert!(progress.holds(&progress).is_err(), "not a row's place");
        assert!(Mark::parse("[1]").is_err());
    }
}
