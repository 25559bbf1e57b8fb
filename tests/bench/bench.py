"""`make bench`: mwcdc against the alternatives on one fixed binlog segment, in one run.

1. Generates the segment on the local MariaDB (`make services`), once: 1,000,000 MediaWiki
   `revision`-shaped rows inserted in transactions of 100 rows, then 200,000 single-row
   updates, in binlog files of their own. It is reused while the server still has them.
   The realistic variant is a second segment, generated the same way by the MediaWiki
   workload generator with the entity tests' mix (five wikis, 20,000 operations, two
   5,000-revision pages deleted and undeleted).
2. Reads exactly that segment with each tool, `--runs` times, the tools interleaved: the wire
   floor (`mariadb-binlog --read-from-remote-server --raw`), python-mysql-replication (a tenth
   of the rows, every value decoded), mwcdc with the null sink, and mwcdc to the broker in
   both delivery modes (until the stop position is acknowledged and checkpointed).
3. Measures commit-to-consumer latency at a steady rate (`latency.py`).
4. Counts the instructions mwcdc (null sink) executes per row change under
   `valgrind --tool=callgrind`, on 500 of the segment's insert transactions (50,000 rows) and
   on 5,000 of its single-row update transactions: repeatable where wall times vary by 10-30 %.
5. Prints medians (wall time, row changes per second, CPU seconds, peak RSS) with ratios to the
   wire floor and to python-mysql-replication; `--write FILE` puts the table into FILE between
   the `<!-- bench:begin -->` and `<!-- bench:end -->` lines.
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "tests" / "services"
MWCDC = ROOT / "target" / "release" / "mwcdc"
WORKLOAD = ROOT / "target" / "release" / "mwcdc-workload"
DB = "mwcdc_bench"
INSERT_ROWS = 1_000_000
TXN_ROWS = 100
UPDATES = 200_000
SEGMENT_ROWS = INSERT_ROWS + UPDATES
PYTHON_SHARE = 10  # python-mysql-replication reads a tenth of the rows
MARKER = ROOT / ".services" / "bench-segment.json"
MIX_MARKER = ROOT / ".services" / "bench-mix-segment.json"
MIX_PREFIX = "bench_mix_"
MIX_TABLES = ["revision", "archive", "logging", "page", "user_groups"]
# The entity tests' workload (tests/integration/entities.rs).
MIX_ARGS = ["--wikis", "5", "--ops", "20000", "--seed", "20261126", "--big-pages", "2",
            "--big-page-revisions", "5000", "--delete-batch-size", "1000"]


def service_env(script: str) -> dict:
    out = subprocess.run([str(SERVICES / script), "env"], check=True, capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        match = re.match(r"export (\w+)=(.*)", line)
        if match:
            env[match.group(1)] = match.group(2)
    return env


ENV = {**service_env("mariadb.sh"), **service_env("kafka.sh")}
PORT = int(os.environ.get("MWCDC_MARIADB_PORT", "3307"))
USER, PASSWORD = ENV["MWCDC_TEST_CDC_USER"], ENV["MWCDC_TEST_CDC_PASSWORD"]
BROKERS = ENV["MWCDC_TEST_KAFKA"]
METRICS = "127.0.0.1:19188"  # the latency connector's HTTP listener


def sql(query: str) -> str:
    return subprocess.run(
        [str(SERVICES / "mariadb.sh"), "sql", "-N", "-e", query], check=True, capture_output=True, text=True
    ).stdout.strip()


def binary_logs() -> list:
    rows = sql("SHOW BINARY LOGS").splitlines()
    return [(r.split("\t")[0], int(r.split("\t")[1])) for r in rows if r]


def revision_row(i: int) -> str:
    ts = f"2026{i % 12 + 1:02d}{i % 28 + 1:02d}{i % 24:02d}{i % 60:02d}{(i * 7) % 60:02d}"
    sha1 = format((i * 0x9E3779B97F4A7C15) & ((1 << 155) - 1), "x").rjust(31, "0")[:31]
    parent = "NULL" if i == 1 else str(i - 1)
    return f"({i % 50000 + 1},{(i * 7) % 100000},{i % 3000},'{ts}',{i % 2},0,{i % 100000},{parent},'{sha1}')"


def segment_sql():
    yield f"USE {DB};\n"
    columns = "rev_page,rev_comment_id,rev_actor,rev_timestamp,rev_minor_edit,rev_deleted,rev_len,rev_parent_id,rev_sha1"
    for t in range(INSERT_ROWS // TXN_ROWS):
        rows = ",".join(revision_row(t * TXN_ROWS + k + 1) for k in range(TXN_ROWS))
        yield f"INSERT INTO revision ({columns}) VALUES {rows};\n"
    for u in range(UPDATES):
        yield f"UPDATE revision SET rev_len = rev_len + 1 WHERE rev_id = {(u * 5) % INSERT_ROWS + 1};\n"


def reusable(marker: Path, rows=None):
    """The segment recorded in `marker`, if the server still has its files."""
    if not marker.exists():
        return None
    segment = json.loads(marker.read_text())
    have = {name for name, _ in binary_logs()}
    if (rows is None or segment.get("rows") == rows) and set(segment["files"]) <= have:
        print(f"segment: reusing {segment['start']} -> {segment['end']}", file=sys.stderr)
        return segment
    return None


def record_segment(write) -> dict:
    """Runs `write` between two binlog rotations: the start and end GTID positions, the files
    in between and their size."""
    sql("FLUSH BINARY LOGS")
    start = sql("SELECT @@gtid_binlog_pos")
    first = binary_logs()[-1][0]
    write()
    end = sql("SELECT @@gtid_binlog_pos")
    last = binary_logs()[-1][0]
    sql("FLUSH BINARY LOGS")
    logs = binary_logs()
    names = [n for n, _ in logs]
    files = names[names.index(first) : names.index(last) + 1]
    size = sum(s for n, s in logs if n in files)
    return {"start": start, "end": end, "files": files, "bytes": size}


def generate_segment() -> dict:
    segment = reusable(MARKER, SEGMENT_ROWS)
    if segment:
        return {**segment, "name": "revision", "include": [f"{DB}.revision"]}
    print("segment: generating (about a minute)", file=sys.stderr)
    sql(f"CREATE DATABASE IF NOT EXISTS {DB}")
    sql(f"DROP TABLE IF EXISTS {DB}.revision")
    sql(
        f"CREATE TABLE {DB}.revision (rev_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, "
        "rev_page INT UNSIGNED NOT NULL, rev_comment_id BIGINT UNSIGNED NOT NULL DEFAULT 0, "
        "rev_actor BIGINT UNSIGNED NOT NULL DEFAULT 0, rev_timestamp BINARY(14) NOT NULL, "
        "rev_minor_edit TINYINT UNSIGNED NOT NULL DEFAULT 0, rev_deleted TINYINT UNSIGNED NOT NULL DEFAULT 0, "
        "rev_len INT UNSIGNED DEFAULT NULL, rev_parent_id BIGINT UNSIGNED DEFAULT NULL, "
        "rev_sha1 VARBINARY(32) NOT NULL DEFAULT '') ENGINE=InnoDB"
    )
    flush = sql("SELECT @@GLOBAL.innodb_flush_log_at_trx_commit")
    sql("SET GLOBAL innodb_flush_log_at_trx_commit = 2")

    def write():
        client = subprocess.Popen(
            [str(SERVICES / "mariadb.sh"), "sql"], stdin=subprocess.PIPE, text=True
        )
        for statement in segment_sql():
            client.stdin.write(statement)
        client.stdin.close()
        if client.wait() != 0:
            raise SystemExit("generating the segment failed")

    try:
        segment = {**record_segment(write), "rows": SEGMENT_ROWS}
    finally:
        sql(f"SET GLOBAL innodb_flush_log_at_trx_commit = {flush}")
    MARKER.write_text(json.dumps(segment))
    return {**segment, "name": "revision", "include": [f"{DB}.revision"]}


def count_row_changes(segment: dict) -> int:
    """Row changes in the segment's files, as `mariadb-binlog -v` decodes them."""
    out = subprocess.run(
        ["mariadb-binlog", "--no-defaults", "--read-from-remote-server", "--host=127.0.0.1", f"--port={PORT}",
         f"--user={USER}", f"--password={PASSWORD}", "-v", "--base64-output=decode-rows", *segment["files"]],
        check=True, capture_output=True, text=True, errors="replace",
    ).stdout
    tables = "|".join(MIX_TABLES)
    pattern = rf"^### (?:INSERT INTO|UPDATE|DELETE FROM) `{MIX_PREFIX}\d+`\.`(?:{tables})`"
    return len(re.findall(pattern, out, re.MULTILINE))


