"""Benchmark 3 and the other half of 5: the embedded default (SQLite + the database search backend).

The corpus is imported with `ttdn import` into a fresh SQLite file, the server is started on it,
and the same 200 queries go through `GET /api/v1/search`. Its same-run comparison is the
PostgreSQL + Elasticsearch API figure of benchmark 2; its goal is absolute (p95 < 100 ms).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.common import OUT, STAFF_EMAIL, TTDN, log, percentile, run, serve, shell_line, sqlite_env, staff_token
from bench.search_bench import per_pass, run_search_mix

DATA_DIR = OUT / "sqlite-data"
GOAL_P95_MS = 100.0


def prepare(env: dict[str, str], corpus: Path, count: int) -> dict[str, Any]:
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    DATA_DIR.mkdir(parents=True)
    run([TTDN, "migrate"], env)
    run([TTDN, "seed"], env)
    run([TTDN, "create-user", STAFF_EMAIL, "--role", "analyst"], env)
    cmd = [TTDN, "import", str(corpus)]
    seconds = run(cmd, env)
    log(f"SQLite import: {count} materials in {seconds:.1f} s")
    size = sum(path.stat().st_size for path in DATA_DIR.glob("ttdn.sqlite3*"))
    return {"import_seconds": seconds, "import_command": shell_line(cmd), "database_mb": size / 2**20}


def search(env: dict[str, str], queries: Sequence[dict[str, Any]]) -> tuple[dict[str, list[float]], dict[str, float]]:
    with serve(env) as server:
        with httpx.Client(timeout=30) as client:
            token = staff_token(client, server.base_url)
        timings = run_search_mix(server.base_url, token, queries, None)
    return timings, {"peak_mb": server.memory.peak_mb(), "startup_mb": server.startup_mb}


def slowest(timings: list[float], queries: Sequence[dict[str, Any]], count: int = 8) -> list[tuple[float, dict]]:
    """The slowest queries (median over the timed passes), for the caveats."""
    per_query: dict[int, list[float]] = {}
    for position, ms in enumerate(timings):
        per_query.setdefault(position % len(queries), []).append(ms)
    medians = sorted(((percentile(v, 0.5), i) for i, v in per_query.items()), reverse=True)
    return [(ms, queries[i]) for ms, i in medians[:count]]


def run_all(corpus: Path, count: int, queries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    env = sqlite_env(DATA_DIR)
    log(f"SQLite + database search backend in {DATA_DIR}")
    facts = prepare(env, corpus, count)
    timings, memory = search(env, queries)
    api = timings["api"]
    return {
        **facts,
        "p50_ms": percentile(api, 0.5),
        "p95_ms": percentile(api, 0.95),
        "p50_per_pass_ms": per_pass(api, 0.5),
        "p95_per_pass_ms": per_pass(api, 0.95),
        "samples": len(api),
        "slowest": slowest(api, queries),
        "memory": memory,
    }


def cleanup() -> None:
    shutil.rmtree(DATA_DIR, ignore_errors=True)
