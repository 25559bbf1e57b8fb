//! What `SHOW GRANTS` says an account may do: the privileges mwcdc needs are checked against it.

use std::collections::BTreeSet;

/// What `SHOW GRANTS` says the user may do.
#[derive(Debug, Default, PartialEq)]
pub struct Grants {
    /// Privileges on `*.*`.
    global: BTreeSet<String>,
    /// Databases (`` `wiki`.* ``) on which SELECT is granted.
    select_on: Vec<String>,
}

impl Grants {
    /// Reads the lines of `SHOW GRANTS`. A line may hold a password hash: only the privilege
    /// list and the target are read from it.
    pub fn parse<'a>(lines: impl IntoIterator<Item = &'a str>) -> Self {
        let mut grants = Grants::default();
        for line in lines {
            let Some(rest) = line.strip_prefix("GRANT ") else {
                continue;
            };
            let Some((privileges, rest)) = rest.split_once(" ON ") else {
                continue; // a role granted to the user
            };
            let target = rest.split(" TO ").next().unwrap_or("").trim();
            let privileges = privileges
                .split(", ")
                .map(|p| p.trim().to_ascii_uppercase());
            if target == "*.*" {
                grants.global.extend(privileges);
            } else if privileges
                .into_iter()
                .any(|p| p == "SELECT" || p == "ALL PRIVILEGES")
            {
                grants.select_on.push(target.to_string());
            }
        }
        grants
    }

    /// Whether the privilege is granted on `*.*` (or all privileges are).
    pub fn has(&self, privilege: &str) -> bool {
        self.global.contains(privilege) || self.global.contains("ALL PRIVILEGES")
    }

    /// The databases (`` `wiki`.* ``) on which SELECT is granted, beside `*.*`.
    pub fn select_on(&self) -> &[String] {
        &self.select_on
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_of_mariadb_and_mysql_are_read_without_the_password_hash() {
        let mariadb = Grants::parse([
            "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `cdc`@`%` IDENTIFIED BY PASSWORD '*ABC'",
            "GRANT SELECT ON `enwiki`.* TO `cdc`@`%`",
            "GRANT `wiki_reader` TO `cdc`@`%`",
        ]);
        assert!(mariadb.has("REPLICATION SLAVE"));
        assert!(mariadb.has("BINLOG MONITOR"));
        assert!(!mariadb.has("SELECT"));
        assert_eq!(mariadb.select_on(), vec!["`enwiki`.*"]);
        let mysql = Grants::parse([
            "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `cdc`@`%`",
        ]);
        assert!(mysql.has("SELECT") && mysql.has("REPLICATION CLIENT"));
        let admin = Grants::parse(["GRANT ALL PRIVILEGES ON *.* TO `admin`@`%` WITH GRANT OPTION"]);
        assert!(admin.has("REPLICATION SLAVE") && admin.has("SELECT"));
    }
}