def generate_mix_segment() -> dict:
    include = [f"{MIX_PREFIX}*.{t}" for t in MIX_TABLES]
    segment = reusable(MIX_MARKER)
    if segment:
        return {**segment, "name": "mix", "include": include}
    print("segment: generating the realistic variant (a few minutes)", file=sys.stderr)
    flush = sql("SELECT @@GLOBAL.innodb_flush_log_at_trx_commit")
    sql("SET GLOBAL innodb_flush_log_at_trx_commit = 2")

    def write():
        with tempfile.TemporaryDirectory(prefix="mwcdc-bench-truth-") as tmp:
            subprocess.run(
                [str(WORKLOAD), "--url", ENV["MWCDC_TEST_MYSQL_URL"], "--db-prefix", MIX_PREFIX,
                 "--truth", f"{tmp}/truth.jsonl", *MIX_ARGS],
                check=True, stdout=subprocess.DEVNULL,
            )

    try:
        segment = record_segment(write)
    finally:
        sql(f"SET GLOBAL innodb_flush_log_at_trx_commit = {flush}")
    # The rotation after the databases are recreated: only the generator's rows are counted.
    segment["rows"] = count_row_changes(segment)
    MIX_MARKER.write_text(json.dumps(segment))
    return {**segment, "name": "mix", "include": include}


