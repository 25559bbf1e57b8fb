#!/usr/bin/env bash
# The Helm chart docker/helm/mwcdc checked with Helm's own library and the Kubernetes schemas
# (tests/packaging/check_chart.py says what is checked). `make chart`, part of `make test`.
#
# Installs its tools once into .services/packaging-venv from tests/packaging/requirements.txt
# (pinned by version and hash): helm-python-sdk, Helm's Go library behind a Python API (no helm
# binary, no cluster), and kubernetes-validate. The venv is made anew only when the
# requirements change. Arguments are passed on to check_chart.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.services/packaging-venv
REQUIREMENTS=tests/packaging/requirements.txt
STAMP=$VENV/requirements.sha256
want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [[ ! -x $VENV/bin/python || "$(cat "$STAMP" 2>/dev/null)" != "$want" ]]; then
    echo "check-chart: installing helm-python-sdk and kubernetes-validate into $VENV" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input \
        --require-hashes --only-binary :all: -r "$REQUIREMENTS"
    echo "$want" >"$STAMP"
fi
exec "$VENV/bin/python" -B tests/packaging/check_chart.py "$@"
