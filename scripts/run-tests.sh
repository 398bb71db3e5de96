#!/usr/bin/env bash
# Run the test suite in both configurations, side by side (what `make test` and CI run):
#   1. sqlite       - no external services;
#   2. postgres-es  - against a real PostgreSQL and Elasticsearch, started here if needed.
#
# Both always run, even when the first fails. A service that cannot be started is a failure
# of the second configuration, never a reason to skip it. Services this script started are
# stopped on exit (also on failure or Ctrl-C); ones that were already running are left alone.
# Set KEEP_SERVICES=1 to leave them running for faster reruns.
#
# Extra pytest arguments: PYTEST_ARGS='-x -k search' scripts/run-tests.sh
# (shell quoting inside PYTEST_ARGS is honoured: PYTEST_ARGS="-k 'a and b'").
set -euo pipefail
LOG_TAG=run-tests
# shellcheck source=scripts/_lib.sh
. "$(dirname "$0")/_lib.sh"
cd "$REPO"

PYTEST="$REPO/.venv/bin/pytest"
[[ -x $PYTEST ]] || die "$PYTEST not found; run 'make venv' first"

# PYTEST_ARGS comes from the developer (make PYTEST_ARGS=...); eval so quoting works.
pytest_args=()
eval "pytest_args=(${PYTEST_ARGS:-})"

stop_started_services_on_exit

banner() {
  printf '\n==================================================================\n'
  printf '== %s\n' "$*"
  printf '==================================================================\n'
}

describe_rc() {
  case $1 in
    0) echo "passed" ;;
    5) echo "FAILED: pytest collected no tests (exit 5)" ;;
    *) echo "FAILED (exit $1)" ;;
  esac
}

# ---- 0. The dependency order ------------------------------------------------------------
banner "Import contracts (lint-imports; see [tool.importlinter] in pyproject.toml)"
set +e
"$REPO/.venv/bin/lint-imports" --no-cache
rc_imports=$?
set -e

# Branch coverage of app/ over both configurations together; the floor below may only rise
# (set it to the figure printed at the end, minus a little, when the suite grows).
COVERAGE_FLOOR=${COVERAGE_FLOOR:-93}
mkdir -p "$CACHE"
rm -f "$CACHE"/coverage "$CACHE"/coverage.*
cov_args=(--cov=app --cov-branch --cov-report=)

# ---- Services for configuration 2 -------------------------------------------------------
rc_pges=0
services_ok=1
# The start scripts print progress on stderr and the URL as the last line of stdout.
if ! pg_out=$(bash "$REPO/scripts/start-postgres.sh"); then
  log "FAILED to start PostgreSQL; the postgres-es configuration counts as failed"
  services_ok=0
fi
if ! es_out=$(bash "$REPO/scripts/start-elasticsearch.sh"); then
  log "FAILED to start Elasticsearch; the postgres-es configuration counts as failed"
  services_ok=0
fi
# The fault tests put PgBouncer (Debian's package) in front of PostgreSQL, and start extra
# Elasticsearch nodes themselves (scripts/es-node.sh, ports 24200-24321 unless
# TEST_ES_NODE_PORT_BASE says otherwise).
if ! have pgbouncer && [[ ! -x /usr/sbin/pgbouncer ]]; then
  ( apt_install pgbouncer ) || { log "FAILED to install pgbouncer"; services_ok=0; }
fi

# ---- The two configurations, side by side -----------------------------------------------
# Each pytest is one Python process, so one alone leaves the second core mostly idle: the two
# run at the same time (no shared state: the sqlite run uses only its own temporary files, and
# the ports the tests open differ per configuration). The sqlite output is shown as it comes;
# the postgres-es output goes to $PGES_LOG and is shown once both are done.
PGES_LOG="$CACHE/test-postgres-es.log"
pid_pges=""
if [[ $services_ok -eq 1 ]]; then
  TEST_DATABASE_URL=$(printf '%s\n' "$pg_out" | tail -n 1)
  TEST_ELASTICSEARCH_URL=$(printf '%s\n' "$es_out" | tail -n 1)
  export TEST_DATABASE_URL TEST_ELASTICSEARCH_URL
  log "TEST_DATABASE_URL=$TEST_DATABASE_URL"
  log "TEST_ELASTICSEARCH_URL=$TEST_ELASTICSEARCH_URL"
  log "postgres-es runs in the background; its output: $PGES_LOG"
  TTDN_TEST_CONFIG=postgres-es COVERAGE_FILE="$CACHE/coverage.postgres-es" \
    "$PYTEST" "${cov_args[@]}" "${pytest_args[@]}" >"$PGES_LOG" 2>&1 </dev/null &
  pid_pges=$!
  # Interrupted or failed early: stop it too (SIGINT, so that it stops the nodes it started).
  trap 'rc=$?; kill -INT "$pid_pges" 2>/dev/null && wait "$pid_pges"; (exit "$rc"); _stop_started_services' EXIT
fi

banner "Test configuration 1/2: sqlite (TTDN_TEST_CONFIG=sqlite)"
set +e
TTDN_TEST_CONFIG=sqlite COVERAGE_FILE="$CACHE/coverage.sqlite" "$PYTEST" "${cov_args[@]}" "${pytest_args[@]}"
rc_sqlite=$?
set -e

banner "Test configuration 2/2: postgres-es (TTDN_TEST_CONFIG=postgres-es)"
if [[ -n $pid_pges ]]; then
  set +e
  wait "$pid_pges"
  rc_pges=$?
  set -e
  cat "$PGES_LOG"
else
  rc_pges=1
fi

# ---- Coverage ----------------------------------------------------------------------------
banner "Branch coverage of app/ (both configurations; floor ${COVERAGE_FLOOR}%)"
set +e
data_files=()
for f in "$CACHE/coverage.sqlite" "$CACHE/coverage.postgres-es"; do
  [[ -f $f ]] && data_files+=("$f")
done
export COVERAGE_FILE="$CACHE/coverage"
"$REPO/.venv/bin/coverage" combine "${data_files[@]}" >/dev/null &&
  "$REPO/.venv/bin/coverage" report --skip-covered --sort=cover --precision=1 --fail-under="$COVERAGE_FLOOR"
rc_cov=$?
set -e

# ---- Summary -----------------------------------------------------------------------------
banner "Summary"
printf 'imports:     %s\n' "$( [[ $rc_imports -eq 0 ]] && echo kept || echo "BROKEN (see above)")"
printf 'coverage:    %s\n' "$( [[ $rc_cov -eq 0 ]] && echo "at or above ${COVERAGE_FLOOR}%" || echo "BELOW the floor of ${COVERAGE_FLOOR}% (or no data)")"
printf 'sqlite:      %s\n' "$(describe_rc "$rc_sqlite")"
if [[ $services_ok -eq 1 ]]; then
  printf 'postgres-es: %s\n' "$(describe_rc "$rc_pges")"
else
  printf 'postgres-es: FAILED: PostgreSQL/Elasticsearch did not start (see above); tests not run\n'
fi
if [[ $rc_sqlite -ne 0 || $rc_pges -ne 0 || $rc_imports -ne 0 || $rc_cov -ne 0 ]]; then
  exit 1
fi
