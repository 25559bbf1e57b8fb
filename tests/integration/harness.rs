//! Test harness: the real MariaDB and broker started by `make services`, the `mwcdc` binary
//! as a child process, and a Kafka reader.
//!
//! Each test gets its own databases, topic prefix, checkpoint directory and replica
//! server id, so tests run in parallel against the same services. A test that purges
//! binlogs takes [`server_lock`] exclusively; the others take it shared.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use mwcdc_mediawiki::tables::{ARCHIVE, LOGGING, REVISION};
use mysql_async::prelude::Queryable;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio::sync::RwLock;

/// Shared by tests that only read the binlog, exclusive for tests that purge it.
pub static SERVER: RwLock<()> = RwLock::const_new(());

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The admin URL of the test server.
pub fn mysql_url() -> String {
    std::env::var("MWCDC_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://mwcdc_admin:admin-secret@127.0.0.1:3307".into())
}

/// The broker's bootstrap address.
pub fn kafka() -> String {
    std::env::var("MWCDC_TEST_KAFKA").unwrap_or_else(|_| "127.0.0.1:19092".into())
}

fn cdc_user() -> String {
    std::env::var("MWCDC_TEST_CDC_USER").unwrap_or_else(|_| "cdc".into())
}

fn source_url(user: &str) -> String {
    let admin = mysql_async::Opts::from_url(&mysql_url()).expect("MWCDC_TEST_MYSQL_URL is a URL");
    format!(
        "mysql://{user}@{}:{}",
        admin.ip_or_hostname(),
        admin.tcp_port()
    )
}

/// How mwcdc connects to the test server, as its replication user.
pub fn cdc_connect_options() -> mwcdc_source::ConnectOptions {
    mwcdc_source::ConnectOptions {
        url: source_url(&cdc_user()),
        password: Some(cdc_password()),
        connect_timeout: Duration::from_secs(10),
        tls: Default::default(),
    }
}

fn cdc_password() -> String {
    std::env::var("MWCDC_TEST_CDC_PASSWORD").unwrap_or_else(|_| "cdc-secret".into())
}

static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// A unique name for this test run and test: databases, topics, server ids.
pub fn unique(test: &str) -> (String, u32) {
    let n = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    let run: u32 = rand::random::<u32>() % 1_000_000;
    (format!("t{run}_{n}_{test}"), 10_000 + run % 50_000 * 10 + n)
}

/// An admin connection for writing test data.
pub async fn db() -> mysql_async::Conn {
    mysql_async::Conn::from_url(mysql_url())
        .await
        .expect("connect to the test MariaDB (run `make services`)")
}

/// The server's `@@gtid_binlog_pos`.
pub async fn gtid_position(conn: &mut mysql_async::Conn) -> String {
    conn.query_first("SELECT @@gtid_binlog_pos")
        .await
        .expect("gtid_binlog_pos")
        .expect("a position")
}

