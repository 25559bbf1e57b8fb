//! Which tables a job reads, in which order, and each one's columns and key.

use std::sync::Arc;

use mwcdc_change::TableSchema;
use mwcdc_source::filter::glob;
use mwcdc_source::server::{base_tables, driver_error, Conn};
use mwcdc_source::TableFilter;
use mysql_async::prelude::Queryable;

use crate::SnapshotError;

/// The tables of a job: every base table the filter captures and a `snapshot.tables` glob
/// matches, sorted by `db.table` (byte order), so that a cursor of one table name says which
/// tables are done.
pub async fn job_tables(
    conn: &mut Conn,
    captured: &TableFilter,
    globs: &[String],
) -> Result<Vec<(String, String)>, SnapshotError> {
    let mut tables: Vec<(String, String)> = base_tables(conn)
        .await?
        .into_iter()
        .filter(|(db, table)| {
            let name = format!("{db}.{table}");
            captured.captures(db, table)
                && globs.iter().any(|g| glob(g.as_bytes(), name.as_bytes()))
        })
        .collect();
    // By `db.table`, the form the checkpoint's cursor names a table in, so that a cursor
    // divides the list into the tables done and the rest.
    tables.sort_by_cached_key(|(db, table)| format!("{db}.{table}"));
    Ok(tables)
}

/// The server's estimate of the rows of `tables` (`information_schema.TABLES.TABLE_ROWS`,
/// InnoDB's sampled count: a progress estimate, not a count).
pub async fn estimated_rows(
    conn: &mut Conn,
    tables: &[(String, String)],
) -> Result<u64, SnapshotError> {
    let all: Vec<(String, String, Option<u64>)> = conn
        .query(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES \
             WHERE TABLE_TYPE = 'BASE TABLE'",
        )
        .await
        .map_err(|e| driver_error("information_schema.TABLES", "the source server", e))?;
    let wanted: std::collections::HashSet<(&str, &str)> = tables
        .iter()
        .map(|(d, t)| (d.as_str(), t.as_str()))
        .collect();
    Ok(all
        .iter()
        .filter(|(d, t, _)| wanted.contains(&(d.as_str(), t.as_str())))
        .filter_map(|(_, _, rows)| *rows)
        .sum())
}

/// The column types (`information_schema.COLUMNS.DATA_TYPE`) whose values the server orders
/// as [`mwcdc_change::cursor::compare`] does: integers, floating point, bits and years by
/// number, binary strings byte by byte. Not text (a collation), decimals, temporal types, ENUM
/// (by its index) or SET.
const ORDERED_KEY_TYPES: [&str; 15] = [
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "bigint",
    "float",
    "double",
    "bit",
    "year",
    "binary",
    "varbinary",
    "tinyblob",
    "blob",
    "mediumblob",
    "longblob",
];

/// The storage engines whose tables a consistent snapshot sees as of its position.
const TRANSACTIONAL: [&str; 2] = ["InnoDB", "ROCKSDB"];

/// A table as a snapshot reads it: its schema (columns in table order, key columns) and the
/// queries of its chunks.
#[derive(Debug)]
pub struct SnapshotTable {
    /// The schema of its records.
    pub schema: Arc<TableSchema>,
    /// The first key column whose values [`mwcdc_change::cursor::compare`] does not order as
    /// the server does (text, decimal, temporal, ENUM, SET), if any.
    pub unordered_key: Option<String>,
    /// `SELECT * FROM <table> ORDER BY <key> LIMIT ?`: the first chunk.
    pub(crate) first_chunk: String,
    /// The same with the keyset predicate `WHERE k1 > ? OR (k1 = ? AND k2 > ?) ...`: the
    /// chunks after a key.
    pub(crate) next_chunk: String,
}

impl SnapshotTable {
    /// `db`.`table` as the server describes it now; a table without a usable key is
    /// [`SnapshotError::NoKey`].
    pub async fn describe(conn: &mut Conn, db: &str, table: &str) -> Result<Self, SnapshotError> {
        let what = "information_schema.COLUMNS";
        let columns: Vec<(String, String, String)> = conn
            .exec(
                "SELECT COLUMN_NAME, IS_NULLABLE, DATA_TYPE FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                (db, table),
            )
            .await
            .map_err(|e| driver_error(what, "the source server", e))?;
        let what = "information_schema.STATISTICS";
        let indexes: Vec<(String, String, u64)> = conn
            .exec(
                "SELECT INDEX_NAME, COLUMN_NAME, NON_UNIQUE FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX",
                (db, table),
            )
            .await
            .map_err(|e| driver_error(what, "the source server", e))?;
        let engine: Option<Option<String>> = conn
            .exec_first(
                "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (db, table),
            )
            .await
            .map_err(|e| driver_error("information_schema.TABLES", "the source server", e))?;
        if let Some(Some(engine)) = engine {
            if !TRANSACTIONAL.iter().any(|e| engine.eq_ignore_ascii_case(e)) {
                return Err(SnapshotError::NotTransactional {
                    db: db.to_string(),
                    table: table.to_string(),
                    engine,
                });
            }
        }
        let names: Vec<String> = columns.iter().map(|(name, ..)| name.clone()).collect();
        let not_null = |column: &str| {
            columns
                .iter()
                .any(|(n, nullable, _)| n == column && nullable == "NO")
        };
        let key = key_columns(&indexes, not_null).ok_or_else(|| SnapshotError::NoKey {
            db: db.to_string(),
            table: table.to_string(),
        })?;
        let key: Vec<usize> = key
            .iter()
            .filter_map(|k| names.iter().position(|n| n == k))
            .collect();
        let unordered_key = key
            .iter()
            .filter_map(|&i| columns.get(i))
            .find(|(_, _, data_type)| {
                !ORDERED_KEY_TYPES.contains(&data_type.to_lowercase().as_str())
            })
            .map(|(name, ..)| name.clone());
        let mut described = Self::new(TableSchema::new(db.into(), table.into(), names, key));
        described.unordered_key = unordered_key;
        Ok(described)
    }

