"""Commit-to-consumer latency: a writer commits one row per transaction at a steady rate,
each carrying its wall-clock time in microseconds; a consumer reads mwcdc's records of that
table and records when each arrives. Prints JSON: sent, received, p50/p99/p999/max in ms.

Usage: latency.py MYSQL_HOST MYSQL_PORT USER PASSWORD TABLE BROKERS TOPIC RATE SECONDS
"""

import json
import multiprocessing
import sys
import time


def consume(brokers: str, topic: str, expected: int, deadline: float, ready, out) -> None:
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": f"latency-{time.time_ns()}",
            "enable.auto.commit": False,
            "fetch.min.bytes": 1,
        }
    )
    # The warm-up row created the topic: read all its partitions directly, no group join.
    while True:
        partitions = consumer.list_topics(topic, timeout=5).topics[topic].partitions
        if partitions:
            break
        time.sleep(0.1)
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    ready.set()
    latencies = []
    seen = set()
    while len(seen) < expected and time.time() < deadline:
        msg = consumer.poll(0.05)
        if msg is None or msg.error() or msg.value() is None:
            continue
        now_us = time.time_ns() // 1000
        after = json.loads(msg.value())["after"]
        if after["commit_us"] == 0 or after["id"] in seen:
            continue  # the warm-up row, or a duplicate
        seen.add(after["id"])
        latencies.append((after["commit_us"], now_us - after["commit_us"]))
    consumer.close()
    out.send(latencies)


def percentile(sorted_values, q: float) -> float:
    index = min(len(sorted_values) - 1, int(q * len(sorted_values)))
    return sorted_values[index] / 1000.0


def main() -> None:
    host, port, user, password, table, brokers, topic, rate, seconds = sys.argv[1:10]
    rate, seconds = int(rate), int(seconds)
    expected = rate * seconds
    import pymysql

    conn = pymysql.connect(host=host, port=int(port), user=user, password=password, autocommit=True)
    cursor = conn.cursor()
    # A warm-up row (commit_us = 0, not measured) makes mwcdc create the topic.
    cursor.execute(f"INSERT INTO {table} (commit_us) VALUES (0)")
    receiver, sender = multiprocessing.Pipe(duplex=False)
    ready = multiprocessing.Event()
    consumer = multiprocessing.Process(
        target=consume, args=(brokers, topic, expected, time.time() + seconds + 120, ready, sender)
    )
    consumer.start()
    if not ready.wait(60):
        raise SystemExit(f"topic {topic} did not appear")
    start = time.perf_counter()
    for i in range(expected):
        # Paced: transaction i is due at start + i / rate.
        due = start + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        cursor.execute(f"INSERT INTO {table} (commit_us) VALUES (%s)", (time.time_ns() // 1000,))
    elapsed = time.perf_counter() - start
    conn.close()
    timed = receiver.recv()
    consumer.join()
    latencies = sorted(latency for _, latency in timed)
    result = {"sent": expected, "write_seconds": round(elapsed, 2), "received": len(latencies)}
    if latencies:
        result.update(
            p50_ms=percentile(latencies, 0.50),
            p99_ms=percentile(latencies, 0.99),
            p999_ms=percentile(latencies, 0.999),
            max_ms=latencies[-1] / 1000.0,
        )
        # p50 and p99 of each 10 s of commits: a latency that grows through the run points at
        # a component falling behind, not at a fixed cost.
        first = min(commit for commit, _ in timed)
        windows = {}
        for commit, latency in timed:
            windows.setdefault((commit - first) // 10_000_000, []).append(latency)
        result["windows"] = [
            {"from_s": 10 * w, "p50_ms": percentile(sorted(v), 0.50), "p99_ms": percentile(sorted(v), 0.99)}
            for w, v in sorted(windows.items())
        ]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
