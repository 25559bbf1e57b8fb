//! Planning snapshot records: each row a snapshot read is its entity's state, on its own.

use crate::entity::{Action, Entity};
use crate::fold::facts::Facts;
use crate::fold::planned::{Evidence, Planned};
use crate::fold::table::Table;

/// The entity a MediaWiki table's rows describe (archive rows are archived revisions).
fn entity_of(table: Table) -> Entity {
    match table {
        Table::Revision | Table::Archive => Entity::Revision,
        Table::Page => Entity::Page,
        Table::Logging => Entity::Log,
        Table::UserGroups => Entity::UserGroup,
    }
}

/// A snapshot record for every row a snapshot read, in row order.
pub(super) fn plan(facts: &Facts, items: &mut Vec<Planned>) {
    items.extend(facts.reads.iter().map(|&(seq, table)| Planned {
        seq,
        entity: entity_of(table),
        action: Action::Snapshot,
        evidence: Evidence::Snapshot,
    }));
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use mwcdc_binlog::Value;
    use mwcdc_change::{Op, RowChange, TableSchema};

    use super::*;

    /// A row of a one-column table that a snapshot read (the planner reads only its op).
    fn read() -> RowChange {
        RowChange {
            table: Arc::new(TableSchema::new(
                "enwiki".into(),
                "t".into(),
                vec!["id".into()],
                vec![0],
            )),
            op: Op::Read,
            before: None,
            after: Some(vec![Value::UInt(1)]),
            gtid: Arc::from("snapshot/initial/enwiki.t"),
            event_index: 0,
            row_index: 0,
            file: Arc::from("bin.000001"),
            pos: 4,
            server_id: 1,
            ts_sec: 0,
        }
    }

    #[test]
    fn every_read_row_is_one_snapshot_item_at_itself_in_row_order() {
        let rows = [
            (Table::Page, Entity::Page),
            (Table::Archive, Entity::Revision),
            (Table::UserGroups, Entity::UserGroup),
            (Table::Revision, Entity::Revision),
            (Table::Logging, Entity::Log),
        ];
        let mut facts = Facts::default();
        for (seq, (table, _)) in rows.iter().enumerate() {
            facts.add(seq as u32, *table, &read());
        }
        // Read rows pair with nothing: no other planner sees them.
        assert!(facts.revs.is_empty() && facts.pages.is_empty() && facts.logs.is_empty());
        assert!(facts.ugs.is_empty() && facts.log_rows.is_empty() && facts.wikis.is_empty());
        let mut items = Vec::new();
        plan(&facts, &mut items);
        let planned: Vec<(u32, Entity, Action)> =
            items.iter().map(|p| (p.seq, p.entity, p.action)).collect();
        let expected: Vec<(u32, Entity, Action)> = rows
            .iter()
            .enumerate()
            .map(|(seq, (_, entity))| (seq as u32, *entity, Action::Snapshot))
            .collect();
        assert_eq!(planned, expected);
        assert!(items
            .iter()
            .all(|p| matches!(p.evidence, Evidence::Snapshot)));
    }
}
