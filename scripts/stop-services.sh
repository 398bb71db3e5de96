#!/usr/bin/env bash
# Stop the servers that start-postgres.sh / start-elasticsearch.sh started, and nothing else.
#
#   scripts/stop-services.sh                  # both
#   scripts/stop-services.sh postgres         # only PostgreSQL
#   scripts/stop-services.sh elasticsearch    # only Elasticsearch
#
# A server counts as ours only if its marker file (.cache/<name>.started) exists; a server
# reused from TEST_DATABASE_URL / TEST_ELASTICSEARCH_URL or started by someone else has none
# and is left alone. Data is kept, so the next start is quick; `rm -rf .cache` wipes it.
set -euo pipefail
LOG_TAG=stop
# shellcheck source=scripts/_lib.sh
. "$(dirname "$0")/_lib.sh"

stop_postgres() {
  local marker="$CACHE/postgres.started" PG_BINDIR PG_DATA PG_OS_USER
  if [[ ! -f $marker ]]; then
    log "postgres: not started by our scripts; nothing to stop"
    return 0
  fi
  # shellcheck disable=SC1090  # our own file of KEY=value lines (printf %q quoted)
  . "$marker"
  take_lock postgres
  if [[ -f $PG_DATA/postmaster.pid ]] && (cd / && as_user "$PG_OS_USER" "$PG_BINDIR/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1); then
    log "postgres: stopping (pid $(head -n 1 "$PG_DATA/postmaster.pid"), data $PG_DATA)"
    # fast = roll back open transactions and disconnect clients; clean shutdown, no recovery
    # needed next time.
    (cd / && as_user "$PG_OS_USER" "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >&2) ||
      die "postgres: pg_ctl stop failed"
  else
    log "postgres: was not running"
  fi
  rm -f "$marker"
}

stop_elasticsearch() {
  local marker="$CACHE/elasticsearch.started" ES_PID_FILE ES_PID pid i
  if [[ ! -f $marker ]]; then
    log "elasticsearch: not started by our scripts; nothing to stop"
    return 0
  fi
  # shellcheck disable=SC1090
  . "$marker"
  take_lock elasticsearch
  pid=$(cat "$ES_PID_FILE" 2>/dev/null || printf '%s' "${ES_PID:-}")
  # Check the pid is still Elasticsearch before signalling it: pids get reused.
  if [[ -n $pid ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'org.elasticsearch'; then
    log "elasticsearch: stopping (pid $pid)"
    kill -TERM "$pid"
    # SIGTERM makes Elasticsearch shut down cleanly; give it a minute before forcing it.
    for ((i = 0; i < 60; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "elasticsearch: still running after 60 s; sending SIGKILL"
      kill -KILL "$pid" || true
    fi
  else
    log "elasticsearch: was not running"
  fi
  rm -f "$marker" "$ES_PID_FILE"
}

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(postgres elasticsearch)
for t in "${targets[@]}"; do
  case $t in
    postgres | postgresql | pg) (stop_postgres) ;;
    elasticsearch | es) (stop_elasticsearch) ;;
    *) die "unknown service '$t' (expected postgres or elasticsearch)" ;;
  esac
done