def timed(cmd: list, env: dict, log: Path) -> dict:
    """Runs `cmd` under GNU time: wall seconds, CPU seconds, peak RSS (MB), and its output."""
    times = log.with_suffix(".time")
    with open(log, "w") as out:
        status = subprocess.run(
            ["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(times), *cmd],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        ).returncode
    if status != 0:
        raise SystemExit(f"{cmd[0]} failed ({status}); see {log}:\n{log.read_text()[-2000:]}")
    wall, user, system, rss = times.read_text().split()[-4:]
    return {"wall": float(wall), "cpu": float(user) + float(system), "rss_mb": int(rss) / 1024}


def fresh_broker() -> None:
    """Starts the broker with empty storage, once per `make bench`."""
    for action in ("wipe", "start"):
        subprocess.run([str(SERVICES / "kafka.sh"), action], check=True, capture_output=True)


def empty_broker() -> None:
    """Deletes every topic but the broker's internal ones, so that every run writes to empty
    partitions of a broker that stays up: restarting it would time each run on a cold JVM,
    whose compiler then competes with the tool for the two cores (about 2 s of a 12 s run)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": BROKERS})
    topics = [t for t in admin.list_topics(timeout=30).topics if not t.startswith("__")]
    if not topics:
        return
    for future in admin.delete_topics(topics, operation_timeout=30).values():
        future.result(timeout=60)
    deadline = time.time() + 60
    while set(topics) & set(admin.list_topics(timeout=30).topics):
        if time.time() > deadline:
            raise SystemExit(f"the broker did not delete the topics {topics}")
        time.sleep(0.2)


def mwcdc_config(work: Path, name: str, segment: dict, sink: str, delivery: str, server_id: int) -> Path:
    path = work / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\n[source]\nurl = "mysql://{USER}@127.0.0.1:{PORT}"\nserver_id = {server_id}\n'
        f'include = {json.dumps(segment["include"])}\nstart = "{segment["start"]}"\nstop = "{segment["end"]}"\n'
        f'[sink]\ntype = "{sink}"\nbrokers = "{BROKERS}"\ntopic_prefix = "{name}"\ndelivery = "{delivery}"\n'
        f'[checkpoint]\ndir = "{work / name}"\n[http]\nlisten = ""\n'
    )
    return path


def run_tool(tool: str, segment: dict, work: Path, round_: int) -> dict:
    name = f"bench-{segment['name']}-{tool}-{round_}-{os.getpid()}"
    log = work / f"{name}.log"
    env = {"MWCDC_SOURCE_PASSWORD": PASSWORD, "RUST_LOG": "info"}
    if tool == "wire":
        out = work / name
        out.mkdir()
        cmd = [
            "mariadb-binlog", "--no-defaults", "--read-from-remote-server", "--raw",
            "--host=127.0.0.1", f"--port={PORT}", f"--user={USER}", f"--password={PASSWORD}",
            f"--result-file={out}/", *segment["files"],
        ]
        result = timed(cmd, {}, log)
        rows = segment["rows"]
        subprocess.run(["rm", "-rf", str(out)], check=True)
    elif tool == "python":
        rows_wanted = SEGMENT_ROWS // PYTHON_SHARE
        cmd = [
            str(ROOT / ".services" / "bench-venv" / "bin" / "python"), str(ROOT / "tests" / "bench" / "pyrepl.py"),
            "127.0.0.1", str(PORT), USER, PASSWORD, str(9200 + round_), segment["files"][0], DB, str(rows_wanted),
        ]
        result = timed(cmd, {}, log)
        rows = int(log.read_text().split()[-2])
    elif tool == "debezium":
        empty_broker()
        result = run_debezium(segment, work, name, round_)
        rows = segment["rows"]
    else:
        sink, delivery = {"null": ("null", "at-least-once"), "kafka-alo": ("kafka", "at-least-once"),
                          "kafka-eo": ("kafka", "exactly-once"),
                          "kafka-tx": ("kafka", "transactional")}[tool]
        if sink == "kafka":
            empty_broker()
        config = mwcdc_config(work, name, segment, sink, delivery, 9300 + round_)
        result = timed([str(MWCDC), "run", "--config", str(config)], env, log)
        if "stopped at the stop position" not in log.read_text():
            raise SystemExit(f"{name} did not reach the stop position; see {log}")
        rows = segment["rows"]
    result["rows"] = rows
    result["rate"] = rows / result["wall"]
    return result


# Debezium: its MariaDB connector (tests/bench/debezium/pom.xml) in Kafka Connect's standalone
# worker, the way the Kafka distribution's connect-standalone.sh runs it (the same class, heap
# and GC options; the jars come from Maven instead of the distribution's libs/). That is how
# users run Debezium on Kafka, and it needs no code of ours: the worker takes a properties file
# and a connector file, and its REST API sets the starting offset (KIP-875) before the
# connector runs (KIP-980: created stopped).
DEBEZIUM_JARS = ROOT / ".services" / "debezium"
DEBEZIUM_LOG4J = ROOT / "tests" / "bench" / "debezium" / "log4j2.properties"
DEBEZIUM_REST = "127.0.0.1:18083"
DEBEZIUM_JVM = ["-Xms256M", "-Xmx2G", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
                "-Djava.awt.headless=true"]
DEBEZIUM_STALL_S = 120  # no new record for this long: the run fails


def debezium_worker(work: Path, name: str) -> Path:
    """The Connect worker's properties: JSON without schemas, the offsets in a file, and the
    producer settings of mwcdc's sink (crates/mwcdc-sink/src/kafka.rs: idempotent, acks=all,
    zstd, linger 5 ms, librdkafka's default batch of 1,000,000 bytes and at most 5 requests in
    flight, librdkafka's limit with idempotence)."""
    path = work / f"{name}.worker.properties"
    path.write_text(
        f"bootstrap.servers={BROKERS}\n"
        f"listeners=http://{DEBEZIUM_REST}\n"
        "key.converter=org.apache.kafka.connect.json.JsonConverter\n"
        "value.converter=org.apache.kafka.connect.json.JsonConverter\n"
        "key.converter.schemas.enable=false\n"
        "value.converter.schemas.enable=false\n"
        f"offset.storage.file.filename={work / name}.offsets\n"
        "producer.acks=all\n"
        "producer.enable.idempotence=true\n"
        "producer.compression.type=zstd\n"
        "producer.linger.ms=5\n"
        "producer.batch.size=1000000\n"
        "producer.max.in.flight.requests.per.connection=5\n"
    )
    return path


def debezium_connector(work: Path, name: str, table: str, snapshot: str, server_id: int) -> Path:
    """The connector's file (the body of Connect's POST /connectors), created stopped so that
    its offset can be set first.

    - `snapshot.mode`: `recovery` when an offset is seeded: Debezium's `no_data` (schema only,
      no rows) with a seeded offset stops with "The db history topic is missing. You may attempt
      to recover it by reconfiguring the connector to recovery"; `recovery` is `no_data` that
      also takes the tables' schema at the stored offset and streams from it. `no_data` when
      the connector starts at the server's current position (the latency run).
    - `snapshot.locking.mode = none`: the schema is read without FLUSH TABLES WITH READ LOCK
      (the cdc user has no RELOAD; nothing alters the tables meanwhile).
    - Throughput, per Debezium's MariaDB connector reference (advanced properties):
      `max.batch.size` 8192 (default 2048, the events handed to Connect per poll),
      `max.queue.size` 32768 (default 8192; "always set max.queue.size to a value that is
      larger than the value of max.batch.size"), `poll.interval.ms` 5 (default 500: how long the
      task waits for new events before it hands over a batch; 5 ms as mwcdc's linger.ms).
    - The schema history on the same Kafka, in a topic of the run's own.
    """
    config = {
        "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
        "tasks.max": "1",
        "database.hostname": "127.0.0.1",
        "database.port": str(PORT),
        "database.user": USER,
        "database.password": PASSWORD,
        "database.server.id": str(server_id),
        "topic.prefix": name,
        "table.include.list": re.escape(table),
        "snapshot.mode": snapshot,
        "snapshot.locking.mode": "none",
        "schema.history.internal.kafka.bootstrap.servers": BROKERS,
        "schema.history.internal.kafka.topic": f"{name}.schema-history",
        "schema.history.internal.store.only.captured.tables.ddl": "true",
        "max.batch.size": "8192",
        "max.queue.size": "32768",
        "poll.interval.ms": "5",
    }
    path = work / f"{name}.connector.json"
    path.write_text(json.dumps({"name": name, "config": config, "initial_state": "STOPPED"}))
    return path


def connect_rest(method: str, path: str, body=None):
    """A request to the Connect worker's REST API: the decoded JSON answer, or None for 404 or
    a worker not listening yet."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://{DEBEZIUM_REST}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            text = answer.read().decode()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise SystemExit(f"Connect {method} {path}: {e.code} {e.read().decode()[:1000]}")
    except (ConnectionError, urllib.error.URLError):
        return None
    return json.loads(text) if text else {}


def worker_errors(log: Path) -> str:
    """The ERROR lines of a Connect worker's log (the cause of a failed run; its tail is the
    shutdown), or its tail when there are none."""
    lines = log.read_text().splitlines()
    errors = [line for line in lines if "] ERROR " in line]
    return "\n".join((errors or lines)[-20:])[-3000:]


def start_debezium(work: Path, name: str, table: str, server_id: int, offset=None):
    """Starts the Connect worker with the connector stopped, stores `offset` (the MariaDB
    connector's: binlog file, position, GTID position) if given, resumes the connector.
    Returns the worker process and its log path."""
    snapshot = "recovery" if offset else "no_data"
    log = work / f"{name}.log"
    cmd = ["java", *DEBEZIUM_JVM, f"-Dlog4j2.configurationFile={DEBEZIUM_LOG4J}", "-cp", f"{DEBEZIUM_JARS}/*",
           "org.apache.kafka.connect.cli.ConnectStandalone", str(debezium_worker(work, name)),
           str(debezium_connector(work, name, table, snapshot, server_id))]
    with open(log, "w") as out:
        worker = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while (connect_rest("GET", f"/connectors/{name}/status") or {}).get("connector", {}).get("state") != "STOPPED":
        if time.time() > deadline or worker.poll() is not None:
            raise SystemExit(f"Debezium's worker did not start; see {log}:\n{worker_errors(log)}")
        time.sleep(0.1)
    if offset:
        connect_rest("PATCH", f"/connectors/{name}/offsets",
                     {"offsets": [{"partition": {"server": name}, "offset": offset}]})
    connect_rest("PUT", f"/connectors/{name}/resume")
    return worker, log


def stop_debezium(worker) -> None:
    """Stops the Connect worker (SIGTERM: it stops the connector and flushes its offsets)."""
    worker.terminate()
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def jvm_usage(pid: int) -> dict:
    """CPU seconds (user + system, every thread) and peak RSS (MB) of a running process, from
    /proc: what GNU time would report had the process exited now."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    hwm = re.search(r"^VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    return {"cpu": (int(fields[11]) + int(fields[12])) / ticks, "rss_mb": int(hwm.group(1)) / 1024}


def create_topic(topic: str) -> None:
    """Creates `topic` with one partition and LogAppendTime: each record carries the broker's
    time of its append, the end of the timed run."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": BROKERS})
    new = NewTopic(topic, num_partitions=1, replication_factor=1,
                   config={"message.timestamp.type": "LogAppendTime"})
    admin.create_topics([new])[topic].result(timeout=30)


def await_records(topic: str, expected: int, worker, log: Path) -> int:
    """Waits until `topic` (one partition) holds `expected` records, by its high watermark:
    no consumer competes with Debezium for the CPU. Returns the append time (ms) of the last.
    Fails when the worker exits or no record arrives for DEBEZIUM_STALL_S."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": BROKERS, "group.id": f"bench-{topic}", "enable.auto.commit": False})
    partition = TopicPartition(topic, 0)
    seen, progress = 0, time.time()
    while True:
        high = consumer.get_watermark_offsets(partition, timeout=10, cached=False)[1]
        if high >= expected:
            break
        if high > seen:
            seen, progress = high, time.time()
        if worker.poll() is not None or time.time() - progress > DEBEZIUM_STALL_S:
            raise SystemExit(f"Debezium delivered {seen:,} of {expected:,} records to {topic}; see {log}:\n"
                             f"{worker_errors(log)}")
        time.sleep(0.05)
    consumer.assign([TopicPartition(topic, 0, expected - 1)])
    msg = None
    while msg is None or msg.error():
        msg = consumer.poll(10)
    consumer.close()
    return msg.timestamp()[1]


