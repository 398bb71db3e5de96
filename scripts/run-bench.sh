#!/usr/bin/env bash
# Run every benchmark (what `make bench` runs) and write bench/results.json and bench/RESULTS.md.
#
#   1. start PostgreSQL (127.0.0.1:55432) and Elasticsearch (127.0.0.1:59200) with the
#      repository's scripts, or reuse the ones already running;
#   2. generate the corpus (bench/out/corpus.ndjson, 100,000 materials, seed 7) when missing;
#   3. install wrk (Debian) when missing and we are root; without it the load test falls back
#      to a bounded Python loop;
#   4. .venv/bin/python -m bench.run: its own database (ttdn_bench) and alias (ttdn-bench),
#      removed at the end. Services started here are stopped on exit (KEEP_SERVICES=1 keeps them).
#
# Env: BENCH_COUNT (100000). Its two parts (bench.run, then the feeds benchmark) took about 10 and
# 7 minutes on the 2-core machine (the README says the same; update both when it changes).
set -euo pipefail
LOG_TAG=run-bench
# shellcheck source=scripts/_lib.sh
. "$(dirname "$0")/_lib.sh"
cd "$REPO"

PYTHON="$REPO/.venv/bin/python"
[[ -x $PYTHON ]] || die "$PYTHON not found; run 'make venv' first"
COUNT=${BENCH_COUNT:-100000}
CORPUS="bench/out/corpus.ndjson"

stop_started_services_on_exit

pg_url=$(bash scripts/start-postgres.sh | tail -n 1)
es_url=$(bash scripts/start-elasticsearch.sh | tail -n 1)
log "PostgreSQL: $pg_url; Elasticsearch: $es_url"

if [[ ! -s $CORPUS ]] || [[ $(wc -l <"$CORPUS") -ne $COUNT ]]; then
  log "generating $CORPUS ($COUNT materials, seed 7)"
  "$PYTHON" bench/corpus.py --count "$COUNT" --seed 7 --out "$CORPUS"
fi

if ! have wrk; then
  if is_root; then
    apt_install wrk || log "wrk could not be installed; the load test uses a Python loop"
  else
    log "wrk not installed and not root; the load test uses a Python loop"
  fi
fi

"$PYTHON" -m bench.run --count "$COUNT" --corpus "$CORPUS"
# Issue 4's figures (feeds, publishing, packages): on a scratch SQLite database of its own.
"$PYTHON" -m bench.feeds_bench