/// Runs statements, panicking with the failing one.
pub async fn exec(conn: &mut mysql_async::Conn, sql: &str) {
    conn.query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// MediaWiki's revision, archive and logging tables (as the workload generator creates them,
/// from `mwcdc_mediawiki::tables`), plus [`SMALL_PAGE`].
pub async fn create_wiki(conn: &mut mysql_async::Conn, db: &str) {
    exec(conn, &format!("CREATE DATABASE `{db}`")).await;
    for table in [REVISION.name, ARCHIVE.name, LOGGING.name] {
        let ddl = mwcdc_workload::create_statement(db, table)
            .unwrap_or_else(|| panic!("the workload creates {table}"));
        exec(conn, &ddl).await;
    }
    exec(conn, &SMALL_PAGE.replace("{db}", db)).await;
}

/// A `page` table of four columns, enough for the rows these tests write (not MediaWiki's:
/// its NOT NULL columns without defaults would need every column in every INSERT).
const SMALL_PAGE: &str = "CREATE TABLE `{db}`.page (page_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, page_namespace INT NOT NULL, page_title VARBINARY(255) NOT NULL, page_latest INT UNSIGNED NOT NULL DEFAULT 0) ENGINE=InnoDB";

/// A wiki database named for the test and a connector streaming it (with `source_extra` in
/// its `[source]`), started.
pub async fn started_wiki(
    test: &str,
    source_extra: &str,
) -> (String, mysql_async::Conn, Connector) {
    let (name, server_id) = unique(test);
    let mut conn = db().await;
    create_wiki(&mut conn, &name).await;
    let mut mwcdc = Connector::new(&name, server_id, source_extra, "");
    mwcdc.start();
    (name, conn, mwcdc)
}

/// Creates a user `user`@`%` with `password` and the global `privileges`.
pub async fn create_user(
    conn: &mut mysql_async::Conn,
    user: &str,
    password: &str,
    privileges: &str,
) {
    exec(
        conn,
        &format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"),
    )
    .await;
    exec(conn, &format!("GRANT {privileges} ON *.* TO '{user}'@'%'")).await;
}

/// Drops the test's databases.
pub async fn drop_dbs(conn: &mut mysql_async::Conn, dbs: &[&str]) {
    for db in dbs {
        exec(conn, &format!("DROP DATABASE IF EXISTS `{db}`")).await;
    }
}

/// The `[output]` of tests about row records.
pub const ROWS_ONLY: &str = "entities = false";

/// A running (or stopped) `mwcdc run`.
pub struct Connector {
    /// The configuration file.
    pub config: PathBuf,
    /// Holds the configuration and state directory until the connector is dropped.
    _dir: tempfile::TempDir,
    child: Option<Child>,
    stderr_log: PathBuf,
    /// Where the current run's part of the log starts.
    run_log_start: usize,
    password: String,
    /// The address of its HTTP listener.
    pub http: std::net::SocketAddr,
    /// Extra environment variables of its commands.
    env: Vec<(String, String)>,
}

impl Connector {
    /// A connector for `prefix` with extra TOML lines in `[source]` and `[sink]`, producing
    /// row records only (tests of entity records use [`Connector::with_output`]).
    pub fn new(prefix: &str, server_id: u32, source_extra: &str, sink_extra: &str) -> Self {
        Self::with_output(prefix, server_id, source_extra, sink_extra, ROWS_ONLY)
    }

    /// A connector with the given `[output]` lines.
    pub fn with_output(
        prefix: &str,
        server_id: u32,
        source_extra: &str,
        sink_extra: &str,
        output: &str,
    ) -> Self {
        Self::configured(
            prefix,
            server_id,
            [source_extra, sink_extra, output],
            &cdc_user(),
            &cdc_password(),
        )
    }

    /// A connector for other servers than the shared test services: the source at
    /// `source_host_port` (as the usual replication user), the broker at `brokers`.
    pub fn at(prefix: &str, server_id: u32, addresses: [&str; 2], extra: [&str; 3]) -> Self {
        Self::at_as(
            prefix,
            server_id,
            addresses,
            extra,
            [&cdc_user(), &cdc_password()],
        )
    }

    /// [`Connector::at`] as another user.
    pub fn at_as(
        prefix: &str,
        server_id: u32,
        [source_host_port, brokers]: [&str; 2],
        [source_extra, sink_extra, output]: [&str; 3],
        [user, password]: [&str; 2],
    ) -> Self {
        let url = format!("url = \"mysql://{user}@{source_host_port}\"\n");
        Self::written(
            prefix,
            server_id,
            [&format!("{url}{source_extra}"), sink_extra, output],
            brokers,
            password,
        )
    }

    /// Sets an environment variable for every command of this connector.
    pub fn with_env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// A connector that connects as another replication user.
    pub fn with_user(
        prefix: &str,
        server_id: u32,
        source_extra: &str,
        sink_extra: &str,
        user: &str,
        password: &str,
    ) -> Self {
        Self::configured(
            prefix,
            server_id,
            [source_extra, sink_extra, ROWS_ONLY],
            user,
            password,
        )
    }

    fn configured(
        prefix: &str,
        server_id: u32,
        [source_extra, sink_extra, output]: [&str; 3],
        user: &str,
        password: &str,
    ) -> Self {
        let url = format!("url = \"{}\"\n", source_url(user));
        Self::written(
            prefix,
            server_id,
            [&format!("{url}{source_extra}"), sink_extra, output],
            &kafka(),
            password,
        )
    }

    /// Writes the configuration: `source_extra` must hold the `url` line.
    fn written(
        prefix: &str,
        server_id: u32,
        [source_extra, sink_extra, output]: [&str; 3],
        brokers: &str,
        password: &str,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("mwcdc.toml");
        // Defaults for the test services; a key given in `source_extra` replaces its default.
        // Only this test's databases are captured: another test's session may write captured
        // table names in ways that stop a connector on purpose.
        let defaults = [
            format!("server_id = {server_id}"),
            "heartbeat = \"1s\"".to_string(),
            "read_timeout = \"10s\"".to_string(),
            format!(
                "include = [\"{prefix}*.revision\", \"{prefix}*.archive\", \"{prefix}*.logging\"]"
            ),
        ];
        let mut source = String::new();
        for line in defaults {
            let key = line.split(" =").next().unwrap_or_default();
            if !source_extra
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{key} ")))
            {
                source.push_str(&line);
                source.push('\n');
            }
        }
        source.push_str(source_extra);
        let http = free_port();
        let text = format!(
            "name = \"{prefix}\"\n\
             [source]\n{source}\n\
             [sink]\ntype = \"kafka\"\nbrokers = \"{brokers}\"\ntopic_prefix = \"{prefix}\"\n{sink_extra}\n\
             [sink.properties]\n\"message.max.bytes\" = 4000000\n\
             [checkpoint]\ndir = \"{state}\"\ninterval = \"200ms\"\n\
             [output]\n{output}\n\
             [http]\nlisten = \"{http}\"\n",
            state = dir.path().join("state").display(),
        );
        std::fs::write(&config, text).expect("write config");
        let stderr_log = dir.path().join("stderr.log");
        Self {
            config,
            _dir: dir,
            child: None,
            stderr_log,
            run_log_start: 0,
            password: password.to_string(),
            http,
            env: Vec::new(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mwcdc"));
        cmd.args(args)
            .env("MWCDC_SOURCE_PASSWORD", &self.password)
            .env("RUST_LOG", "info,librdkafka=warn")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Starts `mwcdc run` and waits until it streams.
    pub fn start(&mut self) {
        self.spawn();
        self.wait_for_log("streaming the binlog", Duration::from_secs(30));
    }

    /// Starts `mwcdc run` without waiting; its log is appended to the previous runs' log.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "already running");
        self.run_log_start = self.log().len();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.stderr_log)
            .expect("stderr log");
        let child = self
            .command(&["run", "--config", self.config.to_str().expect("utf-8 path")])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn mwcdc");
        self.child = Some(child);
    }

    /// The exit status if the process has exited (it is then no longer running).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let status = self.child.as_mut()?.try_wait().expect("wait")?;
        self.child = None;
        Some(status)
    }

    /// Waits until the current run's log contains `needle`, failing if the process exits
    /// first.
    pub fn wait_for_log(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self
                .log()
                .get(self.run_log_start..)
                .unwrap_or_default()
                .contains(needle)
            {
                return;
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "mwcdc exited ({status}) before logging {needle:?}:\n{}",
                        self.log()
                    );
                }
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} within {timeout:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the process wrote to stderr; fails the test if the password is in it.
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.stderr_log) {
            let _ = f.read_to_string(&mut s);
        }
        assert_no_secret(&s, &[&self.password]);
        s
    }

    /// SIGTERM, then waits; returns the exit status.
    pub fn stop(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait(Duration::from_secs(15))
    }

    /// SIGKILL, then waits.
    pub fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        self.wait(Duration::from_secs(5));
    }

    fn signal(&mut self, sig: i32) {
        let child = self.child.as_ref().expect("running");
        // SAFETY: kill(2) on the pid of our own child process.
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
    }

    /// Waits for the process to exit on its own.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("mwcdc did not exit within {timeout:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs another subcommand with this configuration; returns (status, stdout, stderr).
    pub fn command_output(&self, args: &[&str]) -> (ExitStatus, String, String) {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--config", self.config.to_str().expect("utf-8 path")]);
        let out = self.command(&all).output().expect("run mwcdc");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert_no_secret(&stdout, &[&self.password]);
        assert_no_secret(&stderr, &[&self.password]);
        (out.status, stdout, stderr)
    }

    /// GETs `path` from the connector's HTTP listener: (status code, body). The body is
    /// checked for the password.
    pub fn get(&self, path: &str) -> (u16, String) {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(self.http).expect("connect to the listener");
        write!(stream, "GET {path} HTTP/1.0\r\nHost: mwcdc\r\n\r\n").expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        assert_no_secret(&response, &[&self.password]);
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        let code = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("a status code");
        (code, body.to_string())
    }

    /// The value of the metric line `name` (with its labels) in `/metrics`, if present.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let (_, body) = self.get("/metrics");
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    }
}

