"""Feeds and packages benchmark for issue 4 (bench/RESULTS.md, section feeds-bench).

Every figure is a ratio to a baseline measured in the same run with the same client:
1. unchanged feed answered 304 vs /healthz, same concurrency;
2. a delta of 3 changes vs the full feed (bytes);
3. publishing one bundle to all units: wall time and SQL statements (before_cursor_execute);
4. a package of many large attachments: server RSS growth while streaming it, and throughput
   vs reading the same blobs from disk.

SQLite in a temp DATA_DIR; the server is `ttdn serve` on 127.0.0.1 (loopback only); every loop
is bounded in count and time. Sizes can be lowered with FEEDS_BENCH_* env vars for a quick run.
Run: `.venv/bin/python -m bench.feeds_bench`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
RAW = OUT / "feeds_results.json"
RESULTS_JSON = REPO / "bench" / "results.json"
RESULTS_MD = REPO / "bench" / "RESULTS.md"
TTDN = str(REPO / ".venv" / "bin" / "ttdn")
PORT = int(os.environ.get("FEEDS_BENCH_PORT", "8799"))
BASE = f"http://127.0.0.1:{PORT}"
START, END = "<!-- feeds-bench:start -->", "<!-- feeds-bench:end -->"
COMMAND = ".venv/bin/python -m bench.feeds_bench"

UNITS = int(os.environ.get("FEEDS_BENCH_UNITS", "2000"))
BUNDLES = int(os.environ.get("FEEDS_BENCH_BUNDLES", "10000"))
PKG_FILES = int(os.environ.get("FEEDS_BENCH_PKG_FILES", "200"))
PKG_MB = int(os.environ.get("FEEDS_BENCH_PKG_MB", "200"))
CONCURRENCY = 8
REQUESTS = int(os.environ.get("FEEDS_BENCH_REQUESTS", "1500"))
ROUNDS = 3


def log(message: str) -> None:
    print(f"[feeds-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DATA_DIR=str(data_dir),
        SECRET_KEY="feeds-bench-secret-" + "k" * 32,
        INDEXER_INTERVAL_SECONDS="0",
        FEED_RELEASE_INTERVAL_SECONDS="0",
        MAX_UPLOAD_BYTES=str(64 * 1024 * 1024),
        APP_ENV="development",
    )
    return env


# --- server --------------------------------------------------------------------------------------


def start_server(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    out = log_path.open("wb")
    proc = subprocess.Popen([TTDN, "serve", "--port", str(PORT)], env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{BASE}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    stop_server(proc)
    raise RuntimeError(f"server did not start; see {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- 1. 304 throughput vs /healthz ---------------------------------------------------------------


def _hammer(path: str, headers: dict[str, str], expect: int, total: int) -> float:
    """`total` GETs on CONCURRENCY threads (one httpx.Client each); requests per second."""
    per = total // CONCURRENCY

    def worker(_: int) -> int:
        bad = 0
        with httpx.Client(base_url=BASE, headers=headers, timeout=30) as client:
            for _ in range(per):
                bad += client.get(path).status_code != expect
        return bad

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        bad = sum(pool.map(worker, range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    if bad:
        raise RuntimeError(f"{bad} answers to {path} were not {expect}")
    return per * CONCURRENCY / elapsed


def measure_304(key: str) -> dict[str, Any]:
    """Interleaved rounds (healthz, feed, healthz, feed, ...) so that load from other processes
    hits both alike; the figure is the median of per-round ratios."""
    auth = {"Authorization": f"Bearer {key}"}
    etag = httpx.get(f"{BASE}/api/v1/feed", headers=auth, timeout=30).headers["etag"]
    cond = {**auth, "If-None-Match": etag}
    _hammer("/healthz", {}, 200, 200)  # warm-up
    _hammer("/api/v1/feed", cond, 304, 200)
    rounds = []
    for _ in range(ROUNDS):
        health = _hammer("/healthz", {}, 200, REQUESTS)
        feed = _hammer("/api/v1/feed", cond, 304, REQUESTS)
        rounds.append({"healthz_rps": round(health, 1), "feed_304_rps": round(feed, 1), "ratio": feed / health})
    ratios = sorted(r["ratio"] for r in rounds)
    best = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    return {
        "rounds": rounds,
        "ratio": ratios[len(ratios) // 2],
        "feed_304_rps": best["feed_304_rps"],
        "healthz_rps": best["healthz_rps"],
    }


# --- 2. delta size ---------------------------------------------------------------------------------


def full_feed(client: httpx.Client) -> tuple[int, int, int, str]:
    """Every page of the feed (limit 100): total bytes, first page bytes, items, final cursor."""
    total = first = items = 0
    params: dict[str, Any] = {"limit": 100}
    for _ in range(1000):
        answer = client.get("/api/v1/feed", params=params, headers={"Accept-Encoding": "identity"})
        answer.raise_for_status()
        body = answer.json()
        total += len(answer.content)
        first = first or len(answer.content)
        items += len(body["items"])
        if not body.get("next_cursor"):
            return total, first, items, body["cursor"]
        params = {"limit": 100, "since": body["next_cursor"]}
    raise RuntimeError("the feed did not end within 1000 pages")


def measure_delta(client: httpx.Client, cursor: str) -> dict[str, int]:
    answer = client.get("/api/v1/feed", params={"since": cursor, "limit": 100}, headers={"Accept-Encoding": "identity"})
    answer.raise_for_status()
    return {"delta_bytes": len(answer.content), "delta_items": len(answer.json()["items"])}


# --- 3. publish to all units -----------------------------------------------------------------------


def measure_publish_all(factory: Any, engine: Any, who: Any, mats: list[str]) -> dict[str, Any]:
    """One bundle whose selectors (every unit type) match every unit: publish and commit, timed,
    counting every statement sent to the database."""
    from sqlalchemy import event

    from bench import feeds_data

    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    with factory() as session:
        data_targets = {"unit_types": feeds_data.UNIT_TYPES}
        bundle = feeds_data.create_draft(session, who, mats[:2], data_targets)
        session.commit()
        event.listen(engine, "before_cursor_execute", count)
        try:
            started = time.perf_counter()
            feeds_data.publishing.publish_bundle(session, bundle, who.reviewer, None)
            session.commit()
            elapsed = time.perf_counter() - started
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return {"publish_all_s": elapsed, "publish_all_statements": statements}


# --- 4. package streaming --------------------------------------------------------------------------


def _sample_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kb(pid))
        stop.wait(0.05)


def download(pid: int, path: str, key: str) -> dict[str, float]:
    """Stream the package once; server RSS before and peak (every 50 ms); MB/s."""
    before = rss_kb(pid)
    peak, stop = [before], threading.Event()
    sampler = threading.Thread(target=_sample_rss, args=(pid, stop, peak), daemon=True)
    sampler.start()
    size, started = 0, time.perf_counter()
    try:
        with httpx.stream("GET", f"{BASE}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=600) as answer:
            answer.raise_for_status()
            for chunk in answer.iter_raw(1024 * 1024):
                size += len(chunk)
    finally:
        elapsed = time.perf_counter() - started
        stop.set()
        sampler.join()
    return {
        "bytes": size,
        "seconds": elapsed,
        "mb_s": size / 1e6 / elapsed,
        "rss_before_kb": before,
        "rss_peak_kb": peak[0],
        "growth_mb": (peak[0] - before) / 1024,
    }


def read_from_disk(paths: list[Path]) -> dict[str, float]:
    size, started = 0, time.perf_counter()
    for path in paths:
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                size += len(chunk)
    elapsed = time.perf_counter() - started
    return {"bytes": size, "seconds": elapsed, "mb_s": size / 1e6 / elapsed}


def measure_package(pid: int, key: str, bundle_id: Any, blobs: list[Path]) -> dict[str, Any]:
    """First download (the server builds the zip, then streams it) and a second one (served from
    the built file); the disk baseline reads the same blobs right after, page cache warm alike."""
    path = f"/api/v1/feed/bundles/{bundle_id}/package"
    first = download(pid, path, key)
    disk_first = read_from_disk(blobs)
    second = download(pid, path, key)
    disk_second = read_from_disk(blobs)
    return {"first": first, "disk_first": disk_first, "second": second, "disk_second": disk_second}


# --- results ---------------------------------------------------------------------------------------


def _row(value: float, unit: str, baseline: float, ratio: float, goal: str, met: bool | None) -> dict[str, Any]:
    return {
        "value": round(value, 3),
        "unit": unit,
        "baseline": round(baseline, 3),
        "ratio": round(ratio, 4),
        "goal": goal,
        "met": met,
    }


def _feed_rows(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    t, d, p, units = raw["feed_304"], raw["delta"], raw["publish_all"], raw["units"]
    statements = p["publish_all_statements"]
    return {
        "feed_304_vs_healthz": _row(
            t["feed_304_rps"], "requests/s", t["healthz_rps"], t["ratio"], ">= 0.5", t["ratio"] >= 0.5
        ),
        "feed_delta3_bytes": _row(
            d["delta_bytes"],
            "bytes",
            d["full_bytes"],
            d["delta_bytes"] / d["full_bytes"],
            "proportional to the 3 changes",
            d["delta_items"] == 3,
        ),
        "feed_full_first_page_bytes": _row(
            d["first_page_bytes"],
            "bytes",
            d["full_bytes"],
            d["first_page_bytes"] / d["full_bytes"],
            "(reference)",
            None,
        ),
        "publish_all_units_s": _row(
            p["publish_all_s"], "s", units, p["publish_all_s"] / units * 1000, "(ratio: ms per unit)", None
        ),
        "publish_all_units_sql_statements": _row(
            statements, "statements", units, statements / units, "no N+1 (per unit << 1)", statements / units < 0.1
        ),
    }


def _package_rows(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    k = raw["package"]
    rows = {}
    for suffix, run, disk in (("", "first", "disk_first"), ("_cached", "second", "disk_second")):
        got, base = k[run], k[disk]
        rows[f"package_rss_growth{suffix}_mb"] = _row(
            got["growth_mb"], "MB", 30, got["growth_mb"] / 30, "< 30 MB", got["growth_mb"] < 30
        )
        rows[f"package_download{suffix}_mb_s"] = _row(
            got["mb_s"], "MB/s", base["mb_s"], got["mb_s"] / base["mb_s"], "(vs disk read)", None
        )
    return rows


def measures(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The results.json rows (with goal and met, which RESULTS.md shows) from the raw results."""
    return {**_feed_rows(raw), **_package_rows(raw)}


