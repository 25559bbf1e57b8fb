//! Operating mwcdc: `check`, `status`, the HTTP endpoints, TLS to MariaDB, and secrets kept
//! out of every log, error and metric. Each test that changes a server's settings or stops
//! it has a private MariaDB of its own (`private`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::{
    assert_no_secret, create_wiki, exec, kafka, read_topics, unique, Connector, ROWS_ONLY,
};
use crate::private::PrivateServer;
use crate::proxy::{Mode, Proxy};

/// Runs `mwcdc check` and returns (exit code, stdout, stderr).
fn check(connector: &Connector) -> (Option<i32>, String, String) {
    let (status, out, err) = connector.command_output(&["check"]);
    (status.code(), out, err)
}

/// Asserts that `check` fails, with a `FAIL` line for `what` followed by a fix holding `fix`.
fn assert_fails(connector: &Connector, what: &str, fix: &str) {
    let (code, out, err) = check(connector);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(err.contains("checks failed"), "{err}");
    let mut lines = out.lines();
    let found = lines
        .by_ref()
        .find(|l| l.starts_with(&format!("FAIL  {what}:")));
    assert!(found.is_some(), "no FAIL line for {what}:\n{out}");
    let next = lines.next().unwrap_or_default();
    assert!(
        next.starts_with("      fix: ") && next.contains(fix),
        "the fix for {what} should say {fix:?}:\n{out}"
    );
}

async fn admin(server: &PrivateServer) -> mysql_async::Conn {
    mysql_async::Conn::from_url(format!(
        "mysql://mwcdc_admin:admin-secret@{}",
        server.address()
    ))
    .await
    .expect("admin connection")
}

#[tokio::test(flavor = "multi_thread")]
async fn check_passes_on_a_good_server_and_names_the_fix_for_each_wrong_one() {
    let mut server = PrivateServer::start("check", 23510, "");
    let address = server.address();
    // A configuration for this server as `user`, with `source_extra` in `[source]`.
    let checker = |server_id: u32, source_extra: &str, user: [&str; 2]| {
        Connector::at_as(
            "chk",
            server_id,
            [&address, &kafka()],
            [source_extra, "", ROWS_ONLY],
            user,
        )
    };
    let cdc = ["cdc", "cdc-secret"];
    let admin_user = ["mwcdc_admin", "admin-secret"];
    let connector = checker(8510, "", cdc);

    let (code, out, err) = check(&connector);
    assert_eq!(code, Some(0), "{out}{err}");
    for line in [
        "ok    grant REPLICATION SLAVE: 'cdc'@'%' has it",
        "ok    grant SELECT: 'cdc'@'%' has it on *.*",
        "ok    log_bin: log_bin = 1",
        "ok    binlog_format: binlog_format = ROW",
        "ok    binlog_row_image: binlog_row_image = FULL",
        "ok    binlog_row_metadata: binlog_row_metadata = FULL",
        "ok    binlog_checksum: binlog_checksum = CRC32",
        "ok    checkpoint: none",
        "ok    brokers: ",
        // The test account may not run SHOW SLAVE HOSTS.
        "warn  server_id: cannot check that no other replica uses 8510",
    ] {
        assert!(out.contains(line), "{line:?} missing:\n{out}");
    }
    assert!(!out.contains("FAIL"), "{out}");

    server.exec("SET GLOBAL binlog_format = STATEMENT").await;
    assert_fails(
        &connector,
        "binlog_format",
        "SET GLOBAL binlog_format = ROW",
    );
    server.exec("SET GLOBAL binlog_format = ROW").await;

    server.exec("SET GLOBAL binlog_row_image = MINIMAL").await;
    assert_fails(
        &connector,
        "binlog_row_image",
        "SET GLOBAL binlog_row_image = FULL",
    );
    server.exec("SET GLOBAL binlog_row_image = FULL").await;

    server
        .exec("SET GLOBAL binlog_row_metadata = MINIMAL")
        .await;
    assert_fails(
        &connector,
        "binlog_row_metadata",
        "binlog_row_metadata = FULL",
    );
    let info_schema = checker(8510, "schema = \"information_schema\"\n", cdc);
    let (code, out, _) = check(&info_schema);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("not needed with source.schema"), "{out}");
    server.exec("SET GLOBAL binlog_row_metadata = FULL").await;

    server
        .exec("CREATE USER 'reader'@'%' IDENTIFIED BY 'reader-pw'; GRANT SELECT ON *.* TO 'reader'@'%'")
        .await;
    let reader = checker(8510, "", ["reader", "reader-pw"]);
    assert_fails(
        &reader,
        "grant REPLICATION SLAVE",
        "GRANT REPLICATION SLAVE ON *.* TO 'reader'@'%'",
    );
    assert_fails(
        &reader,
        "grant REPLICATION CLIENT",
        "GRANT REPLICATION CLIENT ON *.* TO 'reader'@'%'",
    );

    // Another replica registered with id 8511 while a connector configured with it checks.
    let replica = admin(&server).await;
    let stream = replica
        .get_binlog_stream(mysql_async::BinlogStreamRequest::new(8511))
        .await
        .expect("a binlog dump registers a replica");
    let colliding = checker(8511, "", admin_user);
    assert_fails(
        &colliding,
        "server_id",
        "a colliding id makes the server drop the other replica's connection",
    );
    drop(stream);
    // With the grant, a free id passes.
    let free = checker(8512, "", admin_user);
    let (code, out, _) = check(&free);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("ok    server_id: 8512 is not used"), "{out}");

    server.restart_with("skip-log-bin");
    assert_fails(&connector, "log_bin", "enable the binary log");
}