impl Drop for Connector {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Fails the test if `text` holds one of `secrets` (or a test account's password).
pub fn assert_no_secret(text: &str, secrets: &[&str]) {
    for secret in secrets
        .iter()
        .copied()
        .chain(["cdc-secret", "admin-secret", "repl-secret"])
    {
        assert!(
            secret.is_empty() || !text.contains(secret),
            "a secret appears in mwcdc's output:\n{text}"
        );
    }
}

/// A TCP port nothing listens on now.
pub fn free_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// One record read back from Kafka.
#[derive(Debug, Clone)]
pub struct Msg {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Key as JSON (`Null` for none).
    pub key: serde_json::Value,
    /// Value as JSON (`Null` for a tombstone).
    pub value: serde_json::Value,
    /// The `mwcdc.id` header.
    pub id: String,
    /// The `mwcdc.index` header (the record's place in its transaction).
    pub index: u32,
    /// The producer's timestamp, milliseconds since the epoch.
    pub timestamp_ms: i64,
}

/// Reads every record of the topics starting with `prefix.` until `want(records)` holds or
/// `timeout` passes; returns what was read, in partition order per topic.
pub fn read_topics(prefix: &str, timeout: Duration, want: impl Fn(&[Msg]) -> bool) -> Vec<Msg> {
    read_topics_from(&kafka(), prefix, timeout, want)
}

/// [`read_topics`] from the broker at `brokers`.
pub fn read_topics_from(
    brokers: &str,
    prefix: &str,
    timeout: Duration,
    want: impl Fn(&[Msg]) -> bool,
) -> Vec<Msg> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("{prefix}-reader"))
        .set("isolation.level", "read_committed")
        .set("enable.auto.commit", "false")
        .set("topic.metadata.refresh.interval.ms", "500")
        .create()
        .expect("consumer");
    let deadline = Instant::now() + timeout;
    let mut assigned: BTreeMap<(String, i32), ()> = BTreeMap::new();
    let mut out: Vec<Msg> = Vec::new();
    loop {
        // Assign new topic partitions as they appear.
        if let Ok(md) = consumer.fetch_metadata(None, Duration::from_secs(2)) {
            let mut changed = false;
            for t in md.topics() {
                if !t.name().starts_with(&format!("{prefix}.")) {
                    continue;
                }
                for p in t.partitions() {
                    if assigned
                        .insert((t.name().to_string(), p.id()), ())
                        .is_none()
                    {
                        changed = true;
                    }
                }
            }
            if changed {
                let mut tpl = TopicPartitionList::new();
                for (t, p) in assigned.keys() {
                    tpl.add_partition_offset(t, *p, Offset::Beginning)
                        .expect("partition");
                }
                consumer.assign(&tpl).expect("assign");
                out.clear(); // re-assignment restarts every partition from the beginning
            }
        }
        let poll_until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < poll_until {
            match consumer.poll(Duration::from_millis(50)) {
                Some(Ok(m)) => out.push(to_msg(&m)),
                Some(Err(e)) => panic!("consumer error: {e}"),
                None => {}
            }
        }
        if want(&out) || Instant::now() > deadline {
            out.sort_by(|a, b| {
                (&a.topic, a.partition, a.offset).cmp(&(&b.topic, b.partition, b.offset))
            });
            return out;
        }
    }
}