    /// The table with `schema`, whose key is not empty.
    fn new(schema: TableSchema) -> Self {
        let table = format!("{}.{}", quoted(&schema.db), quoted(&schema.table));
        // Every column as the table has them when the chunk is read: a chunk read after an
        // ALTER TABLE shows the new columns, and the reader describes the table again.
        let select = "*";
        let keys: Vec<String> = schema
            .key
            .iter()
            .map(|&i| quoted(&schema.columns[i]))
            .collect();
        let order = keys.join(", ");
        // The expanded form, which the optimizer turns into index ranges (a row constructor
        // `(a, b) > (?, ?)` it does not).
        let predicate = (0..keys.len())
            .map(|last| {
                let mut terms: Vec<String> =
                    keys[..last].iter().map(|k| format!("{k} = ?")).collect();
                terms.push(format!("{} > ?", keys[last]));
                format!("({})", terms.join(" AND "))
            })
            .collect::<Vec<_>>()
            .join(" OR ");
        Self {
            unordered_key: None,
            first_chunk: format!("SELECT {select} FROM {table} ORDER BY {order} LIMIT ?"),
            next_chunk: format!(
                "SELECT {select} FROM {table} WHERE {predicate} ORDER BY {order} LIMIT ?"
            ),
            schema: Arc::new(schema),
        }
    }

    /// `db.table`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.schema.db, self.schema.table)
    }

    /// The parameters of the keyset predicate after `key` (one value per key column): each
    /// disjunct repeats the key's prefix.
    pub(crate) fn predicate_params(&self, key: &[mwcdc_binlog::Value]) -> Vec<mysql_async::Value> {
        (0..key.len())
            .flat_map(|last| key[..=last].iter().map(crate::key::param))
            .collect()
    }
}

/// The key to read a table by: its primary key, else the first unique key whose columns are
/// all NOT NULL (the key the binlog source gives its records too).
fn key_columns(
    indexes: &[(String, String, u64)],
    not_null: impl Fn(&str) -> bool,
) -> Option<Vec<String>> {
    let columns_of = |index: &str| -> Vec<String> {
        indexes
            .iter()
            .filter(|(i, _, _)| i == index)
            .map(|(_, c, _)| c.clone())
            .collect()
    };
    if indexes.iter().any(|(i, _, _)| i == "PRIMARY") {
        return Some(columns_of("PRIMARY"));
    }
    let mut unique: Vec<&str> = indexes
        .iter()
        .filter(|(_, _, non_unique)| *non_unique == 0)
        .map(|(i, _, _)| i.as_str())
        .collect();
    unique.dedup();
    unique
        .into_iter()
        .map(columns_of)
        .find(|columns| columns.iter().all(|c| not_null(c)))
}

/// An identifier in backquotes.
fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_read_by_the_expanded_keyset_predicate() {
        let t = SnapshotTable::new(TableSchema::new(
            "enwiki".into(),
            "user_groups".into(),
            vec!["ug_user".into(), "ug_group".into(), "ug_expiry".into()],
            vec![0, 1],
        ));
        assert_eq!(
            t.next_chunk,
            "SELECT * FROM `enwiki`.`user_groups` WHERE \
             (`ug_user` > ?) OR (`ug_user` = ? AND `ug_group` > ?) ORDER BY `ug_user`, \
             `ug_group` LIMIT ?"
        );
        let key = [
            mwcdc_binlog::Value::UInt(7),
            mwcdc_binlog::Value::Bytes(b"bot".to_vec()),
        ];
        assert_eq!(
            t.predicate_params(&key),
            vec![
                mysql_async::Value::UInt(7),
                mysql_async::Value::UInt(7),
                mysql_async::Value::Bytes(b"bot".to_vec())
            ]
        );
        assert_eq!(quoted("a`b"), "`a``b`");
    }

    #[test]
    fn the_key_is_the_primary_key_else_a_unique_key_without_nulls() {
        let idx = |i: &str, c: &str, n: u64| (i.to_string(), c.to_string(), n);
        let primary = [
            idx("PRIMARY", "b", 0),
            idx("PRIMARY", "a", 0),
            idx("u", "c", 0),
        ];
        assert_eq!(
            key_columns(&primary, |_| true),
            Some(vec!["b".into(), "a".into()])
        );
        let unique = [
            idx("by_c", "c", 0),
            idx("by_d", "d", 0),
            idx("plain", "e", 1),
        ];
        assert_eq!(key_columns(&unique, |c| c == "d"), Some(vec!["d".into()]));
        assert_eq!(key_columns(&unique, |_| false), None);
        assert_eq!(key_columns(&[idx("plain", "e", 1)], |_| true), None);
    }
}
