//! One database transaction as the generator sends it.

use crate::truth::TruthLine;

/// One transaction: its statements, and the entity changes it causes in row order.
#[derive(Debug, Default)]
pub struct Txn {
    statements: Vec<String>,
    truth: Vec<TruthLine>,
}

impl Txn {
    /// Appends a statement.
    pub fn sql(&mut self, statement: String) {
        self.statements.push(statement);
    }

    /// Appends an entity change caused by the statements so far.
    pub fn truth(&mut self, line: TruthLine) {
        self.truth.push(line);
    }

    /// The whole transaction as one multi-statement query, `BEGIN; …; COMMIT`.
    pub fn query(&self) -> String {
        let mut out = String::from("BEGIN;");
        for statement in &self.statements {
            out.push_str(statement);
            out.push(';');
        }
        out.push_str("COMMIT");
        out
    }

    /// The entity changes, in commit order.
    pub fn truth_lines(&self) -> &[TruthLine] {
        &self.truth
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_statements_in_one_transaction() {
        let mut txn = Txn::default();
        txn.sql("DELETE FROM t WHERE a=1".into());
        txn.sql("INSERT INTO t VALUES (2)".into());
        assert_eq!(
            txn.query(),
            "BEGIN;DELETE FROM t WHERE a=1;INSERT INTO t VALUES (2);COMMIT"
        );
    }
}
