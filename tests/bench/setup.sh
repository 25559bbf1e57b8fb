#!/usr/bin/env bash
# The benchmark's Python environment: .services/bench-venv with tests/bench/requirements.txt.
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
