# shellcheck shell=bash
# Helpers shared by the service scripts (start-postgres.sh, start-elasticsearch.sh,
# stop-services.sh, run-tests.sh). Sourced, never run on its own.
#
# Conventions the scripts follow:
#   * progress and errors go to stderr; the only thing on stdout is the service URL, printed
#     last, so callers can do  url=$(scripts/start-x.sh | tail -n 1)
#   * everything a script creates lives under $CACHE (= $REPO/.cache, git-ignored), so a fresh
#     clone starts from nothing and `rm -rf .cache` resets it;
#   * a "<name>.started" marker in $CACHE records that *our* script started a server; the stop
#     script stops only servers that have such a marker.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CACHE="$REPO/.cache"

log() { printf '[%s] %s\n' "${LOG_TAG:-services}" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "${LOG_TAG:-services}" "$*" >&2
  exit 1
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# Run a command as another OS user. Servers like PostgreSQL and Elasticsearch refuse to run
# as root, so as root we drop to their user with runuser (util-linux, always on Debian; no sudo
# needed). As a normal user we simply run it ourselves.
as_user() {
  local user=$1
  shift
  if is_root; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

# apt-get install, with one `apt-get update` per script run (a fresh machine's package lists
# may be empty or stale). Only root can do this; a normal user gets a clear message instead.
_APT_UPDATED=0
apt_install() {
  is_root || die "missing $*; install it (apt-get install -y $*) or run this script as root"
  export DEBIAN_FRONTEND=noninteractive
  if [[ $_APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    apt-get update -q >&2 || die "apt-get update failed"
    _APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  apt-get install -y -q --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
}

have() { command -v "$1" >/dev/null 2>&1; }

# Serialise concurrent runs of the same start/stop script (two `make test` at once would
# otherwise race on initdb/unzip). Holds the lock until the calling script exits. Servers
# started while it is held must be launched with `9>&-` so they do not inherit it.
take_lock() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/$1.lock"
  flock -w 300 9 || die "timed out waiting for lock $CACHE/$1.lock"
}

# Directory for a service's files. Normally $CACHE/<name>; but the server runs as another OS
# user, and if that user cannot reach the repository (e.g. a clone under /root, mode 700) we
# fall back to a per-repository directory under /var/tmp that it can reach.
service_dir() {
  local name=$1 user=$2 dir
  mkdir -p "$CACHE"
  dir="$CACHE/$name"
  if is_root && ! runuser -u "$user" -- test -x "$CACHE" 2>/dev/null; then
    dir="/var/tmp/ttdn-$(printf '%s' "$REPO" | cksum | cut -d' ' -f1)/$name"
    log "user $user cannot reach $CACHE; using $dir instead"
  fi
  mkdir -p "$dir"
  printf '%s\n' "$dir"
}

# Tell a caller (run-tests.sh) which services this run started, so it stops only those.
note_started() {
  if [[ -n ${TTDN_STARTED_LOG:-} ]]; then
    printf '%s\n' "$1" >>"$TTDN_STARTED_LOG"
  fi
}

# Stop, when the calling script exits (also on failure or Ctrl-C), the services that our start
# scripts report as started during its run; ones that were already running are left alone.
# KEEP_SERVICES=1 leaves everything running for faster reruns.
stop_started_services_on_exit() {
  STARTED_LOG=$(mktemp)
  export TTDN_STARTED_LOG="$STARTED_LOG"
  trap _stop_started_services EXIT
  # Turn signals into a normal exit so the EXIT trap runs the cleanup.
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

_stop_started_services() {
  local rc=$? svc
  if [[ ${KEEP_SERVICES:-0} == 1 ]]; then
    log "KEEP_SERVICES=1: leaving services running"
  else
    while read -r svc; do
      bash "$REPO/scripts/stop-services.sh" "$svc" || log "could not stop $svc"
    done < <(sort -u "$STARTED_LOG")
  fi
  rm -f "$STARTED_LOG"
  exit "$rc"
}