def check_records(topic: str, segment: dict) -> dict:
    """Reads every record of `topic` (after the run, untimed) and fails unless they are exactly
    the segment's row changes: INSERT_ROWS creates then UPDATES updates, each of a GTID inside
    the segment, the first of its first transaction and the last of its last. Returns the
    first record's value."""
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

    consumer = Consumer({"bootstrap.servers": BROKERS, "group.id": f"bench-check-{topic}", "enable.auto.commit": False})
    high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)[1]
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    ops = {b'"op":"c"': 0, b'"op":"u"': 0}
    first = last = None
    read = 0
    while read < high:
        batch = consumer.consume(10_000, timeout=10)
        if not batch:
            break
        for msg in batch:
            if msg.error():
                continue
            read += 1
            value = msg.value()
            for op in ops:
                if op in value:
                    ops[op] += 1
            first = first or value
            last = value
    consumer.close()
    counts = {"records": read, "creates": ops[b'"op":"c"'], "updates": ops[b'"op":"u"']}
    want = {"records": SEGMENT_ROWS, "creates": INSERT_ROWS, "updates": UPDATES}
    first_gtid, last_gtid = (json.loads(v)["source"]["gtid"] if v else None for v in (first, last))
    prefix, start = segment["start"].rsplit("-", 1)
    if counts != want or first_gtid != f"{prefix}-{int(start) + 1}" or last_gtid != segment["end"]:
        raise SystemExit(f"Debezium's records in {topic} are not the segment's: {counts} (want {want}), "
                         f"GTIDs {first_gtid} to {last_gtid} (want after {segment['start']} to {segment['end']})")
    return json.loads(first)


