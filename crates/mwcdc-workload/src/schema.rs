//! The MediaWiki core tables the generator writes (MediaWiki 1.45's `tables.json`, MySQL
//! flavour): columns and types as MediaWiki has them, InnoDB, binary character set.

use mwcdc_mediawiki::tables::{ARCHIVE, LOGGING, PAGE, REVISION, USER_GROUPS};

/// Table name and column definitions of every table the generator writes. The columns of the
/// tables entity changes come from are [`mwcdc_mediawiki::tables`]'s, in its order (a test
/// checks it); here they have their types.
const TABLES: [(&str, &str); 9] = [
    (
        REVISION.name,
        "rev_id BIGINT UNSIGNED AUTO_INCREMENT NOT NULL, \
         rev_page INT UNSIGNED NOT NULL, \
         rev_comment_id BIGINT UNSIGNED DEFAULT 0 NOT NULL, \
         rev_actor BIGINT UNSIGNED DEFAULT 0 NOT NULL, \
         rev_timestamp BINARY(14) NOT NULL, \
         rev_minor_edit TINYINT UNSIGNED DEFAULT 0 NOT NULL, \
         rev_deleted TINYINT UNSIGNED DEFAULT 0 NOT NULL, \
         rev_len INT UNSIGNED DEFAULT NULL, \
         rev_parent_id BIGINT UNSIGNED DEFAULT NULL, \
         rev_sha1 VARBINARY(32) DEFAULT '' NOT NULL, \
         INDEX rev_page_timestamp (rev_page, rev_timestamp), \
         INDEX rev_timestamp (rev_timestamp), \
         PRIMARY KEY(rev_id)",
    ),
    (
        ARCHIVE.name,
        "ar_id INT UNSIGNED AUTO_INCREMENT NOT NULL, \
         ar_namespace INT DEFAULT 0 NOT NULL, \
         ar_title VARBINARY(255) DEFAULT '' NOT NULL, \
         ar_comment_id BIGINT UNSIGNED NOT NULL, \
         ar_actor BIGINT UNSIGNED NOT NULL, \
         ar_timestamp BINARY(14) NOT NULL, \
         ar_minor_edit TINYINT DEFAULT 0 NOT NULL, \
         ar_rev_id INT UNSIGNED NOT NULL, \
         ar_deleted TINYINT UNSIGNED DEFAULT 0 NOT NULL, \
         ar_len INT UNSIGNED DEFAULT NULL, \
         ar_page_id INT UNSIGNED DEFAULT NULL, \
         ar_parent_id INT UNSIGNED DEFAULT NULL, \
         ar_sha1 VARBINARY(32) DEFAULT '' NOT NULL, \
         INDEX ar_name_title_timestamp (ar_namespace, ar_title, ar_timestamp), \
         UNIQUE INDEX ar_revid_uniq (ar_rev_id), \
         PRIMARY KEY(ar_id)",
    ),
    (
        LOGGING.name,
        "log_id INT UNSIGNED AUTO_INCREMENT NOT NULL, \
         log_type VARBINARY(32) DEFAULT '' NOT NULL, \
         log_action VARBINARY(32) DEFAULT '' NOT NULL, \
         log_timestamp BINARY(14) DEFAULT '19700101000000' NOT NULL, \
         log_actor BIGINT UNSIGNED NOT NULL, \
         log_namespace INT DEFAULT 0 NOT NULL, \
         log_title VARBINARY(255) DEFAULT '' NOT NULL, \
         log_page INT UNSIGNED DEFAULT NULL, \
         log_comment_id BIGINT UNSIGNED NOT NULL, \
         log_params BLOB NOT NULL, \
         log_deleted TINYINT UNSIGNED DEFAULT 0 NOT NULL, \
         INDEX log_type_time (log_type, log_timestamp), \
         INDEX log_page_id_time (log_page, log_timestamp), \
         PRIMARY KEY(log_id)",
    ),
    (
        PAGE.name,
        "page_id INT UNSIGNED AUTO_INCREMENT NOT NULL, \
         page_namespace INT NOT NULL, \
         page_title VARBINARY(255) NOT NULL, \
         page_is_redirect TINYINT UNSIGNED DEFAULT 0 NOT NULL, \
         page_is_new TINYINT UNSIGNED DEFAULT 0 NOT NULL, \
         page_random DOUBLE PRECISION UNSIGNED NOT NULL, \
         page_touched BINARY(14) NOT NULL, \
         page_links_updated BINARY(14) DEFAULT NULL, \
         page_latest INT UNSIGNED NOT NULL, \
         page_len INT UNSIGNED NOT NULL, \
         page_content_model VARBINARY(32) DEFAULT NULL, \
         page_lang VARBINARY(35) DEFAULT NULL, \
         UNIQUE INDEX page_name_title (page_namespace, page_title), \
         PRIMARY KEY(page_id)",
    ),
    (
        "comment",
        "comment_id BIGINT UNSIGNED AUTO_INCREMENT NOT NULL, \
         comment_hash INT NOT NULL, \
         comment_text BLOB NOT NULL, \
         comment_data BLOB DEFAULT NULL, \
         INDEX comment_hash (comment_hash), \
         PRIMARY KEY(comment_id)",
    ),
    (
        "actor",
        "actor_id BIGINT UNSIGNED AUTO_INCREMENT NOT NULL, \
         actor_user INT UNSIGNED DEFAULT NULL, \
         actor_name VARBINARY(255) NOT NULL, \
         UNIQUE INDEX actor_user (actor_user), \
         UNIQUE INDEX actor_name (actor_name), \
         PRIMARY KEY(actor_id)",
    ),
    (
        "slots",
        "slot_revision_id BIGINT UNSIGNED NOT NULL, \
         slot_role_id SMALLINT UNSIGNED NOT NULL, \
         slot_content_id BIGINT UNSIGNED NOT NULL, \
         slot_origin BIGINT UNSIGNED NOT NULL, \
         INDEX slot_revision_origin_role (slot_revision_id, slot_origin, slot_role_id), \
         PRIMARY KEY(slot_revision_id, slot_role_id)",
    ),
    (
        "content",
        "content_id BIGINT UNSIGNED AUTO_INCREMENT NOT NULL, \
         content_size INT UNSIGNED NOT NULL, \
         content_sha1 VARBINARY(32) NOT NULL, \
         content_model SMALLINT UNSIGNED NOT NULL, \
         content_address VARBINARY(255) NOT NULL, \
         PRIMARY KEY(content_id)",
    ),
    (
        USER_GROUPS.name,
        "ug_user INT UNSIGNED DEFAULT 0 NOT NULL, \
         ug_group VARBINARY(255) DEFAULT '' NOT NULL, \
         ug_expiry VARBINARY(14) DEFAULT NULL, \
         INDEX ug_group (ug_group), \
         INDEX ug_expiry (ug_expiry), \
         PRIMARY KEY(ug_user, ug_group)",
    ),
];