/// Creates topic `topic` with `partitions` partitions at the broker `brokers` (instead of the
/// broker's one partition of a topic created on first use).
pub async fn create_topic(brokers: &str, topic: &str, partitions: i32) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client");
    let results = admin
        .create_topics(
            [&NewTopic::new(
                topic,
                partitions,
                TopicReplication::Fixed(1),
            )],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .expect("create topic");
    for result in results {
        result.unwrap_or_else(|(topic, e)| panic!("topic {topic}: {e}"));
    }
}

/// Every record of the topics starting with `prefix.` at the broker `brokers`, each partition
/// read until the broker reports its end (a fetch reaching the high watermark): for a final
/// count, once nothing writes any more. In partition order per topic.
pub fn read_to_end(brokers: &str, prefix: &str, timeout: Duration) -> Vec<Msg> {
    let mut out = Vec::new();
    scan_to_end(brokers, prefix, timeout, |m| out.push(m));
    out.sort_by(|a, b| (&a.topic, a.partition, a.offset).cmp(&(&b.topic, b.partition, b.offset)));
    out
}

/// [`read_to_end`] without keeping the records: `each` gets them as they are read, each
/// partition's in offset order (partitions interleaved), for counts and folds of more
/// records than fit in memory as JSON values.
pub fn scan_to_end(brokers: &str, prefix: &str, timeout: Duration, mut each: impl FnMut(Msg)) {
    let config = || {
        ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("group.id", format!("{prefix}-final-reader"))
            .set("isolation.level", "read_committed")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .create::<BaseConsumer>()
            .expect("consumer")
    };
    let md = config()
        .fetch_metadata(None, Duration::from_secs(10))
        .expect("metadata");
    let deadline = Instant::now() + timeout;
    // One consumer per topic: an end-of-partition event names the partition only.
    for topic in md
        .topics()
        .iter()
        .filter(|t| t.name().starts_with(&format!("{prefix}.")))
    {
        let consumer = config();
        let mut tpl = TopicPartitionList::new();
        let mut open = std::collections::BTreeSet::new();
        for p in topic.partitions() {
            tpl.add_partition_offset(topic.name(), p.id(), Offset::Beginning)
                .expect("partition");
            open.insert(p.id());
        }
        consumer.assign(&tpl).expect("assign");
        while !open.is_empty() {
            assert!(
                Instant::now() < deadline,
                "{}: partitions {open:?} not read to their end within {timeout:?}",
                topic.name()
            );
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => each(to_msg(&m)),
                Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                    open.remove(&p);
                }
                Some(Err(e)) => panic!("consumer error: {e}"),
                None => {}
            }
        }
    }
}

fn to_msg(m: &rdkafka::message::BorrowedMessage<'_>) -> Msg {
    let json = |b: Option<&[u8]>| {
        b.map(|b| serde_json::from_slice(b).expect("record is JSON"))
            .unwrap_or(serde_json::Value::Null)
    };
    // Entity records have string keys (`<wiki>:<id>`), row records JSON keys.
    let key = m.key().map_or(serde_json::Value::Null, |k| {
        serde_json::from_slice(k)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(k).into_owned()))
    });
    let header = |name: &str| {
        m.headers()
            .and_then(|h| h.iter().find(|h| h.key == name).and_then(|h| h.value))
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default()
    };
    let id = header("mwcdc.id");
    let index = header("mwcdc.index").parse().expect("mwcdc.index header");
    Msg {
        topic: m.topic().to_string(),
        partition: m.partition(),
        offset: m.offset(),
        key,
        value: json(m.payload()),
        id,
        index,
        timestamp_ms: m.timestamp().to_millis().unwrap_or(0),
    }
}

/// Change records (not tombstones).
pub fn changes(msgs: &[Msg]) -> Vec<&Msg> {
    msgs.iter().filter(|m| !m.value.is_null()).collect()
}
