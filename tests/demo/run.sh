#!/usr/bin/env bash
# `make demo`: two MediaWiki wiki databases, a short seeded MediaWiki workload (page creations,
# edits, deletions, undeletions, revision deletions, moves, user group changes) written by
# mwcdc-workload, the records mwcdc produces for it to the local Apache Kafka, and those
# records read back from Kafka with its console consumer: entity change records and row change
# records.
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVICES=tests/services
sql() { "$SERVICES/mariadb.sh" sql primary "$@"; }

cargo build --quiet -p mwcdc -p mwcdc-workload
BIN=target/debug/mwcdc
STATE=$(mktemp -d)
trap 'rm -rf "$STATE"' EXIT
eval "$("$SERVICES/mariadb.sh" env)"
eval "$("$SERVICES/kafka.sh" env)"
PORT=${MWCDC_MARIADB_PORT:-3307}
# Topics of this run only (an earlier demo's stay in the broker).
PREFIX="demo-$(date +%s)"

cat > "$STATE/mwcdc.toml" <<TOML
name = "demo"
[source]
url = "mysql://${MWCDC_TEST_CDC_USER}@127.0.0.1:${PORT}"
server_id = 8099
include = ["demo_*.revision", "demo_*.archive", "demo_*.logging", "demo_*.page", "demo_*.user_groups"]
[sink]
brokers = "$MWCDC_TEST_KAFKA"
topic_prefix = "$PREFIX"
[checkpoint]
dir = "$STATE/state"
TOML

echo "== starting mwcdc (to Kafka at $MWCDC_TEST_KAFKA, topics $PREFIX.*)"
MWCDC_SOURCE_PASSWORD="$MWCDC_TEST_CDC_PASSWORD" "$BIN" run --config "$STATE/mwcdc.toml" \
    2>"$STATE/mwcdc.log" &
PID=$!
for _ in $(seq 100); do grep -q "streaming the binlog" "$STATE/mwcdc.log" && break; sleep 0.1; done

echo "== running the MediaWiki workload: 2 wikis (demo_0, demo_1), 80 operations"
target/debug/mwcdc-workload --url "$MWCDC_TEST_MYSQL_URL" --wikis 2 --ops 80 --seed 3 \
    --big-pages 0 --db-prefix demo_ --truth "$STATE/truth.jsonl"
# Stop once the checkpoint (which only covers what Kafka acknowledged) has caught up with the
# server.
for _ in $(seq 300); do
    "$BIN" status --config "$STATE/mwcdc.toml" --json 2>/dev/null | grep -q '"transactions": 0,' && break
    sleep 0.2
done
kill -TERM "$PID"
wait "$PID"

echo "== reading the records back from Kafka (console consumer)"
"$SERVICES/kafka.sh" consume --include "$PREFIX\\..*" --from-beginning --timeout-ms 5000 \
    --property print.key=true --property print.headers=true --property key.separator=$'\t' \
    --property headers.separator='|' \
    2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    headers, key, value = line.rstrip("\n").split("\t", 2)
    # The console consumer writes each header as name:value; header names have no colon.
    headers = dict(h.split(":", 1) for h in headers.split("|"))
    if value == "null":
        continue  # the tombstone after a deleted row
    print(json.dumps({"key": key, "value": json.loads(value), "headers": headers}))
' >"$STATE/records.jsonl"

echo "== entity change records (wiki.entity, key, action, entity_ts, mwcdc.id):"
python3 - "$STATE/records.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    v = r["value"]
    if "action" in v:
        print(f'{v["wiki"] + "." + v["entity"]:24} {r["key"]:18} {v["action"]:18} {v["entity_ts"]}  {r["headers"]["mwcdc.id"]}')
PY
echo "== one complete entity record (an undeletion, if the workload made one):"
python3 - "$STATE/records.jsonl" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
entities = [r for r in records if "action" in r["value"]]
pick = next((r for r in entities if r["value"]["action"] == "undelete"), entities[0])
print(json.dumps(pick, indent=2, ensure_ascii=False))
PY
python3 - "$STATE/records.jsonl" <<'PY'
import json, sys
rows = [r for r in map(json.loads, open(sys.argv[1])) if "action" not in r["value"]]
print(f"== row change records: {len(rows)}; the first one:")
print(json.dumps(rows[0], indent=2, ensure_ascii=False))
PY
echo "== checkpoint:"
"$BIN" checkpoint show --config "$STATE/mwcdc.toml"
