#!/bin/bash
# Peak RSS, CPU time and delivery time of mwcdc while ONE transaction inserts ROWS (default
# 1,000,000) rows into a MediaWiki `revision` table, with rows and entities on (the defaults),
# streaming to the test broker. Prints the insert time, the time from the commit until mwcdc's
# checkpoint covers the transaction, mwcdc's CPU seconds, VmHWM/VmRSS, what was spilled to disk,
# the records in Kafka (with python3's confluent_kafka, if installed) and the checkpoint against
# the server's position after a clean stop (SIGTERM, exit code 0).
# Needs `make services` and a release build of mwcdc in $BIN_DIR (default target/release; with
# CARGO_TARGET_DIR, pass BIN_DIR=$CARGO_TARGET_DIR/release).
# Usage: tests/measure/million-row-transaction.sh <source.transaction_memory>   e.g. 64MiB
#   ROWS=N for another size; KEEP=1 keeps the database and the work directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
eval "$(tests/services/mariadb.sh env)"; eval "$(tests/services/kafka.sh env)"
MEM=${1:?usage: $0 <source.transaction_memory>}
ROWS=${ROWS:-1000000}
BIN_DIR=${BIN_DIR:-target/release}
MWCDC=$BIN_DIR/mwcdc
[ -x "$MWCDC" ] || { echo "no mwcdc binary at $MWCDC (build with cargo build --release -p mwcdc)" >&2; exit 1; }
LABEL=$(echo "$MEM" | tr -c 'A-Za-z0-9\n' '_')_$$
DB=mrt_$LABEL
W=$(mktemp -d)
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" || true; fi
  if [ "${KEEP:-0}" != 1 ]; then
    echo "DROP DATABASE IF EXISTS $DB" | tests/services/mariadb.sh sql || true
    rm -rf "$W"
  else
    echo "kept database $DB and $W" >&2
  fi
}
trap cleanup EXIT
sql() { tests/services/mariadb.sh sql -N "$@"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
clk=$(getconf CLK_TCK)

# 1. A wiki database with MediaWiki's revision table (crates/mwcdc-workload/src/schema.rs).
sql <<SQL
CREATE DATABASE $DB CHARACTER SET binary;
CREATE TABLE $DB.revision (
  rev_id BIGINT UNSIGNED AUTO_INCREMENT NOT NULL,
  rev_page INT UNSIGNED NOT NULL,
  rev_comment_id BIGINT UNSIGNED DEFAULT 0 NOT NULL,
  rev_actor BIGINT UNSIGNED DEFAULT 0 NOT NULL,
  rev_timestamp BINARY(14) NOT NULL,
  rev_minor_edit TINYINT UNSIGNED DEFAULT 0 NOT NULL,
  rev_deleted TINYINT UNSIGNED DEFAULT 0 NOT NULL,
  rev_len INT UNSIGNED DEFAULT NULL,
  rev_parent_id BIGINT UNSIGNED DEFAULT NULL,
  rev_sha1 VARBINARY(32) DEFAULT '' NOT NULL,
  INDEX rev_page_timestamp (rev_page, rev_timestamp),
  INDEX rev_timestamp (rev_timestamp),
  PRIMARY KEY(rev_id)
) ENGINE=InnoDB DEFAULT CHARSET=binary;
SQL

# 2. mwcdc capturing that table, from the current end of the binlog.
cat > "$W/mwcdc.toml" <<TOML
name = "$LABEL"
[source]
url = "mysql://$MWCDC_TEST_CDC_USER@127.0.0.1:${MWCDC_MARIADB_PORT:-3307}"
server_id = $((21000 + RANDOM % 1000))
include = ["$DB.revision"]
transaction_memory = "$MEM"
[sink]
brokers = "$MWCDC_TEST_KAFKA"
topic_prefix = "$LABEL"
[checkpoint]
dir = "$W/state"
TOML
MWCDC_SOURCE_PASSWORD="$MWCDC_TEST_CDC_PASSWORD" RUST_LOG=info,mwcdc::pipeline=debug NO_COLOR=1 \
  "$MWCDC" run --config "$W/mwcdc.toml" > /dev/null 2> "$W/mwcdc.log" &
PID=$!
for _ in $(seq 100); do grep -q "streaming the binlog" "$W/mwcdc.log" && break; sleep 0.1; done
grep -q "streaming the binlog" "$W/mwcdc.log" || { echo "mwcdc did not start:" >&2; cat "$W/mwcdc.log" >&2; exit 1; }
cpu0=$(ticks $PID)

# 3. ROWS revisions in one transaction (MariaDB's SEQUENCE engine), 1000 per page.
t0=$(now)
GTID=$(sql <<SQL
SET SESSION sql_mode = 'STRICT_ALL_TABLES';
BEGIN;
INSERT INTO $DB.revision (rev_id, rev_page, rev_comment_id, rev_actor, rev_timestamp, rev_minor_edit,
                          rev_deleted, rev_len, rev_parent_id, rev_sha1)
SELECT seq, 1 + (seq - 1) DIV 1000, 1 + seq % 7, 1 + seq % 100,
       DATE_FORMAT(TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND, '%Y%m%d%H%i%s'),
       seq % 2, 0, seq % 50000, IF((seq - 1) % 1000 = 0, 0, seq - 1), LEFT(SHA1(seq), 31)
FROM $DB.seq_1_to_$ROWS;
COMMIT;
SELECT @@last_gtid;
SQL
)
t1=$(now)
echo "inserted $ROWS rows in one transaction ($GTID) in $(secs "$t0" "$t1") s"

# 4. Wait until a checkpoint covers that GTID (same domain, sequence number at least ours).
domain=${GTID%%-*}; seqno=${GTID##*-}
covered() {
  grep "checkpoint written" "$W/mwcdc.log" | sed -E 's/.*gtid=([^ ]*).*/\1/' | tr ',' '\n' \
    | awk -F- -v d="$domain" -v s="$seqno" '$1 == d && $3 + 0 >= s + 0 { ok = 1 } END { exit !ok }'
}
until covered; do
  kill -0 $PID 2>/dev/null || { echo "mwcdc exited:" >&2; tail -20 "$W/mwcdc.log" >&2; exit 1; }
  sleep 0.2
done
t2=$(now)
echo "mwcdc delivered it $(secs "$t1" "$t2") s after the commit"
grep -E "VmHWM|VmRSS" /proc/$PID/status
cpu1=$(ticks $PID)
echo "mwcdc CPU: $(awk -v t=$((cpu1 - cpu0)) -v c="$clk" 'BEGIN { printf "%.1f", t / c }') s for the transaction, $(awk -v t="$cpu1" -v c="$clk" 'BEGIN { printf "%.1f", t / c }') s in all"
grep "spilled to disk" "$W/mwcdc.log" | sed -E 's/\x1b\[[0-9;]*m//g; s/.*changes=([0-9]+).*spilled_bytes=([0-9]+).*/spilled: \1 changes, \2 bytes/' \
    || echo "nothing spilled"

# 5. Records in Kafka: this run's topics read from the start until nothing came for 5 s (the
# test broker's high watermarks fall short of the last offset, so they cannot be summed).
if python3 -c 'import confluent_kafka' 2>/dev/null; then
  python3 - "$MWCDC_TEST_KAFKA" "$LABEL." <<'PY' || echo "could not count the records in Kafka"
import collections, sys, time
from confluent_kafka import Consumer, TopicPartition
brokers, prefix = sys.argv[1], sys.argv[2]
c = Consumer({"bootstrap.servers": brokers, "group.id": "mrt-count", "enable.auto.commit": False})
topics = {n: t for n, t in c.list_topics(timeout=10).topics.items() if n.startswith(prefix)}
c.assign([TopicPartition(n, p, 0) for n, t in topics.items() for p in t.partitions])
count = collections.Counter(); keys = collections.defaultdict(set); last = time.time()
while time.time() - last < 5:
    for m in c.consume(num_messages=10000, timeout=1):
        if m.error():
            print(f"kafka: {m.error()}"); continue
        count[m.topic()] += 1; keys[m.topic()].add(m.key()); last = time.time()
for name in sorted(topics):
    print(f"kafka: {name}: {count[name]} records, {len(keys[name])} distinct keys")
print(f"kafka: {sum(count.values())} records in all")
c.close()
PY
else
  echo "kafka: not counted (pip install confluent-kafka to count)"
fi

# 6. Clean stop, then the stored checkpoint against the server.
kill -TERM $PID
rc=0; wait $PID || rc=$?
PID=
echo "mwcdc exit code: $rc"
grep -iE " (WARN|ERROR) " "$W/mwcdc.log" | sed -E 's/\x1b\[[0-9;]*m//g' | head -20 || true
echo "checkpoint: $("$MWCDC" checkpoint show --config "$W/mwcdc.toml")"
echo "server gtid_binlog_pos: $(sql -e 'SELECT @@gtid_binlog_pos')"
exit $rc