/// Inserts one revision row per call into `db` on `conn`.
async fn insert_revision(conn: &mut mysql_async::Conn, db: &str) {
    exec(
        conn,
        &format!(
            "INSERT INTO `{db}`.revision (rev_page, rev_timestamp) VALUES (1, '20261126080000')"
        ),
    )
    .await;
}

/// Waits until `probe` holds, polling every 100 ms.
fn wait_until(what: &str, timeout: Duration, mut probe: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !probe() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_move_with_a_workload_and_readiness_follows_the_server() {
    let server = PrivateServer::start("metrics", 23520, "");
    let proxy = Proxy::start(23521, server.address().parse().expect("address"));
    let mut conn = admin(&server).await;
    create_wiki(&mut conn, "opm_wiki").await;
    let mut mwcdc = Connector::at(
        "opm",
        8520,
        [&proxy.address(), &kafka()],
        ["", "", ROWS_ONLY],
    );
    mwcdc.start();
    assert_eq!(mwcdc.get("/healthz"), (200, "ok\n".to_string()));
    wait_until("ready", Duration::from_secs(10), || {
        mwcdc.get("/readyz").0 == 200
    });

    let inserts = "mwcdc_row_changes_total{op=\"insert\",table=\"revision\"}";
    let latency_count = "mwcdc_pipeline_latency_seconds_count";
    for _ in 0..50 {
        insert_revision(&mut conn, "opm_wiki").await;
    }
    wait_until("50 inserts counted", Duration::from_secs(10), || {
        mwcdc.metric(inserts) == Some(50.0)
    });
    // A latency is observed when Kafka acknowledges a transaction's last record.
    wait_until("50 transactions delivered", Duration::from_secs(10), || {
        mwcdc.metric(latency_count) >= Some(50.0)
    });
    let delivered = mwcdc.metric(latency_count).expect("latency histogram");
    assert!(
        mwcdc
            .metric("mwcdc_pipeline_latency_seconds_sum")
            .expect("sum")
            > 0.0
    );

    // Stalled, mwcdc reads nothing while the server writes on: the lag grows.
    proxy.set(Mode::Stall);
    let stalled = Instant::now();
    while stalled.elapsed() < Duration::from_secs(4) {
        insert_revision(&mut conn, "opm_wiki").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let lag = mwcdc.metric("mwcdc_source_lag_seconds").expect("lag");
    assert!(lag >= 3.0, "lag {lag} s after a 4 s stall");
    std::thread::sleep(Duration::from_millis(1100));
    let later = mwcdc.metric("mwcdc_source_lag_seconds").expect("lag");
    assert!(
        later > lag,
        "the lag grows while stalled: {lag} then {later}"
    );
    proxy.set(Mode::Pass);
    wait_until("caught up", Duration::from_secs(15), || {
        mwcdc.metric("mwcdc_source_lag_seconds") == Some(0.0)
    });
    // Caught up means read: the acknowledgements of what was read last may still come.
    wait_until(
        "the stalled transactions delivered",
        Duration::from_secs(15),
        || {
            mwcdc.metric(latency_count).is_some_and(|n| n > delivered)
                && mwcdc.metric("mwcdc_records_in_flight") == Some(0.0)
        },
    );
    wait_until("checkpoint age 0", Duration::from_secs(5), || {
        mwcdc.metric("mwcdc_checkpoint_age_seconds") == Some(0.0)
    });
    let (_, metrics) = mwcdc.get("/metrics");
    assert!(
        metrics.contains("mwcdc_checkpoint_info{gtid=\"0-1-"),
        "{metrics}"
    );
    assert!(
        metrics.contains("mwcdc_source_bytes_read_total "),
        "{metrics}"
    );

    // `status` while the connector runs: the checkpoint comes from its /status endpoint.
    let (status, out, err) = mwcdc.command_output(&["status", "--json"]);
    assert!(status.success(), "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["checkpoint"]["running"], true, "{out}");
    assert_eq!(json["behind"]["transactions"], 0, "{out}");
    assert_eq!(json["checkpoint"]["gtid"], json["server"]["gtid"], "{out}");

    server.stop();
    wait_until("unready", Duration::from_secs(15), || {
        let (code, body) = mwcdc.get("/readyz");
        code == 503 && body.contains("not connected")
    });
    assert_eq!(mwcdc.get("/healthz").0, 200, "alive while MariaDB is down");
    assert_eq!(mwcdc.metric("mwcdc_source_connected"), Some(0.0));
    server.start_again();
    wait_until("ready again", Duration::from_secs(60), || {
        mwcdc.get("/readyz").0 == 200
    });
    assert!(
        mwcdc
            .metric("mwcdc_source_reconnects_total")
            .expect("reconnects")
            >= 1.0
    );
    assert!(mwcdc.stop().success());
}

/// Makes a CA (`<name>-ca.pem`) and, signed by it, a certificate for 127.0.0.1 and localhost
/// (`<name>-cert.pem`, `<name>-key.pem`) in `dir`.
fn certificates(dir: &Path, name: &str) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (ca_key, ca, key, csr, cert, ext) = (
        format!("{name}-ca-key.pem"),
        format!("{name}-ca.pem"),
        format!("{name}-key.pem"),
        format!("{name}.csr"),
        format!("{name}-cert.pem"),
        format!("{name}.ext"),
    );
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        &format!("/CN={name} test CA"),
        "-keyout",
        &ca_key,
        "-out",
        &ca,
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &key,
        "-out",
        &csr,
    ]);
    std::fs::write(
        dir.join(&ext),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("ext file");
    openssl(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &ext,
        "-out",
        &cert,
    ]);
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_verify_identity_streams_and_a_wrong_ca_fails_clearly() {
    let certs = tempfile::tempdir().expect("temp dir");
    certificates(certs.path(), "server");
    certificates(certs.path(), "other");
    let path = |f: &str| certs.path().join(f).display().to_string();
    let server = PrivateServer::start(
        "tls",
        23530,
        &format!(
            "ssl_ca={}\nssl_cert={}\nssl_key={}",
            path("server-ca.pem"),
            path("server-cert.pem"),
            path("server-key.pem")
        ),
    );
    // Topics outlive the private server: a prefix of this run's own.
    let (prefix, _) = unique("tls");
    let wiki = format!("{prefix}_wiki");
    let mut conn = admin(&server).await;
    create_wiki(&mut conn, &wiki).await;
    // This account cannot log in without TLS.
    exec(
        &mut conn,
        "CREATE USER 'tlsuser'@'%' IDENTIFIED BY 'tls-pw' REQUIRE SSL",
    )
    .await;
    exec(
        &mut conn,
        "GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO 'tlsuser'@'%'",
    )
    .await;
    let address = server.address();
    // A connector of this run as the TLS-only account, with `source_extra` in `[source]`.
    let tls_user = |server_id: u32, source_extra: &str| {
        Connector::at_as(
            &prefix,
            server_id,
            [&address, &kafka()],
            [source_extra, "", ROWS_ONLY],
            ["tlsuser", "tls-pw"],
        )
    };
    let tls = |ca: &str| {
        format!(
            "[source.tls]\nmode = \"verify-identity\"\nca = \"{}\"\n",
            path(ca)
        )
    };

    let mut mwcdc = tls_user(8530, &tls("server-ca.pem"));
    let (code, out, err) = check(&mwcdc);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("TLSv1."), "the session is encrypted:\n{out}");
    assert!(
        out.contains("source.tls.mode = \"verify-identity\""),
        "{out}"
    );
    mwcdc.start();
    exec(
        &mut conn,
        &format!("INSERT INTO `{wiki}`.revision (rev_id, rev_page, rev_timestamp) VALUES (7, 1, '20261126080000')"),
    )
    .await;
    let msgs = read_topics(&prefix, Duration::from_secs(20), |m| !m.is_empty());
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(mwcdc.stop().success());

    let mut wrong_ca = tls_user(8531, &tls("other-ca.pem"));
    let (code, out, _) = check(&wrong_ca);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("TLS to 127.0.0.1:23530 failed (source.tls.mode = \"verify-identity\")"),
        "{out}"
    );
    assert!(out.contains("UnknownIssuer"), "the reason is named:\n{out}");
    wrong_ca.spawn();
    let status = wrong_ca.wait(Duration::from_secs(30));
    assert_eq!(
        status.code(),
        Some(3),
        "a certificate that does not verify is not retried"
    );
    assert!(
        wrong_ca
            .log()
            .contains("source.tls.ca is the CA that signed"),
        "{}",
        wrong_ca.log()
    );

    let plain = tls_user(8532, "");
    let (code, out, _) = check(&plain);
    assert_eq!(
        code,
        Some(1),
        "an account that requires TLS refuses a plain login:\n{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_stay_out_of_logs_errors_and_metrics() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("kafka-password");
    let (env_secret, file_secret) = ("kafka-env-secret-0815", "kafka-file-secret-4711");
    std::fs::write(&file, format!("{file_secret}\n")).expect("write");
    // SASL against a broker without it: mwcdc waits for the brokers, logging at debug level
    // with librdkafka's own configuration and security debugging on.
    let properties = format!(
        "[sink.properties]\n\"security.protocol\" = \"SASL_PLAINTEXT\"\n\"sasl.mechanism\" = \"PLAIN\"\n\"sasl.username\" = \"mwcdc\"\n\"sasl.password_file\" = \"{}\"\n\"debug\" = \"conf,security,broker\"\n",
        file.display()
    );
    for (server_id, env) in [(8540, None), (8541, Some(env_secret))] {
        let mut mwcdc = Connector::new(&format!("sec_{server_id}"), server_id, "", "")
            .with_env("RUST_LOG", "debug");
        if let Some(secret) = env {
            mwcdc = mwcdc.with_env("MWCDC_SINK_PROPERTIES_SASL_PASSWORD", secret);
        }
        let config = std::fs::read_to_string(&mwcdc.config).expect("config");
        std::fs::write(
            &mwcdc.config,
            config.replace("[sink.properties]\n", &properties),
        )
        .expect("config");
        mwcdc.spawn();
        mwcdc.wait_for_log("the Kafka brokers do not answer", Duration::from_secs(60));
        let (_, metrics) = mwcdc.get("/metrics");
        let (_, status) = mwcdc.get("/status");
        mwcdc.stop();
        let log = mwcdc.log();
        assert!(log.contains("DEBUG"), "debug logging was on:\n{log}");
        for text in [&log, &metrics, &status] {
            assert_no_secret(text, &[env_secret, file_secret]);
        }
    }

    // A wrong database password: the error names the account, never the password tried.
    let wrong = Connector::with_user("sec_wrong", 8542, "", "", "cdc", "wrong-db-pass-9999");
    let (status, out, err) = wrong.command_output(&["check"]);
    assert!(!status.success());
    assert!(out.contains("Access denied"), "{out}{err}");
    assert_no_secret(&format!("{out}{err}"), &["wrong-db-pass-9999"]);
}

/// Every YAML file of the packaging parses; Helm templates after their `{{ }}` expressions
/// are replaced by a plain value and lines holding only a control expression are dropped.
#[test]
fn the_packaging_yaml_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docker");
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
    }
    assert!(
        files.len() >= 8,
        "the compose file and the chart: {files:?}"
    );
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let text = if file.components().any(|c| c.as_os_str() == "templates") {
            untemplated(&text)
        } else {
            text
        };
        if let Err(e) = yaml_rust2::YamlLoader::load_from_str(&text) {
            panic!("{} does not parse: {e}\n{text}", file.display());
        }
    }
}

/// A Helm template with its expressions replaced by `x` and control lines dropped.
fn untemplated(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("{{")
            && trimmed.ends_with("}}")
            && trimmed.matches("{{").count() == 1
        {
            continue;
        }
        let mut rest = line;
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            out.push('x');
            rest = rest[open..]
                .find("}}")
                .map_or("", |close| &rest[open + close + 2..]);
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}