def binlog_start(segment: dict) -> dict:
    """The MariaDB connector's offset at the segment's start: the beginning of its first file
    and the GTID position before its first transaction."""
    return {"file": segment["files"][0], "pos": 4, "gtids": segment["start"]}


def run_debezium(segment: dict, work: Path, name: str, round_: int) -> dict:
    """Debezium on the segment: from the worker's start to the append of the segment's last row
    change; CPU and peak RSS of the JVM at that moment. The records are checked afterwards."""
    topic = f"{name}.{DB}.revision"
    create_topic(topic)
    start = time.time()
    worker, log = start_debezium(work, name, f"{DB}.revision", 9500 + round_, binlog_start(segment))
    try:
        last_ms = await_records(topic, SEGMENT_ROWS, worker, log)
        result = {"wall": last_ms / 1000 - start, **jvm_usage(worker.pid)}
    finally:
        stop_debezium(worker)
    first = check_records(topic, segment)
    if round_ == 1:
        print(f"debezium: first record of {topic}: {json.dumps(first)}", file=sys.stderr)
    return result


def latency_table() -> str:
    """Creates the latency run's table (id, commit time in µs); returns its name."""
    sql(f"CREATE DATABASE IF NOT EXISTS {DB}")
    sql(f"CREATE TABLE IF NOT EXISTS {DB}.latency (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, commit_us BIGINT NOT NULL) ENGINE=InnoDB")
    return f"{DB}.latency"


