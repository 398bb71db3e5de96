#!/usr/bin/env bash
# Start (or reuse) a throwaway PostgreSQL for the test suite and print its URL as the last
# line of stdout:
#     postgresql://postgres@127.0.0.1:25432/ttdn_test
#
# Idempotent and quick when the server is already up. Order of preference:
#   1. $TEST_DATABASE_URL, if set and it answers `select 1`;
#   2. whatever already answers on 127.0.0.1:$PGPORT (our own cluster from an earlier run);
#   3. our own cluster under .cache/pg, created (initdb) and started here, owned by the
#      `postgres` OS user because the server refuses to run as root.
# Debian's postgresql package is installed if no server binaries are found.
#
# Env: PGPORT (default 25432), PG_BINDIR (override where initdb/pg_ctl live).
set -euo pipefail
LOG_TAG=postgres
# shellcheck source=scripts/_lib.sh
. "$(dirname "$0")/_lib.sh"

PORT=${PGPORT:-25432}
DB=ttdn_test
PG_OS_USER=postgres
URL="postgresql://postgres@127.0.0.1:${PORT}/${DB}"
ADMIN_URL="postgresql://postgres@127.0.0.1:${PORT}/postgres"

answers() { psql "$1" -XAtqc 'select 1' >/dev/null 2>&1; }

# Create the test database when the server is up but the database is not there yet.
ensure_db() {
  if [[ -z $(psql "$ADMIN_URL" -XAtqc "select 1 from pg_database where datname = '$DB'") ]]; then
    log "creating database $DB"
    psql "$ADMIN_URL" -XAtqc "create database $DB" >/dev/null
  fi
}

# Newest /usr/lib/postgresql/<major>/bin (Debian layout). We call these binaries directly:
# /usr/local/bin/pg_ctl on this machine kind is a wrapper that refuses root, and Debian's
# pg_wrapper in /usr/bin does not ship initdb/pg_ctl at all.
find_bindir() {
  if [[ -n ${PG_BINDIR:-} ]]; then
    printf '%s\n' "$PG_BINDIR"
    return
  fi
  # Highest major version wins; sort -V orders 9 before 10, unlike the glob.
  local d best
  best=$(for d in /usr/lib/postgresql/*/bin; do
    if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then printf '%s\n' "$d"; fi
  done | sort -V | tail -n 1)
  printf '%s\n' "$best"
}

take_lock postgres

# psql is needed for every check below; Debian's postgresql brings client and server.
if ! have psql; then
  apt_install postgresql
fi

# 1. An explicitly configured server wins.
if [[ -n ${TEST_DATABASE_URL:-} ]]; then
  if answers "$TEST_DATABASE_URL"; then
    log "reusing TEST_DATABASE_URL"
    printf '%s\n' "$TEST_DATABASE_URL"
    exit 0
  fi
  log "TEST_DATABASE_URL is set but does not answer 'select 1'; starting a local cluster instead"
fi

# 2. Already running (the usual case on the second and later runs): just make sure the
#    database exists.
if answers "$ADMIN_URL"; then
  ensure_db
  log "reusing server on 127.0.0.1:$PORT"
  printf '%s\n' "$URL"
  exit 0
fi

# 3. Start our own cluster.
BINDIR=$(find_bindir)
if [[ -z $BINDIR ]]; then
  apt_install postgresql
  BINDIR=$(find_bindir)
  [[ -n $BINDIR ]] || die "postgresql installed but no initdb/pg_ctl found under /usr/lib/postgresql/*/bin"
fi
if is_root && ! id "$PG_OS_USER" >/dev/null 2>&1; then
  # Debian's package creates this user; a PG_BINDIR from elsewhere might not have.
  useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER"
fi
log "using $BINDIR"

PG_ROOT=$(service_dir pg "$PG_OS_USER")
DATA="$PG_ROOT/data"
PGLOG="$PG_ROOT/postgres.log"
is_root && chown "$PG_OS_USER:" "$PG_ROOT"
# The server's user may not be able to read our working directory; run from its own.
cd "$PG_ROOT"

# A data directory from another major version (after a package upgrade) cannot be started;
# it is throwaway, so recreate it. Same for a half-finished initdb.
# `postgres -V` prints e.g. "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)".
major=$("$BINDIR/postgres" -V | awk '{print $3}' | cut -d. -f1)
if [[ -d $DATA && $(cat "$DATA/PG_VERSION" 2>/dev/null || true) != "$major" ]]; then
  log "discarding unusable data directory $DATA"
  rm -rf "$DATA"
fi

if [[ ! -d $DATA ]]; then
  # C.UTF-8 gives UTF-8 character semantics with byte-order (fast, stable) collation; fall
  # back to plain C where the C.UTF-8 locale is missing.
  locale=C
  if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; fi
  log "initdb $DATA (UTF8, locale $locale)"
  as_user "$PG_OS_USER" "$BINDIR/initdb" -D "$DATA" -U postgres -E UTF8 --locale="$locale" \
    --auth-local=trust --auth-host=trust >"$PG_ROOT/initdb.log" 2>&1 ||
    { cat "$PG_ROOT/initdb.log" >&2; rm -rf "$DATA"; die "initdb failed"; }
fi

# Server options, given on every start so a PGPORT change takes effect:
#  - TCP on loopback only; no Unix socket (its default directory may not exist or be
#    writable, and the path length limit bites in deep clones);
#  - durability off: this cluster is disposable and the suite runs much faster without fsync.
opts="-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=''"
opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
log "starting on 127.0.0.1:$PORT (log: $PGLOG)"
# 9>&-: the server must not inherit our lock's descriptor, or it would hold the lock forever.
if ! as_user "$PG_OS_USER" "$BINDIR/pg_ctl" -D "$DATA" -l "$PGLOG" -o "$opts" -w -t 60 start >&2 9>&-; then
  tail -n 50 "$PGLOG" >&2 || true
  die "pg_ctl start failed (is port $PORT taken by something else?)"
fi

# Marker: only servers recorded here are stopped by stop-services.sh.
{
  printf 'PG_BINDIR=%q\n' "$BINDIR"
  printf 'PG_DATA=%q\n' "$DATA"
  printf 'PG_OS_USER=%q\n' "$PG_OS_USER"
  printf 'PG_PID=%q\n' "$(head -n 1 "$DATA/postmaster.pid")"
} >"$CACHE/postgres.started"
note_started postgres

answers "$ADMIN_URL" || die "server started but $ADMIN_URL does not answer"
ensure_db
log "ready"
printf '%s\n' "$URL"
