//! The MediaWiki tables entity changes come from, and their columns: what a fold needs of
//! each and what MediaWiki 1.45 (`tables.json`) gives it, in MediaWiki's column order.
//!
//! The one list of these columns: the folding recognises a table by [`CoreTable::folded`],
//! the workload generator writes rows of [`CoreTable::columns`], and the tests build their
//! rows from them.

/// A MediaWiki table that entity changes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreTable {
    /// The table's name, without a table prefix (`$wgDBprefix`).
    pub name: &'static str,
    /// Every column of the table in MediaWiki 1.45, in `CREATE TABLE` order. Only
    /// [`CoreTable::folded`] must be present: the others may come and go between versions
    /// (`rev_sha1` is dropped in 1.46).
    pub columns: &'static [&'static str],
    /// The columns the folding needs: a table without one of them is not folded (its rows
    /// stay in the row stream only).
    pub folded: &'static [&'static str],
}

/// `revision`: one row per live revision.
pub const REVISION: CoreTable = CoreTable {
    name: "revision",
    columns: &[
        "rev_id",
        "rev_page",
        "rev_comment_id",
        "rev_actor",
        "rev_timestamp",
        "rev_minor_edit",
        "rev_deleted",
        "rev_len",
        "rev_parent_id",
        "rev_sha1",
    ],
    folded: &["rev_id", "rev_deleted"],
};

/// `archive`: one row per revision of a deleted page.
pub const ARCHIVE: CoreTable = CoreTable {
    name: "archive",
    columns: &[
        "ar_id",
        "ar_namespace",
        "ar_title",
        "ar_comment_id",
        "ar_actor",
        "ar_timestamp",
        "ar_minor_edit",
        "ar_rev_id",
        "ar_deleted",
        "ar_len",
        "ar_page_id",
        "ar_parent_id",
        "ar_sha1",
    ],
    folded: &["ar_rev_id", "ar_deleted"],
};

/// `page`: one row per page.
pub const PAGE: CoreTable = CoreTable {
    name: "page",
    columns: &[
        "page_id",
        "page_namespace",
        "page_title",
        "page_is_redirect",
        "page_is_new",
        "page_random",
        "page_touched",
        "page_links_updated",
        "page_latest",
        "page_len",
        "page_content_model",
        "page_lang",
    ],
    folded: &[
        "page_id",
        "page_namespace",
        "page_title",
        "page_is_redirect",
    ],
};

/// `logging`: one row per log entry.
pub const LOGGING: CoreTable = CoreTable {
    name: "logging",
    columns: &[
        "log_id",
        "log_type",
        "log_action",
        "log_timestamp",
        "log_actor",
        "log_namespace",
        "log_title",
        "log_page",
        "log_comment_id",
        "log_params",
        "log_deleted",
    ],
    folded: &[
        "log_id",
        "log_type",
        "log_action",
        "log_namespace",
        "log_title",
    ],
};

/// `user_groups`: one row per membership of a user in a group.
pub const USER_GROUPS: CoreTable = CoreTable {
    name: "user_groups",
    columns: &["ug_user", "ug_group", "ug_expiry"],
    folded: &["ug_user", "ug_group", "ug_expiry"],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folding_needs_only_columns_the_table_has() {
        for table in [REVISION, ARCHIVE, PAGE, LOGGING, USER_GROUPS] {
            for column in table.folded {
                assert!(table.columns.contains(column), "{}.{column}", table.name);
            }
        }
    }
}