def measure_latency(table: str, topic: str, rate: int, seconds: int) -> dict:
    """Commits `rate` rows a second into `table` for `seconds` and times each from its commit to
    its record in `topic` (latency.py); the tool writing `topic` must be streaming already."""
    match = re.match(r"mysql://([^:]+):([^@]+)@([^:]+):(\d+)", ENV["MWCDC_TEST_MYSQL_URL"])
    out = subprocess.run(
        [
            str(ROOT / ".services" / "bench-venv" / "bin" / "python"), str(ROOT / "tests" / "bench" / "latency.py"),
            match.group(3), match.group(4), match.group(1), match.group(2), table,
            BROKERS, topic, str(rate), str(seconds),
        ],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def latency(work: Path, rate: int, seconds: int) -> dict:
    """mwcdc's commit-to-consumer latency (row records, the default settings), with its own part
    from its histogram."""
    empty_broker()
    table = latency_table()
    name = f"bench-latency-{os.getpid()}"
    config = work / f"{name}.toml"
    config.write_text(
        f'name = "{name}"\n[source]\nurl = "mysql://{USER}@127.0.0.1:{PORT}"\nserver_id = 9400\n'
        f'include = ["{table}"]\nstart = "latest"\n[sink]\nbrokers = "{BROKERS}"\ntopic_prefix = "{name}"\n'
        f'[checkpoint]\ndir = "{work / name}"\n[output]\nentities = false\n[http]\nlisten = "{METRICS}"\n'
    )
    log = open(work / f"{name}.log", "w")
    connector = subprocess.Popen(
        [str(MWCDC), "run", "--config", str(config)],
        env={**os.environ, "MWCDC_SOURCE_PASSWORD": PASSWORD, "RUST_LOG": "info"},
        stderr=log,
    )
    deadline = time.time() + 30
    while "streaming the binlog" not in (work / f"{name}.log").read_text():
        if time.time() > deadline or connector.poll() is not None:
            raise SystemExit(f"the latency connector did not start; see {work / f'{name}.log'}")
        time.sleep(0.2)
    measured = measure_latency(table, f"{name}.{table}", rate, seconds)
    own = pipeline_latency()
    connector.terminate()
    connector.wait(timeout=30)
    return {**measured, **own}


def debezium_latency(work: Path, rate: int, seconds: int) -> dict:
    """Debezium's commit-to-consumer latency on the same table, from the current position
    (`snapshot.mode = no_data`)."""
    empty_broker()
    table = latency_table()
    name = f"bench-latency-dbz-{os.getpid()}"
    worker, log = start_debezium(work, name, table, 9401)
    deadline = time.time() + 120
    while "Keepalive thread is running" not in log.read_text():
        if time.time() > deadline or worker.poll() is not None:
            raise SystemExit(f"Debezium did not start streaming; see {log}:\n{worker_errors(log)}")
        time.sleep(0.2)
    try:
        return measure_latency(table, f"{name}.{table}", rate, seconds)
    finally:
        stop_debezium(worker)


def instructions(work: Path, segment: dict) -> dict:
    """Instructions per row change under callgrind, for insert and for update transactions,
    the start-up (a run with nothing to read) subtracted."""
    first = int(segment["start"].rsplit("-", 1)[1])
    prefix = segment["start"].rsplit("-", 1)[0]
    inserts = INSERT_ROWS // TXN_ROWS
    ranges = {
        "startup": (first, first, 0),
        "insert": (first, first + 500, 500 * TXN_ROWS),
        "update": (first + inserts + 20_000, first + inserts + 25_000, 5_000),
    }
    counts = {}
    for name, (start, stop, rows) in ranges.items():
        run = f"callgrind-{name}-{os.getpid()}"
        config = mwcdc_config(work, run, {**segment, "start": f"{prefix}-{start}", "end": f"{prefix}-{stop}"},
                              "null", "at-least-once", 9450)
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={work / run}.out", str(MWCDC), "run",
             "--config", str(config)],
            env={**os.environ, "MWCDC_SOURCE_PASSWORD": PASSWORD, "RUST_LOG": "info"},
            capture_output=True, text=True,
        )
        match = re.search(r"Collected : (\d+)", out.stderr)
        if out.returncode != 0 or not match:
            raise SystemExit(f"callgrind run {name} failed:\n{out.stderr[-2000:]}")
        counts[name] = (int(match.group(1)), rows)
    base = counts.pop("startup")[0]
    return {name: (total - base) / rows for name, (total, rows) in counts.items()}


