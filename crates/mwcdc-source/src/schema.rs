//! What a captured table's records need beyond the TABLE_MAP: column names (from the
//! optional metadata, or looked up in `information_schema`) and the key columns.

use std::future::Future;
use std::sync::Arc;

use mwcdc_binlog::table_map::column_type as ct;
use mwcdc_binlog::{TableMap, TextEncoding};
use mwcdc_change::TableSchema;
use serde::Deserialize;

use crate::SourceError;

/// Where column names come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SchemaMode {
    /// From the TABLE_MAP optional metadata (`binlog_row_metadata=FULL`), which describes
    /// the table as it was when the event was written.
    #[default]
    Binlog,
    /// From `information_schema.COLUMNS`, checked against every TABLE_MAP.
    InformationSchema,
}

/// A column as `information_schema.COLUMNS` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    /// `COLUMN_NAME`.
    pub name: String,
    /// `DATA_TYPE`, e.g. `bigint`.
    pub data_type: String,
    /// `COLUMN_TYPE`, e.g. `bigint(20) unsigned` or `enum('a','b')`.
    pub column_type: String,
    /// `CHARACTER_SET_NAME`, for character columns.
    pub charset: Option<String>,
}

/// Looks up what the binlog does not carry. Implemented over a server connection; the
/// results are cached by the caller and dropped when DDL touches the table.
pub trait SchemaLookup {
    /// The key columns of a table: the primary key, else the first unique key whose columns
    /// are all NOT NULL, else none.
    fn key_columns(
        &mut self,
        db: &str,
        table: &str,
    ) -> impl Future<Output = Result<Vec<String>, SourceError>> + Send;

    /// The columns in table order.
    fn columns(
        &mut self,
        db: &str,
        table: &str,
    ) -> impl Future<Output = Result<Vec<ColumnInfo>, SourceError>> + Send;
}

/// Binlog type codes a `DATA_TYPE` may appear as.
fn binlog_types(data_type: &str) -> &'static [u8] {
    match data_type {
        "tinyint" | "bool" | "boolean" => &[ct::TINY],
        "smallint" => &[ct::SHORT],
        "mediumint" => &[ct::INT24],
        "int" | "integer" => &[ct::LONG],
        "bigint" => &[ct::LONGLONG],
        "float" => &[ct::FLOAT],
        "double" | "real" | "double precision" => &[ct::DOUBLE],
        "decimal" | "numeric" | "dec" | "fixed" => &[ct::NEWDECIMAL, ct::DECIMAL],
        "date" => &[ct::DATE, ct::NEWDATE],
        "time" => &[ct::TIME2, ct::TIME],
        "datetime" => &[ct::DATETIME2, ct::DATETIME],
        "timestamp" => &[ct::TIMESTAMP2, ct::TIMESTAMP],
        "year" => &[ct::YEAR],
        "char" | "binary" | "inet4" | "inet6" | "uuid" => &[ct::STRING],
        "varchar" | "varbinary" => &[ct::VARCHAR, ct::VAR_STRING],
        "tinyblob" | "blob" | "mediumblob" | "longblob" | "tinytext" | "text" | "mediumtext"
        | "longtext" => &[ct::BLOB],
        "json" => &[ct::JSON, ct::BLOB],
        "enum" => &[ct::ENUM],
        "set" => &[ct::SET],
        "bit" => &[ct::BIT],
        "vector" => &[ct::VECTOR],
        "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" | "geomcollection" => &[ct::GEOMETRY],
        _ => &[],
    }
}

/// Members of an `enum('a','b')` or `set(...)` column type, quotes undone.
fn members(column_type: &str) -> Option<Vec<String>> {
    let inner = column_type.split_once('(')?.1.strip_suffix(')')?;
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut member = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    member.push('\'');
                }
                '\'' => break,
                '\\' => {
                    if let Some(n) = chars.next() {
                        member.push(n);
                    }
                }
                c => member.push(c),
            }
        }
        out.push(member);
    }
    Some(out)
}

/// Fills names, signedness, character sets and members of `map` from looked-up columns,
/// after checking that they describe the same columns (count and types).
pub fn apply_columns(map: &mut TableMap, columns: &[ColumnInfo]) -> Result<(), String> {
    if columns.len() != map.columns.len() {
        return Err(format!(
            "the event has {} columns, information_schema has {}",
            map.columns.len(),
            columns.len()
        ));
    }
    for (i, (col, info)) in map.columns.iter_mut().zip(columns).enumerate() {
        let data_type = info.data_type.to_ascii_lowercase();
        if !binlog_types(&data_type).contains(&col.type_code) {
            return Err(format!(
                "column {i} (`{}`) is {} in information_schema but binlog type {} in the event",
                info.name, info.column_type, col.type_code
            ));
        }
        let column_type = info.column_type.to_ascii_lowercase();
        col.name = Some(info.name.clone());
        col.unsigned = column_type.contains("unsigned");
        col.text = match &info.charset {
            Some(cs) => TextEncoding::for_charset(cs),
            None if matches!(
                col.type_code,
                ct::STRING | ct::VARCHAR | ct::VAR_STRING | ct::BLOB | ct::GEOMETRY | ct::VECTOR
            ) =>
            {
                TextEncoding::Binary
            }
            None => col.text,
        };
        if matches!(col.type_code, ct::ENUM | ct::SET) {
            col.members = members(&info.column_type).map(Arc::from);
        }
    }
    map.has_full_metadata = true;
    Ok(())
}

/// The record-level description of a mapped table: its column names and key indexes.
/// `key_names` is used when the TABLE_MAP carries no primary key.
pub fn table_schema(map: &TableMap, key_names: Option<&[String]>) -> TableSchema {
    let columns: Vec<String> = map
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| c.name.clone().unwrap_or_else(|| format!("col_{i}")))
        .collect();
    let key = match (&map.primary_key, key_names) {
        (Some(pk), _) => pk.clone(),
        (None, Some(names)) => {
            let idx: Vec<usize> = names
                .iter()
                .filter_map(|n| columns.iter().position(|c| c == n))
                .collect();
            // A key whose columns are not all in this TABLE_MAP cannot identify rows.
            if idx.len() == names.len() {
                idx
            } else {
                Vec::new()
            }
        }
        (None, None) => Vec::new(),
    };
    TableSchema::new(map.db.clone(), map.table.clone(), columns, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_enum_members() {
        assert_eq!(
            members("enum('a','it''s','x,y')").unwrap(),
            vec!["a", "it's", "x,y"]
        );
        assert_eq!(members("set('')").unwrap(), vec![""]);
        assert_eq!(members("int(11)").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn type_table_covers_mediawiki_columns() {
        for t in [
            "bigint",
            "int",
            "varbinary",
            "binary",
            "blob",
            "tinyint",
            "mediumblob",
            "double",
        ] {
            assert!(!binlog_types(t).is_empty(), "{t}");
        }
    }
}