def _table(rows: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| measure | value | unit | baseline | ratio | goal | met? |", "|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        met = {True: "yes", False: "**no**", None: "n/a"}[r["met"]]
        lines.append(f"| {name} | {r['value']} | {r['unit']} | {r['baseline']} | {r['ratio']} | {r['goal']} | {met} |")
    return lines


def _rounds(raw: dict[str, Any]) -> str:
    return ", ".join(f"{r['healthz_rps']}/{r['feed_304_rps']}" for r in raw["feed_304"]["rounds"])


def section(raw: dict[str, Any]) -> str:
    rows = measures(raw)
    k, d = raw["package"], raw["delta"]
    lines = [
        START,
        "## Feeds and packages (issue 4)",
        "",
        f"Run {raw['when']} on {raw['machine']}; "
        f"{raw['units']} units, {raw['bundles']} published bundles, SQLite in a temp DATA_DIR, one uvicorn "
        f"worker; client: httpx, {CONCURRENCY} threads. Command: `{COMMAND}` "
        "(then `python -c 'from bench.feeds_bench import merge_results; merge_results()'` rewrites this "
        "section from bench/out/feeds_results.json).",
        "",
        *_table(rows),
        "",
        "Baselines: feed 304 vs `/healthz` (same client, concurrency and run, interleaved rounds, median "
        f"ratio; rounds healthz/feed-304 req/s: {_rounds(raw)}); delta vs every page of the full feed "
        f"({d['full_items']} items, {d['full_bytes']} bytes; first page {d['first_page_bytes']} bytes; "
        f"delta {d['delta_items']} items); publish: ratio is ms per unit and statements per unit; "
        f"package ({raw['package_files']} files, {raw['package_mb']} MB, zip {k['first']['bytes']} bytes): "
        "first download includes building the zip, the second is served from the built file; disk "
        "baseline reads the same blobs right after each download.",
        "",
        "Caveats: " + raw["caveats"],
        END,
    ]
    return "\n".join(lines)


def merge_results(raw_path: Path = RAW) -> None:
    """Merge the rows into bench/results.json and replace the feeds-bench section of RESULTS.md."""
    raw = json.loads(raw_path.read_text())
    merged = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    for name, r in measures(raw).items():
        merged[name] = {key: r[key] for key in ("value", "unit", "baseline", "ratio")}
    RESULTS_JSON.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else "# Benchmark results\n"
    new = section(raw)
    if START in text and END in text:
        text = text[: text.index(START)] + new + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    RESULTS_MD.write_text(text)


# --- the run ---------------------------------------------------------------------------------------


def prepare(data_dir: Path) -> dict[str, str]:
    env = bench_env(data_dir)
    for step in (["migrate"], ["seed"]):
        subprocess.run([TTDN, *step], env=env, check=True, capture_output=True)
    os.environ.update({k: v for k, v in env.items() if k in ("DATA_DIR", "SECRET_KEY", "MAX_UPLOAD_BYTES")})
    os.environ.update(INDEXER_INTERVAL_SECONDS="0", FEED_RELEASE_INTERVAL_SECONDS="0")
    os.environ.pop("DATABASE_URL", None)
    return env


def build_data(factory: Any) -> dict[str, Any]:
    from bench import feeds_data

    with factory() as session:
        started = time.perf_counter()
        who = feeds_data.actors(session)
        units = feeds_data.make_units(session, UNITS)
        key = feeds_data.issue_key(session, units[0])
        mats = feeds_data.approved_materials(session, who, 20)
        log(f"{len(units)} units in {time.perf_counter() - started:.0f}s; publishing {BUNDLES} bundles")
        feeds_data.publish_many(session, who, units, mats, BUNDLES)
        log(f"data built in {time.perf_counter() - started:.0f}s")
    return {"who": who, "units": units, "key": key, "mats": mats}


def feed_figures(factory: Any, data: dict[str, Any]) -> dict[str, Any]:
    from bench import feeds_data

    raw: dict[str, Any] = {"feed_304": measure_304(data["key"])}
    log(f"304: {raw['feed_304']}")
    with httpx.Client(base_url=BASE, headers={"Authorization": f"Bearer {data['key']}"}, timeout=60) as client:
        full_bytes, first_page, items, cursor = full_feed(client)
        with factory() as session:
            for _ in range(3):
                feeds_data.publish(session, data["who"], data["mats"][:2], {"units": [str(data["units"][0])]})
                session.commit()
        raw["delta"] = {
            "full_bytes": full_bytes,
            "first_page_bytes": first_page,
            "full_items": items,
            **measure_delta(client, cursor),
        }
    log(f"delta: {raw['delta']}")
    return raw


def package_figures(factory: Any, data: dict[str, Any], pid: int) -> dict[str, Any]:
    from bench import feeds_data

    each = PKG_MB * 1_000_000 // PKG_FILES
    with factory() as session:
        bundle_id, blobs = feeds_data.package_bundle(session, data["who"], data["units"][0], PKG_FILES, each)
    log(f"package bundle ready ({len(blobs)} blobs); downloading")
    return measure_package(pid, data["key"], bundle_id, blobs)


def run(data_dir: Path) -> dict[str, Any]:
    env = prepare(data_dir)
    from app.config import get_settings
    from app.db import build_engine, build_session_factory

    engine = build_engine(get_settings().sqlalchemy_url)
    factory = build_session_factory(engine)
    data = build_data(factory)
    raw: dict[str, Any] = {"units": UNITS, "bundles": BUNDLES, "package_files": PKG_FILES, "package_mb": PKG_MB}
    proc = start_server(env, data_dir / "server.log")
    try:
        raw.update(feed_figures(factory, data))
        raw["publish_all"] = measure_publish_all(factory, engine, data["who"], data["mats"])
        log(f"publish to all: {raw['publish_all']}")
        raw["package"] = package_figures(factory, data, proc.pid)
        log(f"package: {raw['package']}")
    finally:
        stop_server(proc)
        engine.dispose()
    return raw


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="feeds-bench-"))
    try:
        raw = run(data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    raw["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    raw["machine"] = f"{os.cpu_count()} cores"
    raw["caveats"] = os.environ.get("FEEDS_BENCH_CAVEATS", CAVEATS)
    RAW.write_text(json.dumps(raw, indent=2, default=str) + "\n")
    merge_results()
    log(f"wrote {RAW}, {RESULTS_JSON} and the feeds-bench section of {RESULTS_MD}")


CAVEATS = (
    "another benchmark may share the 2 cores, hence ratios within one run; SQLite only (PostgreSQL "
    "not measured here); client and server share the machine; the publish figures are in-process "
    "through the service (no HTTP), publication to all units is by selector (every unit type)."
)


if __name__ == "__main__":
    main()
