#!/usr/bin/env bash
# Start (or reuse) a single-node Elasticsearch for the test suite and print its URL as the
# last line of stdout:
#     http://127.0.0.1:29200
#
# Idempotent and quick when the server is already up. Order of preference:
#   1. $TEST_ELASTICSEARCH_URL, if set and it answers;
#   2. an Elasticsearch already answering on 127.0.0.1:$ES_PORT (ours from an earlier run);
#   3. our own node, started here from Elastic's integ-test-zip distribution, which Maven
#      Central carries (the only place this machine kind can fetch Elasticsearch from).
#
# That zip is a stripped-down build: no bundled JDK, and no analysis-common, painless or
# reindex modules. The suite is written for that; do not add plugins here.
#
# Env: ES_VERSION (8.19.9), ES_PORT (29200; transport 29300 = ES_PORT+100),
#      ES_JAVA_HOME (override the JDK), ES_START_TIMEOUT (seconds, 120).
set -euo pipefail
LOG_TAG=elasticsearch
# shellcheck source=scripts/_lib.sh
. "$(dirname "$0")/_lib.sh"

ES_VERSION=${ES_VERSION:-8.19.9}
PORT=${ES_PORT:-29200}
TRANSPORT_PORT=$((PORT + 100))
TIMEOUT=${ES_START_TIMEOUT:-120}
ES_OS_USER=ttdn-es
URL="http://127.0.0.1:${PORT}"
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
M2_REPO="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.m2/repository"
ZIP="$M2_REPO/org/elasticsearch/distribution/integ-test-zip/elasticsearch/${ES_VERSION}/elasticsearch-${ES_VERSION}.zip"

# True if $1 is an Elasticsearch node answering HTTP. Not `GET /`: this stripped distribution
# answers that with 405 (only DELETE is routed there). Elasticsearch 8 marks every response
# with the header X-Elastic-Product: Elasticsearch, so check that on the health endpoint.
is_es() {
  # No -f: a node that answers 503 (still electing a master, say) is still Elasticsearch.
  curl -sS --max-time 5 -D - -o /dev/null "$1/_cluster/health" 2>/dev/null |
    grep -qi '^x-elastic-product: *Elasticsearch'
}

health_status() {
  curl -fsS --max-time 10 "$URL/_cluster/health" 2>/dev/null |
    sed -nE 's/.*"status" *: *"([a-z]+)".*/\1/p'
}

# A single node can never place replica shards, so an index made with the default
# number_of_replicas=1 keeps the cluster yellow for ever. Set replicas to 0 on existing
# indices so the cluster can go green. The primaries are all there either way.
drop_replicas() {
  curl -fsS --max-time 30 -X PUT -H 'Content-Type: application/json' \
    "$URL/_all/_settings?expand_wildcards=all" -d '{"index":{"number_of_replicas":0}}' >/dev/null 2>&1 || true
}

# Wait until the cluster is green. Yellow is accepted only for a cluster without indices
# (which in practice reports green anyway).
wait_green() {
  local deadline=$((SECONDS + $1)) status indices
  while ((SECONDS < deadline)); do
    if [[ -n ${ES_PID:-} ]] && ! kill -0 "$ES_PID" 2>/dev/null; then
      log "the Elasticsearch process (pid $ES_PID) has exited"
      return 1
    fi
    if curl -fsS --max-time 10 "$URL/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null 2>&1; then
      status=$(health_status)
      [[ $status == green ]] && return 0
      if [[ $status == yellow ]]; then
        indices=$(curl -fsS --max-time 10 "$URL/_cat/indices?h=index&expand_wildcards=all" 2>/dev/null || true)
        [[ -z $indices ]] && return 0
        drop_replicas
      fi
    fi
    sleep 2
  done
  log "cluster not green after $1 s (status: $(health_status || true))"
  return 1
}

take_lock elasticsearch

# 1. An explicitly configured server wins.
if [[ -n ${TEST_ELASTICSEARCH_URL:-} ]]; then
  if is_es "$TEST_ELASTICSEARCH_URL"; then
    log "reusing TEST_ELASTICSEARCH_URL"
    printf '%s\n' "$TEST_ELASTICSEARCH_URL"
    exit 0
  fi
  log "TEST_ELASTICSEARCH_URL is set but does not answer; starting a local node instead"
fi

# 2. Already running: reuse it, once it is healthy.
if is_es "$URL"; then
  wait_green 60 || die "Elasticsearch on $URL answers but is not healthy"
  log "reusing node on $URL"
  printf '%s\n' "$URL"
  exit 0
