#!/usr/bin/env bash
# Screenshots of what a person sees, taken with headless Chromium (Debian's `chromium`, installed
# with apt-get when missing): /docs, a demo unit's feed.html, a bundle page, and a package's
# index.html (also with an offline search) and one material page, each at phone (390 px) and
# desktop (1280 px) widths.
#
#   scripts/screenshot.sh            # PNGs in ./screenshots (git-ignored)
#   SCREENSHOT_PORT=8765 OUT=dir scripts/screenshot.sh
#
# The service runs on the demo data in a scratch DATA_DIR on its own port, and is stopped at
# the end. Chromium gets a fresh profile and no background networking: nothing leaves 127.0.0.1.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=${SCREENSHOT_PORT:-8765}
OUT=${OUT:-$ROOT/screenshots}
BASE="http://127.0.0.1:$PORT"
mkdir -p "$OUT" "$ROOT/.cache"
SCRATCH=$(mktemp -d "$ROOT/.cache/screenshot.XXXXXX")
SERVER_PID=""

cleanup() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

if ! command -v chromium >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
make -s venv >/dev/null

export DATA_DIR="$SCRATCH/data" APP_ENV=development
unset DATABASE_URL ELASTICSEARCH_URL
.venv/bin/ttdn migrate >/dev/null
SEED=$(.venv/bin/ttdn seed --demo-if-empty)
read -r UNIT KEY < <(sed -n 's/^demo unit: \([^ ]*\) \/ key \([^ ]*\).*/\1 \2/p' <<<"$SEED")
[[ -n "${KEY:-}" ]] || { echo "no demo unit key in the seed output:" >&2; echo "$SEED" >&2; exit 1; }

.venv/bin/ttdn serve --host 127.0.0.1 --port "$PORT" >"$SCRATCH/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "$BASE/healthz" >/dev/null || { cat "$SCRATCH/server.log" >&2; exit 1; }

BUNDLE=$(curl -fs -H "Authorization: Bearer $KEY" "$BASE/api/v1/feed" |
    .venv/bin/python -c 'import json,sys; print(next(i["bundle_id"] for i in json.load(sys.stdin)["items"] if i["status"] == "published" and i["priority"] == "normal"))')
curl -fs -H "Authorization: Bearer $KEY" -o "$SCRATCH/package.zip" "$BASE/api/v1/feed/bundles/$BUNDLE/package"
.venv/bin/python -m zipfile -e "$SCRATCH/package.zip" "$SCRATCH/package"
MATERIAL=$(cd "$SCRATCH/package" && ls -d materials/*/ | head -1)

shoot() { # name url width height; a page that never settles is given up after 90 s
    timeout -k 5 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$SCRATCH/profile-$1" --hide-scrollbars --force-device-scale-factor=1 \
        --virtual-time-budget=8000 --window-size="$3,$4" --screenshot="$OUT/$1.png" "$2" >/dev/null 2>&1 ||
        { echo "no screenshot of $2 (chromium gave up)" >&2; return 0; }
    echo "$OUT/$1.png"
}

WITH_KEY="http://$UNIT:$KEY@127.0.0.1:$PORT"
for size in "phone 390 1400" "desktop 1280 1000"; do
    read -r name width height <<<"$size"
    shoot "docs-$name" "$BASE/docs" "$width" "$height"
    shoot "redoc-$name" "$BASE/redoc" "$width" "$height"
    shoot "feed-$name" "$WITH_KEY/api/v1/feed.html" "$width" "$height"
    shoot "bundle-$name" "$WITH_KEY/api/v1/feed/bundles/$BUNDLE.html" "$width" "$height"
    shoot "package-index-$name" "file://$SCRATCH/package/index.html" "$width" "$height"
    shoot "package-search-$name" "file://$SCRATCH/package/index.html#q=ngay%20hoi%20van%20hoa" "$width" "$height"
    shoot "package-material-$name" "file://$SCRATCH/package/${MATERIAL}material.html" "$width" "$height"
done
