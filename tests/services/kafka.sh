#!/usr/bin/env bash
# Private single-node Apache Kafka (KRaft, broker and controller in one process) for mwcdc
# tests, the demo and the benchmark.
#
# Usage: tests/services/kafka.sh {start|stop|kill|restart|status|env|logs|wipe|consume}
#
#   start    fetch the jars if needed, format the storage if new, start and wait until the
#            broker serves metadata
#   stop     SIGTERM (a controlled shutdown), SIGKILL after 30 s
#   kill     SIGKILL at once (a crash: the next start recovers the log)
#   restart  stop, then start (the data stays: storage is on disk)
#   status   running or not (exit 1 when not)
#   env      the MWCDC_TEST_KAFKA line the tests read
#   logs     the last 100 lines of the broker's log
#   wipe     stop and delete the storage (the next start formats an empty one)
#   consume  ARGS...: Kafka's console consumer on this broker (--bootstrap-server is given),
#            e.g. consume --include 'demo\..*' --from-beginning --timeout-ms 5000
#
# Listens on 127.0.0.1:${MWCDC_KAFKA_PORT:-19092} and advertises
# 127.0.0.1:${MWCDC_KAFKA_ADVERTISED_PORT:-<the same port>} (a fault-injecting proxy in front of
# the broker must be the advertised address, or clients bypass it after their first metadata
# request). The controller listens on 127.0.0.1:${MWCDC_KAFKA_CONTROLLER_PORT:-<port + 1000>}, and
# the broker's requests to itself (a transaction coordinator writing commit and abort markers) go
# to 127.0.0.1:${MWCDC_KAFKA_INTERNAL_PORT:-<port + 2000>}, never through the proxy.
#
# The jars are those of tests/services/kafka/pom.xml (the version is pinned there), copied by
# `mvn dependency:copy-dependencies` from Maven Central into ${MWCDC_KAFKA_JARS:-<repo>/.services/
# kafka-jars}/<the pom's hash> once and shared by every instance. Java 17 and Maven are installed with apt when
# missing. The storage, configuration, pid file and log live under
# ${MWCDC_SERVICES_DIR:-<repo>/.services}/kafka.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
SERVICES_DIR="${MWCDC_SERVICES_DIR:-$REPO_ROOT/.services}"
STATE="$SERVICES_DIR/kafka"
DATA="$STATE/data"
CONFIG="$STATE/server.properties"
PIDFILE="$STATE/kafka.pid"
LOGFILE="$STATE/kafka.log"
POM="$SCRIPT_DIR/kafka/pom.xml"
# One directory per version of the pom, so that a running broker's jars are never replaced.
JARS="${MWCDC_KAFKA_JARS:-$REPO_ROOT/.services/kafka-jars}/$(sha256sum "$POM" | cut -c1-12)"
PORT="${MWCDC_KAFKA_PORT:-19092}"
ADVERTISED_PORT="${MWCDC_KAFKA_ADVERTISED_PORT:-$PORT}"
CONTROLLER_PORT="${MWCDC_KAFKA_CONTROLLER_PORT:-$((PORT + 1000))}"
INTERNAL_PORT="${MWCDC_KAFKA_INTERNAL_PORT:-$((PORT + 2000))}"
# A fixed cluster id (base64url of "mwcdc-test-clust"), so that a restart finds its storage.
CLUSTER_ID=bXdjZGMtdGVzdC1jbHVzdA
HEAP="${MWCDC_KAFKA_HEAP:-512m}"
START_TIMEOUT=90