/// The statements that drop and recreate database `db` with empty tables.
pub fn recreate(db: &str) -> Vec<String> {
    let mut out = vec![
        format!("DROP DATABASE IF EXISTS `{db}`"),
        format!("CREATE DATABASE `{db}` CHARACTER SET binary"),
    ];
    out.extend(
        TABLES
            .iter()
            .map(|(name, columns)| create_table(db, name, columns, "")),
    );
    out
}

/// The statements that create database `db` and its tables where they are missing.
pub fn ensure(db: &str) -> Vec<String> {
    let mut out = vec![format!(
        "CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET binary"
    )];
    out.extend(
        TABLES
            .iter()
            .map(|(name, columns)| create_table(db, name, columns, "IF NOT EXISTS ")),
    );
    out
}

/// A query giving one row per table of `db` that has rows (the generator assigns every id
/// itself, so it needs empty tables).
pub fn non_empty_tables(db: &str) -> String {
    TABLES
        .iter()
        .map(|(name, _)| format!("SELECT '{name}' FROM `{db}`.`{name}` HAVING COUNT(*) > 0"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// The statement that creates table `name` of database `db` as MediaWiki defines it, `None`
/// for a table the generator does not write.
pub fn create_statement(db: &str, name: &str) -> Option<String> {
    TABLES
        .iter()
        .find(|(table, _)| *table == name)
        .map(|(table, columns)| create_table(db, table, columns, ""))
}

fn create_table(db: &str, name: &str, columns: &str, if_not_exists: &str) -> String {
    format!(
        "CREATE TABLE {if_not_exists}`{db}`.`{name}` ({columns}) ENGINE=InnoDB DEFAULT CHARSET=binary"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recreate_drops_then_creates_every_table() {
        let statements = recreate("wl_0");
        assert_eq!(statements[0], "DROP DATABASE IF EXISTS `wl_0`");
        assert_eq!(statements.len(), 2 + TABLES.len());
        assert!(statements[2].starts_with("CREATE TABLE `wl_0`.`revision` (rev_id BIGINT"));
        assert!(ensure("wl_0")[1].starts_with("CREATE TABLE IF NOT EXISTS `wl_0`.`revision`"));
    }

    /// The names of the columns a `CREATE TABLE`'s definitions define (not its indexes).
    fn column_names(definitions: &str) -> Vec<&str> {
        let mut parts = Vec::new();
        let (mut depth, mut start) = (0, 0);
        for (i, c) in definitions.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&definitions[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&definitions[start..]);
        parts
            .iter()
            .filter_map(|part| part.split_whitespace().next())
            .filter(|word| !matches!(*word, "INDEX" | "UNIQUE" | "PRIMARY"))
            .collect()
    }

    #[test]
    fn the_tables_entity_changes_come_from_have_the_connectors_columns() {
        for table in [REVISION, ARCHIVE, PAGE, LOGGING, USER_GROUPS] {
            let definitions = TABLES
                .iter()
                .find(|(name, _)| *name == table.name)
                .map(|(_, definitions)| *definitions)
                .unwrap_or_else(|| panic!("{} is not created", table.name));
            assert_eq!(column_names(definitions), table.columns, "{}", table.name);
        }
    }
}
