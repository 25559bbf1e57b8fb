#!/usr/bin/env bash
# `make demo`: MediaWiki-shaped tables in two wiki databases, a few edits, and the records
# mwcdc produces for them (stdout sink, so no Kafka client is needed to see them).
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVICES=tests/services
sql() { "$SERVICES/mariadb.sh" sql primary "$@"; }

cargo build --quiet -p mwcdc
BIN=target/debug/mwcdc
STATE=$(mktemp -d)
trap 'rm -rf "$STATE"' EXIT
eval "$("$SERVICES/mariadb.sh" env)"
PORT=${MWCDC_MARIADB_PORT:-3307}

echo "== creating demo_enwiki and demo_dewiki"
sql -e "DROP DATABASE IF EXISTS demo_enwiki; DROP DATABASE IF EXISTS demo_dewiki"
sql < tests/demo/schema.sql

cat > "$STATE/mwcdc.toml" <<TOML
name = "demo"
[source]
url = "mysql://${MWCDC_TEST_CDC_USER}@127.0.0.1:${PORT}"
server_id = 8099
include = ["demo_*.revision", "demo_*.archive", "demo_*.logging"]
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

echo "== making edits (tests/demo/edits.sql)"
sql < tests/demo/edits.sql
sleep 2
kill -TERM "$PID"
wait "$PID"

echo "== records (topic, mwcdc.id, op, key, after or before):"
python3 - "$STATE/records.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    v = r["value"]
    if v is None:
        print(f'{r["topic"]:24} {r["headers"]["mwcdc.id"]:26} tombstone key={json.dumps(r["key"])}')
        continue
    row = v["after"] if v["after"] is not None else v["before"]
    print(f'{r["topic"]:24} {r["headers"]["mwcdc.id"]:26} op={v["op"]} key={json.dumps(r["key"])}')
    print(f'    {json.dumps(row, ensure_ascii=False)}')
PY
echo "== one complete record:"
head -n 1 "$STATE/records.jsonl" | python3 -m json.tool
echo "== checkpoint:"
"$BIN" checkpoint show --config "$STATE/mwcdc.toml"