log() { echo "kafka.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

ensure_java() {
    local need=()
    command -v java >/dev/null || need+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null || need+=(maven)
    if ((${#need[@]})); then
        log "installing ${need[*]}"
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
    fi
}

# Copies the pom's jars into $JARS unless they are there (one instance at a time fetches).
ensure_jars() {
    if [[ -f $JARS/.complete ]]; then return; fi
    mkdir -p "$(dirname "$JARS")"
    exec {lock}>"$JARS.lock"
    flock "$lock"
    if [[ -f $JARS/.complete ]]; then exec {lock}>&-; return; fi
    log "fetching the Kafka jars with Maven into $JARS"
    rm -rf "$JARS.tmp"
    if ! mvn -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$JARS.tmp" \
        >"$JARS.mvn.log" 2>&1; then
        tail -n 30 "$JARS.mvn.log" >&2
        die "mvn dependency:copy-dependencies failed for $POM (log: $JARS.mvn.log)"
    fi
    touch "$JARS.tmp/.complete"
    mv "$JARS.tmp" "$JARS"
    exec {lock}>&-
}

# The JVM and its options, for the storage tool and the broker.
JAVA=(java -Xms128m "-Xmx$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$SCRIPT_DIR/kafka/log4j2.properties" -cp "$JARS/*")
# The same for the console tools (warm-up, consume): warnings only, to stderr.
QUIET_JAVA=("${JAVA[@]}" -Dmwcdc.log.level=warn -Dmwcdc.log.target=SYSTEM_ERR)

write_config() {
    mkdir -p "$STATE"
    cat >"$CONFIG" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT,INTERNAL://127.0.0.1:$INTERNAL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$ADVERTISED_PORT,INTERNAL://127.0.0.1:$INTERNAL_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT
log.dirs=$DATA
num.partitions=1
auto.create.topics.enable=true
# One node: the internal topics (consumer offsets, transaction state, share groups) have one
# replica and need one in sync; few partitions, so that they are created in a blink.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
EOF
}

broker_pid() {
    [[ -f $PIDFILE ]] || return 1
    local pid; pid="$(cat "$PIDFILE")"
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

is_running() { broker_pid >/dev/null && port_open; }

cmd_start() {
    if is_running; then
        log "already running (pid $(broker_pid), 127.0.0.1:$PORT)"
        return 0
    fi
    if port_open; then die "port $PORT is already in use by another process"; fi
    ensure_java
    ensure_jars
    write_config
    if [[ ! -f $DATA/meta.properties ]]; then
        log "formatting the storage in $DATA"
        "${JAVA[@]}" kafka.tools.StorageTool format --ignore-formatted -t "$CLUSTER_ID" -c "$CONFIG" \
            >>"$LOGFILE" 2>&1 || { tail -n 20 "$LOGFILE" >&2; die "formatting the storage failed"; }
    fi
    log "starting Apache Kafka on 127.0.0.1:$PORT (controller $CONTROLLER_PORT, state $STATE)"
    touch "$LOGFILE"
    local mark; mark="$(wc -l <"$LOGFILE")"
    setsid nohup "${JAVA[@]}" kafka.Kafka "$CONFIG" >>"$LOGFILE" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$PIDFILE"
    # The port opens before the metadata is loaded: the broker has started when its log says so.
    local deadline=$((SECONDS + START_TIMEOUT))
    until port_open && tail -n "+$((mark + 1))" "$LOGFILE" | grep -q "Kafka Server started"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "the broker exited during startup; log tail:"; tail -n 40 "$LOGFILE" >&2 || true; exit 1
        fi
        if (( SECONDS >= deadline )); then
            log "the broker did not start within ${START_TIMEOUT}s; log tail:"; tail -n 40 "$LOGFILE" >&2 || true; exit 1
        fi
        sleep 0.2
    done
    warm_up
    log "up (pid $pid)"
}

# One acknowledged write by an idempotent producer: the first producer id a fresh or restarted
# broker hands out waits for its transaction coordinator to load ("Coordinator load in
# progress"), so that wait is over before a test's client connects.
warm_up() {
    echo warm | timeout 60 "${QUIET_JAVA[@]}" \
        org.apache.kafka.tools.ConsoleProducer --bootstrap-server "127.0.0.1:$PORT" \
        --topic kafka-sh-warm-up --producer-property enable.idempotence=true \
        --producer-property acks=all >>"$LOGFILE" 2>&1 \
        || { tail -n 20 "$LOGFILE" >&2; die "the warm-up write failed"; }
}

# Ends the broker with SIGTERM or SIGKILL ($1), SIGKILL after $2 seconds if it is still there.
end_broker() {
    local signal=$1 grace=$2 pid
    if ! pid="$(broker_pid)"; then
        log "not running"; rm -f "$PIDFILE"; return 0
    fi
    log "sending SIG$signal (pid $pid)"
    kill "-$signal" "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while kill -0 "$pid" 2>/dev/null; do
        if (( SECONDS >= deadline )); then kill -KILL "$pid" 2>/dev/null || true; fi
        sleep 0.1
    done
    rm -f "$PIDFILE"
    log "stopped"
}

cmd_stop() { end_broker TERM 30; }

cmd_kill() { end_broker KILL 0; }

cmd_status() {
    if is_running; then
        echo "kafka running (pid $(broker_pid), 127.0.0.1:$PORT)"
    else
        echo "kafka not running"; return 1
    fi
}

cmd_consume() {
    ensure_jars
    "${QUIET_JAVA[@]}" org.apache.kafka.tools.consumer.ConsoleConsumer \
        --bootstrap-server "127.0.0.1:$ADVERTISED_PORT" "$@"
}

cmd_env() { echo "export MWCDC_TEST_KAFKA=127.0.0.1:$ADVERTISED_PORT"; }

cmd_wipe() { cmd_stop; rm -rf "$DATA"; log "storage removed"; }

case "${1:-}" in
    start)   cmd_start ;;
    stop)    cmd_stop ;;
    kill)    cmd_kill ;;
    restart) cmd_stop; cmd_start ;;
    status)  cmd_status ;;
    env)     cmd_env ;;
    logs)    tail -n 100 "$LOGFILE" ;;
    wipe)    cmd_wipe ;;
    consume) shift; cmd_consume "$@" ;;
    *) echo "usage: $0 {start|stop|kill|restart|status|env|logs|wipe|consume}" >&2; exit 2 ;;
esac
