#!/bin/bash
# Delivery throughput to the broker, at-least-once against exactly-once: a MediaWiki workload
# is written first, then fresh connectors read exactly that backlog, alternating the two modes
# (twice each), and the time until each is done is measured (from its start to the end of its
# last busy half second; its checkpoint must then be the server's position).
# Needs `make services` and `cargo build --release -p mwcdc -p mwcdc-workload`.
# Usage: tests/measure/delivery-throughput.sh [ops] (default 20000)
set -euo pipefail
cd "$(dirname "$0")/../.."
eval "$(tests/services/mariadb.sh env)"; eval "$(tests/services/kafka.sh env)"
OPS=${1:-20000}
BIN=${BIN_DIR:-target/release}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
P=tput$$_
position() { tests/services/mariadb.sh sql -N -e 'SELECT @@gtid_binlog_pos'; }
START=$(position)
$BIN/mwcdc-workload --url "$MWCDC_TEST_MYSQL_URL" --wikis 2 --ops "$OPS" --seed 3 \
  --db-prefix "$P" --truth "$W/truth.jsonl" --big-pages 0 2> "$W/workload.log"
TXNS=$(grep -oE '[0-9]+ transactions' "$W/workload.log" | cut -d' ' -f1)
END=$(position)
echo "backlog: $TXNS transactions, $(wc -l < "$W/truth.jsonl") entity changes, $START -> $END"
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
for run in 1 2; do
  for mode in at-least-once exactly-once; do
    name="tput$$-$mode-$run"
    cat > "$W/$name.toml" <<TOML
name = "$name"
[source]
url = "mysql://$MWCDC_TEST_CDC_USER@127.0.0.1:${MWCDC_MARIADB_PORT:-3307}"
server_id = $((30000 + RANDOM % 1000))
include = ["${P}*.revision", "${P}*.archive", "${P}*.logging", "${P}*.page", "${P}*.user_groups"]
start = "$START"
[sink]
brokers = "$MWCDC_TEST_KAFKA"
topic_prefix = "$name"
delivery = "$mode"
[checkpoint]
dir = "$W/$name"
TOML
    t0=$(date +%s.%N)
    MWCDC_SOURCE_PASSWORD="$MWCDC_TEST_CDC_PASSWORD" NO_COLOR=1 "$BIN/mwcdc" run --config "$W/$name.toml" \
      > /dev/null 2> "$W/$name.log" &
    pid=$!
    # Busy while it uses more than 3 clock ticks (30 ms) of CPU per 0.5 s; done after 3 s idle.
    last=$(cpu $pid); t_last=$t0; still=0
    while [ $still -lt 6 ]; do
      sleep 0.5
      now=$(cpu $pid)
      if [ $((now - last)) -gt 3 ]; then t_last=$(date +%s.%N); still=0; else still=$((still + 1)); fi
      last=$now
    done
    kill -TERM $pid; wait $pid
    got=$(MWCDC_SOURCE_PASSWORD=x "$BIN/mwcdc" checkpoint show --config "$W/$name.toml" | grep -oE '"gtid":"[^"]*"')
    secs=$(echo "$t_last - $t0" | bc)
    echo "$mode run $run: $(printf '%.2f' "$secs") s, $(echo "$TXNS / $secs" | bc) transactions/s, CPU $((last / $(getconf CLK_TCK))) s, checkpoint $got (server $END)"
  done
done
