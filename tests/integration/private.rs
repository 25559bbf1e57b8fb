//! A private MariaDB primary for one test, started by the project's service script in a
//! directory of its own, with extra server settings: for tests that change global settings,
//! stop the server, or need TLS certificates, without disturbing the shared services.

use std::path::PathBuf;
use std::process::Command;

use mysql_async::prelude::Queryable;

use crate::harness::repo_root;

/// One private MariaDB instance; dropping it stops the server.
pub struct PrivateServer {
    dir: PathBuf,
    port: u16,
    extra_cnf: String,
}

/// mariadb-install-db runs the server in bootstrap mode, which is not made to run twice at
/// once on one machine: instances initialise one at a time.
pub static INITIALISING: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl PrivateServer {
    /// Starts a fresh instance named `name` on `port` with `extra_cnf` lines in `[mariadbd]`.
    pub fn start(name: &str, port: u16, extra_cnf: &str) -> Self {
        let server = Self {
            dir: repo_root()
                .join(".services")
                .join(format!("private-{name}")),
            port,
            extra_cnf: extra_cnf.to_string(),
        };
        server.try_script(&["stop"]);
        let _ = std::fs::remove_dir_all(&server.dir);
        let _one_at_a_time = INITIALISING.lock().unwrap_or_else(|e| e.into_inner());
        server.script(&["start"]);
        server
    }

    /// Stops the server cleanly.
    pub fn stop(&self) {
        self.script(&["stop"]);
    }

    /// Starts it again with other `[mariadbd]` lines.
    pub fn restart_with(&mut self, extra_cnf: &str) {
        self.script(&["stop"]);
        self.extra_cnf = extra_cnf.to_string();
        self.script(&["start"]);
    }

    /// Starts it again after [`PrivateServer::stop`].
    pub fn start_again(&self) {
        self.script(&["start"]);
    }

    fn script(&self, args: &[&str]) {
        assert!(self.try_script(args), "mariadb.sh {args:?} failed");
    }

    fn try_script(&self, args: &[&str]) -> bool {
        Command::new(repo_root().join("tests/services/mariadb.sh"))
            .args(args)
            .env("MWCDC_SERVICES_DIR", &self.dir)
            .env("MWCDC_MARIADB_PORT", self.port.to_string())
            .env("MWCDC_MARIADB_EXTRA_CNF", &self.extra_cnf)
            .status()
            .is_ok_and(|s| s.success())
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Runs statements as the admin user.
    pub async fn exec(&self, sql: &str) {
        let url = format!("mysql://mwcdc_admin:admin-secret@{}", self.address());
        let mut conn = mysql_async::Conn::from_url(url)
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.address()));
        conn.query_drop(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.disconnect().await;
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.try_script(&["stop"]);
    }
}
