#!/bin/bash
# Whether two mwcdc binaries write the same records for the realistic MediaWiki workload: each
# reads the bench's recorded mix segment (`make bench` or
# `.services/bench-venv/bin/python tests/bench/bench.py --runs 1 --tools null --segments mix
# --latency-seconds 0 --no-callgrind` records it once, into binlog files of its own) with the
# stdout sink, row and entity records both, and the outputs are compared byte for byte once the
# processing times (the envelope's top-level `ts_ms`, which is the time mwcdc wrote the record)
# are blanked. Used to show that a refactoring leaves every record as it was.
# Usage: tests/measure/same-records.sh <mwcdc before> <mwcdc after>
set -euo pipefail
cd "$(dirname "$0")/../.."
eval "$(tests/services/mariadb.sh env)"
SEGMENT=.services/bench-mix-segment.json
[ -f "$SEGMENT" ] || { echo "no recorded segment ($SEGMENT): run the bench's mix segment first" >&2; exit 2; }
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
read -r START END < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["start"], s["end"])' "$SEGMENT")
for side in before after; do
  bin=$1; [ $side = after ] && bin=$2
  cat > "$W/$side.toml" <<TOML
name = "same-records"
[source]
url = "mysql://$MWCDC_TEST_CDC_USER@127.0.0.1:${MWCDC_MARIADB_PORT:-3307}"
server_id = $((21000 + RANDOM % 1000))
include = ["bench_mix_*.revision", "bench_mix_*.archive", "bench_mix_*.logging", "bench_mix_*.page", "bench_mix_*.user_groups"]
start = "$START"
stop = "$END"
[sink]
type = "stdout"
topic_prefix = "same"
[checkpoint]
dir = "$W/$side-state"
[http]
listen = ""
TOML
  MWCDC_SOURCE_PASSWORD="$MWCDC_TEST_CDC_PASSWORD" RUST_LOG=info NO_COLOR=1 "$bin" run --config "$W/$side.toml" \
      > "$W/$side.jsonl" 2> "$W/$side.log"
  grep -q "stopped at the stop position" "$W/$side.log" || { tail "$W/$side.log" >&2; exit 1; }
  # The processing time is the envelope's last top-level field before `transaction`.
  sed -E 's/"ts_ms":[0-9]+,"transaction"/"ts_ms":0,"transaction"/' "$W/$side.jsonl" > "$W/$side.cmp"
  echo "$side: $(wc -l < "$W/$side.jsonl") records, sha256 $(sha256sum < "$W/$side.cmp" | cut -c1-16)"
done
if cmp -s "$W/before.cmp" "$W/after.cmp"; then
  echo "identical"
else
  diff <(head -c 2000000 "$W/before.cmp") <(head -c 2000000 "$W/after.cmp") | head -20 >&2
  echo "different" >&2; exit 1
fi
