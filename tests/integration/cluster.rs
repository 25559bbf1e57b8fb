//! A private MariaDB primary and replica and a broker for one fault-injection run, started
//! by the project's service scripts in a directory of their own, with proxies in front of
//! the server mwcdc reads and of the broker (which advertises the proxy's address, so that
//! clients never bypass it).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use mysql_async::prelude::Queryable;

use crate::harness::repo_root;
use crate::proxy::Proxy;

/// A MariaDB instance of the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    /// Server id 1.
    Primary,
    /// Server id 2, replicating from the primary by GTID until promoted.
    Replica,
}

impl Instance {
    fn name(self) -> &'static str {
        match self {
            Instance::Primary => "primary",
            Instance::Replica => "replica",
        }
    }
}

/// The cluster's ports, from a base: base (primary), +1 (replica), +2 (MariaDB proxy),
/// +3 (broker), +4 (broker proxy).
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    base: u16,
}

impl Ports {
    fn primary(self) -> u16 {
        self.base
    }
    fn replica(self) -> u16 {
        self.base + 1
    }
    fn mysql_proxy(self) -> u16 {
        self.base + 2
    }
    fn kafka(self) -> u16 {
        self.base + 3
    }
    fn kafka_proxy(self) -> u16 {
        self.base + 4
    }
}

/// The running cluster; dropping it stops every service.
pub struct Cluster {
    dir: PathBuf,
    ports: Ports,
    /// mwcdc's source address: forwards to the primary or the replica.
    pub mysql: Proxy,
    /// The broker's advertised address.
    pub kafka: Proxy,
}

impl Cluster {
    /// Starts a fresh cluster named `name` on the ports from `base` (any previous one of that
    /// name is stopped and its state removed).
    pub fn start(name: &str, base: u16) -> Self {
        let dir = repo_root().join(".services").join(format!("chaos-{name}"));
        let ports = Ports { base };
        let local = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        let cluster = Self {
            dir: dir.clone(),
            ports,
            mysql: Proxy::start(ports.mysql_proxy(), local(ports.primary())),
            kafka: Proxy::start(ports.kafka_proxy(), local(ports.kafka())),
        };
        cluster.stop_services();
        let _ = std::fs::remove_dir_all(&dir);
        {
            let _one_at_a_time = crate::private::INITIALISING
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            cluster.script("mariadb.sh", &["start", "replica"]);
        }
        cluster.script("kafka.sh", &["start"]);
        cluster
    }

    /// Runs a service script with this cluster's directory and ports.
    fn script(&self, script: &str, args: &[&str]) {
        assert!(self.try_script(script, args), "{script} {args:?} failed");
    }

    /// Runs a service script; whether it succeeded.
    fn try_script(&self, script: &str, args: &[&str]) -> bool {
        let status = Command::new(repo_root().join("tests/services").join(script))
            .args(args)
            .env("MWCDC_SERVICES_DIR", &self.dir)
            .env("MWCDC_MARIADB_PORT", self.ports.primary().to_string())
            .env(
                "MWCDC_MARIADB_REPLICA_PORT",
                self.ports.replica().to_string(),
            )
            .env("MWCDC_KAFKA_PORT", self.ports.kafka().to_string())
            .env(
                "MWCDC_KAFKA_ADVERTISED_PORT",
                self.ports.kafka_proxy().to_string(),
            )
            .status();
        status.is_ok_and(|s| s.success())
    }

    /// Stops whatever runs (used on start and drop, so failures are not fatal).
    fn stop_services(&self) {
        if self.dir.exists() {
            self.try_script("kafka.sh", &["stop"]);
            self.try_script("mariadb.sh", &["stop", "replica"]);
            self.try_script("mariadb.sh", &["stop", "primary"]);
        }
    }

    /// Stops an instance cleanly.
    pub fn stop(&self, instance: Instance) {
        self.script("mariadb.sh", &["stop", instance.name()]);
    }

    /// Starts an instance again.
    pub fn start_again(&self, instance: Instance) {
        self.script("mariadb.sh", &["start", instance.name()]);
    }

    /// Stops the broker (a controlled shutdown, or SIGKILL when `killed`), waits `down`, and
    /// starts it again on the same storage.
    pub async fn restart_broker(&self, killed: bool, down: std::time::Duration) {
        eprintln!(
            "chaos: broker {}",
            if killed { "killed" } else { "stopped" }
        );
        self.script("kafka.sh", &[if killed { "kill" } else { "stop" }]);
        tokio::time::sleep(down).await;
        self.script("kafka.sh", &["start"]);
    }

    /// The instance's address.
    pub fn address(&self, instance: Instance) -> SocketAddr {
        let port = match instance {
            Instance::Primary => self.ports.primary(),
            Instance::Replica => self.ports.replica(),
        };
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// The admin URL of an instance (for the workload generator and checks).
    pub fn admin_url(&self, instance: Instance) -> String {
        format!(
            "mysql://mwcdc_admin:admin-secret@{}",
            self.address(instance)
        )
    }

    /// An admin connection to an instance.
    pub async fn admin(&self, instance: Instance) -> mysql_async::Conn {
        mysql_async::Conn::from_url(self.admin_url(instance))
            .await
            .unwrap_or_else(|e| panic!("connect to the {} : {e}", instance.name()))
    }

    /// A global variable of an instance.
    pub async fn variable(&self, instance: Instance, name: &str) -> String {
        let mut conn = self.admin(instance).await;
        let value: Option<String> = conn
            .query_first(format!("SELECT @@GLOBAL.{name}"))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let _ = conn.disconnect().await;
        value.unwrap_or_default()
    }

    /// Waits until the replica has applied everything the primary has written.
    pub async fn wait_for_replica(&self) {
        let target = self.variable(Instance::Primary, "gtid_binlog_pos").await;
        let mut conn = self.admin(Instance::Replica).await;
        let waited: Option<i64> = conn
            .exec_first("SELECT MASTER_GTID_WAIT(?, 120)", (target.clone(),))
            .await
            .expect("MASTER_GTID_WAIT");
        assert_eq!(waited, Some(0), "the replica did not reach {target}");
        let _ = conn.disconnect().await;
    }

    /// Runs statements on an instance.
    pub async fn exec(&self, instance: Instance, sql: &str) {
        let mut conn = self.admin(instance).await;
        conn.query_drop(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.disconnect().await;
    }

    /// The broker's address (through its proxy).
    pub fn brokers(&self) -> String {
        self.kafka.address()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_services();
    }
}