def pipeline_latency() -> dict:
    """mwcdc's own part of the latency, from its histogram `mwcdc_pipeline_latency_seconds`
    (commit event received to the last record acknowledged): the bucket bounds that hold the
    50th and 99th percentiles, in ms."""
    text = urllib.request.urlopen(f"http://{METRICS}/metrics", timeout=10).read().decode()
    buckets = [
        (float(m.group(1)), float(m.group(2)))
        for m in re.finditer(r'^mwcdc_pipeline_latency_seconds_bucket\{le="([^"+]+)"\} (\S+)$', text, re.MULTILINE)
    ]
    total = buckets[-1][1] if buckets else 0
    out = {}
    for name, q in (("own_p50_ms", 0.50), ("own_p99_ms", 0.99)):
        bound = next((le for le, count in buckets if total and count >= q * total), None)
        if bound is not None:
            out[name] = bound * 1000
    return out


LABELS = {
    "wire": "wire floor: `mariadb-binlog --read-from-remote-server --raw`",
    "python": "python-mysql-replication (a tenth of the rows, every value)",
    "null": "mwcdc, null sink (decode, fold, encode, CRC check)",
    "kafka-alo": "mwcdc to the broker, at-least-once",
    "kafka-eo": "mwcdc to the broker, exactly-once",
    "kafka-tx": "mwcdc to the broker, transactional",
    "debezium": "Debezium 3.5 MariaDB connector, Kafka Connect standalone, to the broker",
}


