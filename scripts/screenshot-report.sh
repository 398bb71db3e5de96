#!/usr/bin/env bash
# Screenshot the yearly review page in headless Chromium (Debian's `chromium` package), to check
# that it renders in a real browser.
#
#   scripts/screenshot-report.sh [--year YYYY] [--html FILE] [--out FILE.png] [--height PX]
#
# Without --html, it builds a scratch SQLite database with the demo set (under .cache/), writes
# the review with `ttdn report yearly --format html`, and screenshots that file.
set -euo pipefail
cd "$(dirname "$0")/.."

year=$(date -u +%Y)
html=""
out=".cache/yearly-report.png"
height=6000
while [[ $# -gt 0 ]]; do
    case "$1" in
        --year) year="$2"; shift 2 ;;
        --html) html="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --height) height="$2"; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$browser" ]]; then
    echo "chromium is missing: sudo apt-get install -y chromium" >&2
    exit 1
fi

mkdir -p .cache "$(dirname "$out")"
work=$(mktemp -d .cache/screenshot-report.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [[ -z "$html" ]]; then
    export DATA_DIR="$work/data" APP_ENV=development
    unset DATABASE_URL ELASTICSEARCH_URL
    .venv/bin/ttdn migrate >/dev/null
    .venv/bin/ttdn seed --demo-if-empty >/dev/null
    html="$work/review.html"
    .venv/bin/ttdn report yearly --year "$year" --format html --out "$html"
fi

"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --hide-scrollbars --window-size=1100,"$height" \
    --screenshot="$(realpath -m "$out")" "file://$(realpath "$html")" 2>"$work/chromium.log" || {
    cat "$work/chromium.log" >&2
    exit 1
}
echo "screenshot: $out"