fi
if curl -s --max-time 5 -o /dev/null "$URL/"; then
  die "port $PORT is taken by something that is not Elasticsearch; set ES_PORT to another port"
fi

# 3. Start our own node.
is_root || die "this script runs Elasticsearch as OS user $ES_OS_USER and must be run as root"
if ! id "$ES_OS_USER" >/dev/null 2>&1; then
  # Elasticsearch refuses to run as root; give it a user of its own.
  log "creating OS user $ES_OS_USER"
  useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_OS_USER"
fi

# The zip has no JDK inside. Use the machine's `java` (OpenJDK 17 on this machine kind),
# unless ES_JAVA_HOME says otherwise; install Debian's OpenJDK 17 if there is no Java at all.
java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -nE 's/^ *java\.specification\.version = ([0-9]+).*/\1/p'; }
find_java_home() {
  local cand j major
  for cand in "${ES_JAVA_HOME:-}" \
    "$(j=$(command -v java) && dirname "$(dirname "$(readlink -f "$j")")")" \
    "${JAVA_HOME:-}"; do
    [[ -n $cand && -x $cand/bin/java ]] || continue
    major=$(java_major "$cand")
    if [[ $major =~ ^[0-9]+$ ]] && ((major >= 17)); then
      printf '%s\n' "$cand"
      return 0
    fi
  done
  return 1
}
JAVA_HOME_FOR_ES=$(find_java_home || true)
if [[ -z $JAVA_HOME_FOR_ES ]]; then
  apt_install openjdk-17-jre-headless
  JAVA_HOME_FOR_ES=$(find_java_home) || die "no Java 17+ found after installing openjdk-17-jre-headless"
fi
log "using Java $(java_major "$JAVA_HOME_FOR_ES") at $JAVA_HOME_FOR_ES"

ES_ROOT=$(service_dir es "$ES_OS_USER")
ES_HOME="$(dirname "$ES_ROOT")/elasticsearch-${ES_VERSION}"
ES_DATA="$ES_ROOT/data"
ES_LOGS="$ES_ROOT/logs"
ES_TMP="$ES_ROOT/tmp"
ES_PID_FILE="$ES_ROOT/elasticsearch.pid"

# Fetch the distribution through Maven (Maven Central is reachable here; Elastic's own
# download site is not). Skipped when it is already in the local repository.
if [[ ! -f $ZIP ]]; then
  have mvn || apt_install maven
  log "fetching $ARTIFACT from Maven Central"
  if ! mvn_out=$(mvn -B -q -Dmaven.repo.local="$M2_REPO" dependency:get \
    -Dartifact="$ARTIFACT" -Dtransitive=false 2>&1 </dev/null); then
    printf '%s\n' "$mvn_out" >&2
    die "mvn dependency:get -Dartifact=$ARTIFACT failed (output above)"
  fi
  [[ -f $ZIP ]] || die "mvn reported success but $ZIP is missing"
fi

# Unpack once. Into a temporary directory first, then rename, so an interrupted unzip never
# leaves a half-complete ES_HOME that later runs would trust.
if [[ ! -x $ES_HOME/bin/elasticsearch ]]; then
  have unzip || apt_install unzip
  log "unpacking $ZIP"
  tmp_unpack=$(mktemp -d "$(dirname "$ES_HOME")/.unpack.XXXXXX")
  unzip -q "$ZIP" -d "$tmp_unpack" || { rm -rf "$tmp_unpack"; die "unzip $ZIP failed"; }
  rm -rf "$ES_HOME"
  mv "$tmp_unpack/elasticsearch-${ES_VERSION}" "$ES_HOME"
  rm -rf "$tmp_unpack"
fi

mkdir -p "$ES_DATA" "$ES_LOGS" "$ES_TMP"
# Written on every start so a change of port or settings takes effect.
cat >"$ES_HOME/config/elasticsearch.yml" <<EOF
# Generated by scripts/start-elasticsearch.sh on each start; edits here are lost.
cluster.name: ttdn-test
node.name: ttdn-test-node
network.host: 127.0.0.1
http.port: ${PORT}
transport.port: ${TRANSPORT_PORT}
discovery.type: single-node
path.data: ${ES_DATA}
path.logs: ${ES_LOGS}
# Plain HTTP without auth: a throwaway node bound to loopback.
xpack.security.enabled: false
# Build machines can be nearly full; do not let the watermarks make indices read-only.
cluster.routing.allocation.disk.threshold_enabled: false
# Let tests clean up with wildcard deletes (e.g. DELETE ttdn-test-*).
action.destructive_requires_name: false
EOF
# The server runs as $ES_OS_USER and writes its keystore into config/, data, logs and tmp.
chown -R "$ES_OS_USER:" "$ES_HOME" "$ES_ROOT"
rm -f "$ES_PID_FILE"

