//! Table recognition: which MediaWiki table a captured table is, if it has the columns the
//! folding needs.

use mwcdc_change::TableSchema;

use crate::tables::{ARCHIVE, LOGGING, PAGE, REVISION, USER_GROUPS};

/// Which MediaWiki table a schema is, when it has the columns the folding needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Revision,
    Archive,
    Page,
    Logging,
    UserGroups,
}

/// The name of each table, and the columns it must have for its rows to be folded.
const REQUIRED: [(Table, &str, &[&str]); 5] = [
    (Table::Revision, REVISION.name, REVISION.folded),
    (Table::Archive, ARCHIVE.name, ARCHIVE.folded),
    (Table::Page, PAGE.name, PAGE.folded),
    (Table::Logging, LOGGING.name, LOGGING.folded),
    (Table::UserGroups, USER_GROUPS.name, USER_GROUPS.folded),
];

/// Why a table whose name is a MediaWiki table's is not folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotFolded {
    /// It lacks a column the folding needs.
    MissingColumn(&'static str),
    /// Its name is a MediaWiki table's after a prefix that is not the wiki's configured one.
    Prefixed(&'static str),
}

/// The MediaWiki table `schema` is, its name read without the wiki's table `prefix`:
/// `Ok(None)` for any other table.
pub(crate) fn table_of(schema: &TableSchema, prefix: &str) -> Result<Option<Table>, NotFolded> {
    let Some(name) = schema.table.strip_prefix(prefix) else {
        return Ok(None);
    };
    let Some((table, _, columns)) = REQUIRED.iter().find(|(_, n, _)| *n == name) else {
        // `mw_revision` in a wiki without a configured prefix.
        return match REQUIRED.iter().find(|(_, n, _)| {
            name.len() > n.len() && name.ends_with(n) && name[..name.len() - n.len()].ends_with('_')
        }) {
            Some((_, n, columns))
                if columns
                    .iter()
                    .all(|c| schema.columns.iter().any(|s| s == c)) =>
            {
                Err(NotFolded::Prefixed(n))
            }
            _ => Ok(None),
        };
    };
    match columns
        .iter()
        .find(|c| !schema.columns.iter().any(|s| s == *c))
    {
        Some(missing) => Err(NotFolded::MissingColumn(missing)),
        None => Ok(Some(*table)),
    }
}
