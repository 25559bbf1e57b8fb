#!/usr/bin/env bash
# The benchmark's tools: the Python environment .services/bench-venv with
# tests/bench/requirements.txt, valgrind, and Debezium's jars in .services/debezium (those of
# tests/bench/debezium/pom.xml, copied from Maven Central once and again when the pom changes).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.services/bench-venv
if [[ ! -x $VENV/bin/python ]]; then
    python3 -m venv "$VENV"
fi
# callgrind's instruction counts.
if ! command -v valgrind >/dev/null; then
    apt-get install -y -qq valgrind >/dev/null
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/bench/requirements.txt
# Debezium: the jars of its pom, unless the copy there was made from the same pom.
DEBEZIUM=.services/debezium
POM=tests/bench/debezium/pom.xml
want="$(sha256sum "$POM" | cut -d' ' -f1)"
if [[ "$(cat "$DEBEZIUM/.pom.sha256" 2>/dev/null)" != "$want" ]]; then
    echo "setup.sh: fetching Debezium's jars with Maven into $DEBEZIUM" >&2
    rm -rf "$DEBEZIUM.tmp"
    if ! mvn -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$PWD/$DEBEZIUM.tmp" \
        >"$DEBEZIUM.mvn.log" 2>&1; then
        tail -n 30 "$DEBEZIUM.mvn.log" >&2
        echo "setup.sh: mvn dependency:copy-dependencies failed for $POM (log: $DEBEZIUM.mvn.log)" >&2
        exit 1
    fi
    rm -rf "$DEBEZIUM"
    mv "$DEBEZIUM.tmp" "$DEBEZIUM"
    echo "$want" >"$DEBEZIUM/.pom.sha256"
fi
