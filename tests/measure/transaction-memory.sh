#!/bin/bash
# Peak RSS of mwcdc while a page of N revisions (default 100,000) is deleted in one transaction
# and undeleted in one transaction, after N single-edit transactions that build the page.
# Needs `make services` and `cargo build --release -p mwcdc -p mwcdc-workload`.
# Usage: tests/measure/transaction-memory.sh <source.transaction_memory> <label>
set -euo pipefail
cd "$(dirname "$0")/../.."
eval "$(tests/services/mariadb.sh env)"; eval "$(tests/services/kafka.sh env)"
N=${N:-100000}
MEM=$1; LABEL=$2
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
P=mem${LABEL}_
cat > $W/mwcdc.toml <<TOML
name = "mem$LABEL"
[source]
url = "mysql://$MWCDC_TEST_CDC_USER@127.0.0.1:${MWCDC_MARIADB_PORT:-3307}"
server_id = $((20000 + RANDOM % 1000))
include = ["${P}*.revision", "${P}*.archive", "${P}*.logging", "${P}*.page", "${P}*.user_groups"]
transaction_memory = "$MEM"
[sink]
brokers = "$MWCDC_TEST_KAFKA"
topic_prefix = "mem$LABEL"
[checkpoint]
dir = "$W/state"
TOML
MWCDC_SOURCE_PASSWORD="$MWCDC_TEST_CDC_PASSWORD" RUST_LOG=info NO_COLOR=1 target/release/mwcdc run --config "$W/mwcdc.toml" \
    > /dev/null 2> "$W/mwcdc.log" &
PID=$!
sleep 3
/usr/bin/time -v target/release/mwcdc-workload --url "$MWCDC_TEST_MYSQL_URL" --wikis 1 --ops $((N + 100)) --seed 1 \
  --db-prefix $P --truth $W/truth.jsonl --big-pages 1 --big-page-revisions $N --delete-batch-size $N 2> $W/workload.log
grep -E "mwcdc-workload:|Elapsed" "$W/workload.log" >&2 || true
# Wait until mwcdc has been idle for 5 s.
prev=0; idle=0
while [ $idle -lt 5 ]; do
  cur=$(awk '{print $14+$15}' /proc/$PID/stat); if [ $((cur - prev)) -le 3 ]; then idle=$((idle+1)); else idle=0; fi; prev=$cur; sleep 1
done
grep -E "VmHWM|VmRSS" /proc/$PID/status
echo "mwcdc CPU: $((prev / $(getconf CLK_TCK))) s"
grep "spilled to disk" "$W/mwcdc.log" | sed -E 's/\x1b\[[0-9;]*m//g; s/.*changes=([0-9]+).*spilled_bytes=([0-9]+).*/spilled: \1 changes, \2 bytes/' \
    || echo "nothing spilled"
kill -TERM $PID; wait $PID || true
echo "DROP DATABASE ${P}0" | tests/services/mariadb.sh sql
