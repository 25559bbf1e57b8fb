#!/usr/bin/env bash
# `make demo`: two MediaWiki wiki databases, a short seeded MediaWiki workload (page creations,
# edits, deletions, undeletions, revision deletions, moves, user group changes) written by
# mwcdc-workload, and the records mwcdc produces for it: entity change records and row change
# records (stdout sink, so no Kafka client is needed to see them).
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVICES=tests/services
sql() { "$SERVICES/mariadb.sh" sql primary "$@"; }

cargo build --quiet -p mwcdc -p mwcdc-workload
BIN=target/debug/mwcdc
STATE=$(mktemp -d)
trap 'rm -rf "$STATE"' EXIT
eval "$("$SERVICES/mariadb.sh" env)"
PORT=${MWCDC_MARIADB_PORT:-3307}

cat > "$STATE/mwcdc.toml" <<TOML
name = "demo"
[source]
url = "mysql://${MWCDC_TEST_CDC_USER}@127.0.0.1:${PORT}"
server_id = 8099
include = ["demo_*.revision", "demo_*.archive", "demo_*.logging", "demo_*.page", "demo_*.user_groups"]
[sink]
type = "stdout"
topic_prefix = "demo"
[checkpoint]
dir = "$STATE/state"
TOML

echo "== starting mwcdc (stdout sink; logs on stderr)"
MWCDC_SOURCE_PASSWORD="$MWCDC_TEST_CDC_PASSWORD" "$BIN" run --config "$STATE/mwcdc.toml" \
    >"$STATE/records.jsonl" 2>"$STATE/mwcdc.log" &
PID=$!
for _ in $(seq 100); do grep -q "streaming the binlog" "$STATE/mwcdc.log" && break; sleep 0.1; done

echo "== running the MediaWiki workload: 2 wikis (demo_0, demo_1), 80 operations"
target/debug/mwcdc-workload --url "$MWCDC_TEST_MYSQL_URL" --wikis 2 --ops 80 --seed 3 \
    --big-pages 0 --db-prefix demo_ --truth "$STATE/truth.jsonl"
sleep 2
kill -TERM "$PID"
wait "$PID"

echo "== entity change records (topic, key, action, entity_ts, mwcdc.id):"
python3 - "$STATE/records.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    v = r["value"]
    if ".entity." in r["topic"]:
        print(f'{r["topic"]:24} {r["key"]:18} {v["action"]:18} {v["entity_ts"]}  {r["headers"]["mwcdc.id"]}')
PY
echo "== one complete entity record (an undeletion, if the workload made one):"
python3 - "$STATE/records.jsonl" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
entities = [r for r in records if ".entity." in r["topic"]]
pick = next((r for r in entities if r["value"]["action"] == "undelete"), entities[0])
print(json.dumps(pick, indent=2, ensure_ascii=False))
PY
python3 - "$STATE/records.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '.entity.' not in json.loads(l)["topic"]]
print(f"== row change records: {len(rows)}; the first one:")
print(json.dumps(rows[0], indent=2, ensure_ascii=False))
PY
echo "== checkpoint:"
"$BIN" checkpoint show --config "$STATE/mwcdc.toml"
