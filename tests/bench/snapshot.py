#!/usr/bin/env python3
"""The snapshot benchmark: mwcdc's initial_only snapshot of 1M revision rows to the null sink.

Times `mwcdc run` with `snapshot.mode = "initial_only"` from start to exit (connect, read,
encode, checkpoint) under GNU time, with row and entity records and with row records only;
then the stream's commit-to-consumer latency at 1,000 transactions/s while a snapshot of the
same table goes to Kafka; puts the figures into docs/performance.md between the snapshot-bench
markers. The table is made once (`mwcdc_bench_snap.revision`, the bench segment's revision
row shapes) and kept.
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import os
import subprocess
import time

from bench import (BROKERS, METRICS, MWCDC, PASSWORD, PORT, USER, empty_broker, latency_table,
                   measure_latency, pipeline_latency, sql, timed, write_section)

DB = "mwcdc_bench_snap"
ROWS = 1_000_000


def make_table() -> None:
    """The table of `ROWS` revision rows, unless it is there already."""
    try:
        if int(sql(f"SELECT COUNT(*) FROM {DB}.revision")) == ROWS:
            print(f"snapshot bench: reusing {DB}.revision", file=sys.stderr)
            return
    except Exception:  # the table is not there yet
        pass
    print(f"snapshot bench: writing {ROWS:,} rows into {DB}.revision", file=sys.stderr)
    sql(f"CREATE DATABASE IF NOT EXISTS {DB}")
    sql(f"DROP TABLE IF EXISTS {DB}.revision")
    sql(f"CREATE TABLE {DB}.revision LIKE mwcdc_bench.revision" if sql(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mwcdc_bench' AND TABLE_NAME = 'revision'"
    ) == "1" else (
        f"CREATE TABLE {DB}.revision (rev_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, "
        "rev_page INT UNSIGNED NOT NULL, rev_comment_id BIGINT UNSIGNED NOT NULL DEFAULT 0, "
        "rev_actor BIGINT UNSIGNED NOT NULL DEFAULT 0, rev_timestamp BINARY(14) NOT NULL, "
        "rev_minor_edit TINYINT UNSIGNED NOT NULL DEFAULT 0, rev_deleted TINYINT UNSIGNED NOT NULL DEFAULT 0, "
        "rev_len INT UNSIGNED DEFAULT NULL, rev_parent_id BIGINT UNSIGNED DEFAULT NULL, "
        "rev_sha1 VARBINARY(32) NOT NULL DEFAULT '') ENGINE=InnoDB"
    ))
    # One statement from the server's sequence engine: the bench segment's row shapes.
    sql(
        f"INSERT INTO {DB}.revision (rev_page, rev_comment_id, rev_actor, rev_timestamp, rev_minor_edit, "
        "rev_deleted, rev_len, rev_parent_id, rev_sha1) SELECT seq % 50000 + 1, seq * 7 % 100000, seq % 3000, "
        "CONCAT('2026', LPAD(seq % 12 + 1, 2, '0'), LPAD(seq % 28 + 1, 2, '0'), LPAD(seq % 24, 2, '0'), "
        "LPAD(seq % 60, 2, '0'), LPAD(seq * 7 % 60, 2, '0')), seq % 2, 0, seq % 100000, "
        f"IF(seq = 1, NULL, seq - 1), LEFT(SHA1(seq), 31) FROM {DB}.seq_1_to_{ROWS}"
    )


def config(work: Path, name: str, entities: bool) -> Path:
    path = work / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\n[source]\nurl = "mysql://{USER}@127.0.0.1:{PORT}"\nserver_id = 9400\n'
        f'include = ["{DB}.revision"]\n[sink]\ntype = "null"\n[checkpoint]\ndir = "{work / name}"\n'
        f'[output]\nentities = {str(entities).lower()}\n[snapshot]\nmode = "initial_only"\n[http]\nlisten = ""\n'
    )
    return path


def run(work: Path, variant: str, round_: int) -> dict:
    name = f"snap-{variant}-{round_}"
    log = work / f"{name}.log"
    result = timed([str(MWCDC), "run", "--config", str(config(work, name, variant == "rows+entities"))],
                   {"MWCDC_SOURCE_PASSWORD": PASSWORD, "RUST_LOG": "info"}, log)
    text = log.read_text()
    if f"rows={ROWS}" not in text or "the snapshot job is delivered" not in text:
        raise SystemExit(f"{name} did not deliver {ROWS} rows; see {log}:\n{text[-2000:]}")
    result["rate"] = ROWS / result["wall"]
    return result


def latency_during_snapshot(work: Path, rate: int, seconds: int, snapshot_rate: int) -> dict:
    """The latency run of bench.py, with a snapshot of the table going to the same broker at
    `snapshot_rate` rows/s meanwhile; the snapshot must still run when the writes end."""
    empty_broker()
    table = latency_table()
    name = f"snapbench-latency-{os.getpid()}"
    config = work / f"{name}.toml"
    config.write_text(
        f'name = "{name}"\n[source]\nurl = "mysql://{USER}@127.0.0.1:{PORT}"\nserver_id = 9401\n'
        f'include = ["{table}", "{DB}.revision"]\n[sink]\nbrokers = "{BROKERS}"\ntopic_prefix = "{name}"\n'
        f'[checkpoint]\ndir = "{work / name}"\n[output]\nentities = false\n[http]\nlisten = "{METRICS}"\n'
        f'[snapshot]\nmode = "initial"\ntables = ["{DB}.revision"]\nmax_rows_per_second = {snapshot_rate}\n'
    )
    log_path = work / f"{name}.log"
    log = open(log_path, "w")
    connector = subprocess.Popen(
        [str(MWCDC), "run", "--config", str(config)],
        env={**os.environ, "MWCDC_SOURCE_PASSWORD": PASSWORD, "RUST_LOG": "info"},
        stderr=log,
    )
    deadline = time.time() + 30
    while "snapshot: reading" not in log_path.read_text():
        if time.time() > deadline or connector.poll() is not None:
            raise SystemExit(f"the latency connector did not start; see {log_path}")
        time.sleep(0.2)
    measured = measure_latency(table, f"{name}.{table}", rate, seconds)
    own = pipeline_latency()
    text = log_path.read_text()
    connector.terminate()
    connector.wait(timeout=30)
    if "snapshot: every table is read" in text:
        raise SystemExit(f"the snapshot ended before the latency run did; see {log_path}")
    return {**measured, **own}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", help="a Markdown file to put the table into")
    parser.add_argument("--latency-rate", type=int, default=1000)
    parser.add_argument("--latency-seconds", type=int, default=30)
    args = parser.parse_args()
    make_table()
    results = {"rows+entities": [], "rows": []}
    with tempfile.TemporaryDirectory(prefix="mwcdc-snapbench-") as tmp:
        for round_ in range(1, args.runs + 1):
            for variant in results:
                r = run(Path(tmp), variant, round_)
                results[variant].append(r)
                print(f"round {round_} {variant}: {r['wall']:.2f} s, {r['rate']:,.0f} rows/s, "
                      f"cpu {r['cpu']:.2f} s, rss {r['rss_mb']:.0f} MB", file=sys.stderr, flush=True)
        # A snapshot slow enough to outlast the writes: rows/s for the writes' time and a half.
        snapshot_rate = int(ROWS / (args.latency_seconds * 1.5))
        lat = latency_during_snapshot(Path(tmp), args.latency_rate, args.latency_seconds, snapshot_rate)
        print(f"latency during a snapshot: {lat}", file=sys.stderr)
    lines = [
        f"Snapshot of {ROWS:,} revision rows (`snapshot.mode = \"initial_only\"`, default chunk of "
        f"10,000 rows, null sink), medians of {args.runs} runs, from start to exit:",
        "",
        "| records | wall s | rows/s | CPU s | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for variant, runs in results.items():
        med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
        lines.append(f"| {variant} | {med('wall'):.2f} | {med('rate'):,.0f} | {med('cpu'):.2f} | {med('rss_mb'):.0f} |")
    lines += [
        "",
        f"The stream's latency while a snapshot of the 1M-row table goes to the broker at "
        f"{snapshot_rate:,} rows/s (`max_rows_per_second`), {args.latency_rate:,} transactions/s for "
        f"{args.latency_seconds} s, commit to consumer ({lat['received']:,} of {lat['sent']:,} received):",
        "",
        "| p50 | p99 | p99.9 | max | mwcdc's own p99 (histogram bucket) |",
        "|---:|---:|---:|---:|---:|",
        f"| {lat['p50_ms']:.1f} ms | {lat['p99_ms']:.1f} ms | {lat['p999_ms']:.1f} ms | {lat['max_ms']:.1f} ms "
        f"| {lat.get('own_p99_ms', float('nan')):.1f} ms |",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(Path(args.write), "snapshot-bench", text)


if __name__ == "__main__":
    main()