log "starting Elasticsearch ${ES_VERSION} on $URL (logs: $ES_LOGS)"
# Launched in the background and watched from here, so a hung start is bounded by $TIMEOUT:
# - setsid: the node lives in its own session, so Ctrl-C on `make test` does not kill it
#   before the cleanup trap stops it properly;
# - env -i: a clean environment, so stray JAVA_TOOL_OPTIONS / ES_PATH_CONF etc. do not leak in;
# - cd to the logs directory: jvm.options writes gc.log and hs_err files to the working
#   directory, which must be writable by $ES_OS_USER;
# - -d -p: the launcher daemonizes the node, writes its pid file and exits once the node has
#   started (non-zero, with the reason on stderr, if it could not);
# - 9>&-: do not hand our lock's descriptor to the long-lived server.
(
  cd "$ES_LOGS" &&
    exec setsid runuser -u "$ES_OS_USER" -- env -i \
      PATH=/usr/local/bin:/usr/bin:/bin HOME="$ES_ROOT" LANG=C.UTF-8 \
      ES_JAVA_HOME="$JAVA_HOME_FOR_ES" \
      ES_JAVA_OPTS="-Xms512m -Xmx512m" ES_TMPDIR="$ES_TMP" ES_PATH_CONF="$ES_HOME/config" \
      "$ES_HOME/bin/elasticsearch" -d -p "$ES_PID_FILE"
) >"$ES_LOGS/launcher.out" 2>&1 </dev/null 9>&- &
LAUNCHER_PID=$!
deadline=$((SECONDS + TIMEOUT))
ES_PID=""

# Record what we started as soon as the node has a pid, so stop-services.sh can clean up even
# a node that later fails its health check.
record_started() {
  {
    printf 'ES_PID_FILE=%q\n' "$ES_PID_FILE"
    printf 'ES_PID=%q\n' "$ES_PID"
  } >"$CACHE/elasticsearch.started"
  note_started elasticsearch
}

failed() {
  {
    echo "---- launcher output ($ES_LOGS/launcher.out) ----"
    tail -n 50 "$ES_LOGS/launcher.out" 2>/dev/null || true
    echo "---- last 50 lines of $ES_LOGS/ttdn-test.log ----"
    tail -n 50 "$ES_LOGS/ttdn-test.log" 2>/dev/null || true
  } >&2
  # Do not leave a broken node behind: stop what we started and forget it. setsid made the
  # launcher (pid $LAUNCHER_PID) the leader of a new session, and the node and its launcher
  # are the only processes in that session, so end exactly those (the node may not have
  # written its pid file yet).
  local pids
  pids=$(ps -o pid= -s "$LAUNCHER_PID" 2>/dev/null || true)
  [[ -n $ES_PID ]] && pids+=" $ES_PID"
  if [[ -n ${pids// /} ]]; then
    # shellcheck disable=SC2086  # a list of pids
    kill -TERM $pids 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do
      # shellcheck disable=SC2086
      kill -0 $pids 2>/dev/null || break
      sleep 1
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
  fi
  rm -f "$CACHE/elasticsearch.started" "$ES_PID_FILE"
  die "$1"
}

# Phase 1: the launcher exits when the node is up (or has failed).
while kill -0 "$LAUNCHER_PID" 2>/dev/null; do
  if [[ -z $ES_PID && -s $ES_PID_FILE ]]; then
    ES_PID=$(cat "$ES_PID_FILE")
    record_started
  fi
  ((SECONDS < deadline)) || failed "Elasticsearch did not start within ${TIMEOUT} s"
  sleep 1
done
launch_rc=0
wait "$LAUNCHER_PID" || launch_rc=$?
[[ $launch_rc -eq 0 ]] || failed "the Elasticsearch launcher failed (exit code $launch_rc)"
if [[ -z $ES_PID ]]; then
  ES_PID=$(cat "$ES_PID_FILE" 2>/dev/null || true)
  [[ -n $ES_PID ]] || failed "the launcher exited but wrote no pid file $ES_PID_FILE"
  record_started
fi

# Phase 2: the cluster must be green (within what is left of $TIMEOUT, at least 10 s).
remaining=$((deadline - SECONDS))
((remaining >= 10)) || remaining=10
wait_green "$remaining" || failed "Elasticsearch started but the cluster did not become green"

log "ready (pid $ES_PID)"
printf '%s\n' "$URL"