def table(title: str, results: dict) -> list:
    """The Markdown table of one segment's medians, under `title`."""
    med = {tool: {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu", "rss_mb", "rate")}
           for tool, rs in results.items()}
    lines = [
        title,
        "",
        "| tool | wall s | row changes/s | × wire floor | × python-mysql-replication | CPU s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    def ratio(m: dict, base: str, digits: int) -> str:
        return f"{m['rate'] / med[base]['rate']:.{digits}f}" if base in med else "-"

    for tool, m in med.items():
        lines.append(
            f"| {LABELS[tool]} | {m['wall']:.2f} | {m['rate']:,.0f} | {ratio(m, 'wire', 2)} | "
            f"{ratio(m, 'python', 1)} | {m['cpu']:.2f} | {m['rss_mb']:.0f} |"
        )
    return lines


def report(segments: dict, results: dict, lat: dict, dbz_lat: dict, runs: int, counts: dict) -> str:
    machine = f"{os.cpu_count()} cores ({platform.processor() or platform.machine()})"
    lines = []
    if "revision" in segments:
        seg = segments["revision"]
        lines += table(
            f"Segment: {seg['rows']:,} row changes ({INSERT_ROWS:,} inserted in transactions of {TXN_ROWS}, "
            f"{UPDATES:,} single-row updates), {seg['bytes'] / 1e6:.0f} MB of binlog in {len(seg['files'])} file(s). "
            f"Medians of {runs} interleaved runs on {machine}, with MariaDB and the broker on the same machine.",
            results["revision"],
        )
    if "mix" in segments:
        seg = segments["mix"]
        lines += [""] + table(
            f"Realistic variant: the entity tests' MediaWiki workload ({' '.join(MIX_ARGS)}): "
            f"{seg['rows']:,} row changes of {', '.join(MIX_TABLES)}, {seg['bytes'] / 1e6:.0f} MB of binlog. "
            "Both output streams (rows and entities); python-mysql-replication is not run on it.",
            results["mix"],
        )
    if lat:
        lines += [
            "",
            f"Latency, commit to consumer, {lat['sent']:,} transactions at {lat['sent'] // max(1, round(lat['write_seconds'])):,}/s "
            f"({lat['received']:,} received): p50 {lat.get('p50_ms', 0):.1f} ms, p99 {lat.get('p99_ms', 0):.1f} ms, "
            f"p99.9 {lat.get('p999_ms', 0):.1f} ms, max {lat.get('max_ms', 0):.1f} ms. "
            f"mwcdc's own part (commit event read to Kafka acknowledgement, from its histogram): "
            f"p50 ≤ {lat.get('own_p50_ms', 0):g} ms, p99 ≤ {lat.get('own_p99_ms', 0):g} ms. By 10 s of commits, "
            "p50/p99 ms: " + ", ".join(
                f"{w['from_s']}-{w['from_s'] + 10} s {w['p50_ms']:.0f}/{w['p99_ms']:.0f}" for w in lat.get("windows", [])
            ) + ".",
        ]
    if dbz_lat:
        lines += [
            "",
            f"Debezium's latency, same table and rate ({dbz_lat['received']:,} of {dbz_lat['sent']:,} received): "
            f"p50 {dbz_lat.get('p50_ms', 0):.1f} ms, p99 {dbz_lat.get('p99_ms', 0):.1f} ms, "
            f"p99.9 {dbz_lat.get('p999_ms', 0):.1f} ms, max {dbz_lat.get('max_ms', 0):.1f} ms.",
        ]
    if counts:
        lines += [
            "",
            "Instructions per row change, mwcdc with the null sink under `valgrind --tool=callgrind` "
            f"(start-up subtracted): {counts['insert']:,.0f} in transactions of {TXN_ROWS} inserts, "
            f"{counts['update']:,.0f} in single-row update transactions.",
        ]
    return "\n".join(lines)


def write_section(doc: Path, marker: str, text: str) -> None:
    """Replaces what stands between `<!-- {marker}:begin -->` and `<!-- {marker}:end -->` in
    `doc` with `text`."""
    content = doc.read_text()
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    before, rest = content.split(begin, 1)
    after = rest.split(end, 1)[1]
    doc.write_text(f"{before}{begin}\n{text}\n{end}{after}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tools", default="wire,python,null,kafka-alo,kafka-eo,kafka-tx,debezium")
    parser.add_argument("--segments", default="revision,mix", help="revision, mix (the realistic variant)")
    parser.add_argument("--latency-rate", type=int, default=1000)
    parser.add_argument("--latency-seconds", type=int, default=60)
    parser.add_argument("--callgrind", action=argparse.BooleanOptionalAction, default=True,
                        help="count instructions per row change under callgrind (needs valgrind)")
    parser.add_argument("--write", help="a Markdown file to put the table into")
    args = parser.parse_args()
    generators = {"revision": generate_segment, "mix": generate_mix_segment}
    segments = {name: generators[name]() for name in args.segments.split(",")}
    tools = args.tools.split(",")
    # python-mysql-replication and Debezium read only the revision segment (the reader and the
    # record check know that table).
    plan = [(name, tool) for name in segments for tool in tools
            if tool not in ("python", "debezium") or name == "revision"]
    results = {name: {} for name in segments}
    with tempfile.TemporaryDirectory(prefix="mwcdc-bench-") as tmp:
        work = Path(tmp)
        fresh_broker()
        if any(tool.startswith("kafka") or tool == "debezium" for tool in tools):
            # One untimed run first: the broker's JVM compiles its hot paths during it.
            warm = run_tool("kafka-alo", next(iter(segments.values())), work, 0)
            print(f"warm-up (untimed) kafka-alo: {warm['wall']:.2f} s", file=sys.stderr, flush=True)
        for round_ in range(1, args.runs + 1):
            for name, tool in plan:
                r = run_tool(tool, segments[name], work, round_)
                results[name].setdefault(tool, []).append(r)
                print(f"round {round_} {name} {tool}: {r['wall']:.2f} s, {r['rate']:,.0f} rows/s, "
                      f"cpu {r['cpu']:.2f} s, rss {r['rss_mb']:.0f} MB", file=sys.stderr, flush=True)
        lat, dbz_lat = {}, {}
        if args.latency_seconds > 0:
            lat = latency(work, args.latency_rate, args.latency_seconds)
            print(f"latency: {lat}", file=sys.stderr)
            if "debezium" in tools:
                dbz_lat = debezium_latency(work, args.latency_rate, args.latency_seconds)
                print(f"Debezium latency: {dbz_lat}", file=sys.stderr)
        counts = instructions(work, segments["revision"]) if args.callgrind and "revision" in segments else {}
    text = report(segments, results, lat, dbz_lat, args.runs, counts)
    print(text)
    if args.write:
        write_section(Path(args.write), "bench", text)


if __name__ == "__main__":
    main()
