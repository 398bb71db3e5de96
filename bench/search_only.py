"""Only the search benchmarks (2 and 3), repeated: each run's figures and the spread across runs.

    BENCH_DB=... BENCH_ALIAS=... .venv/bin/python -m bench.search_only [--runs 3] [--keep] [--reuse]

Imports the corpus once per configuration (PostgreSQL + Elasticsearch, then SQLite), then runs
the query mix `--runs` times, each against a freshly started server: API and direct
Elasticsearch interleave pass by pass as in `bench.run`, so every ratio has a same-run baseline.
`--keep` leaves the imported data in place and `--reuse` searches it again without importing
(for profiling between changes). Prints a Markdown table; the figures go to
bench/out/search-only.json. Never writes bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from bench import pg_es, sqlite_bench
from bench.common import CORPUS, OUT, TTDN, log, percentile, pg_env, run, sqlite_env, write_json
from bench.corpus import queries

RESULT = OUT / "search-only.json"


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def pg_es_runs(corpus: Path, runs: int, reuse: bool, mix: list[dict[str, Any]]) -> list[dict[str, float]]:
    env = pg_env(pg_es.DATA_DIR)
    if not reuse:
        pg_es.prepare(env)
        run([TTDN, "import", str(corpus)], env)
    out = []
    for number in range(runs):
        load = _load()
        measures, _ = pg_es.search(env, mix)
        row = {m.name: m.value for m in measures} | {f"{m.name}_baseline": m.baseline for m in measures}
        out.append({**row, "load": load})
        log(f"pg_es run {number + 1}: {row}")
    return out


def sqlite_runs(corpus: Path, runs: int, reuse: bool, mix: list[dict[str, Any]]) -> list[dict[str, Any]]:
    env = sqlite_env(sqlite_bench.DATA_DIR)
    if not reuse:
        sqlite_bench.prepare(env, corpus, sum(1 for _ in corpus.open(encoding="utf-8")))
    out = []
    for number in range(runs):
        load = _load()
        timings, _ = sqlite_bench.search(env, mix)
        api = timings["api"]
        row = {"p50_ms": percentile(api, 0.5), "p95_ms": percentile(api, 0.95), "load": load}
        row["slowest"] = sqlite_bench.slowest(api, mix, 5)
        out.append(row)
        log(f"sqlite run {number + 1}: p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms")
    return out


def table(result: dict[str, Any]) -> str:
    lines = [
        "| run | load (1/5/15) | API p50 | direct p50 | p50 ratio | API p95 | direct p95 | p95 ratio "
        "| SQLite p50 | SQLite p95 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    pg, lite = result.get("pg_es", []), result.get("sqlite", [])
    for i in range(max(len(pg), len(lite))):
        cells = [str(i + 1)]
        p = pg[i] if i < len(pg) else None
        s = lite[i] if i < len(lite) else None
        cells.append((p or s or {}).get("load", ""))
        if p:
            for label in ("p50", "p95"):
                api, direct = p[f"search_pg_es_{label}_ms"], p[f"search_pg_es_{label}_ms_baseline"]
                cells += [f"{api:.2f} ms", f"{direct:.2f} ms", f"{api / direct:.2f}"]
        else:
            cells += [""] * 6
        cells += [f"{s['p50_ms']:.1f} ms", f"{s['p95_ms']:.1f} ms"] if s else ["", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("pg_es", "sqlite"), help="one configuration only")
    parser.add_argument("--reuse", action="store_true", help="search the data a --keep run left")
    parser.add_argument("--keep", action="store_true", help="leave the imported data for --reuse")
    args = parser.parse_args(argv)
    mix = queries()
    result: dict[str, Any] = {"load_at_start": _load()}
    try:
        if args.only in (None, "pg_es"):
            result["pg_es"] = pg_es_runs(args.corpus, args.runs, args.reuse, mix)
        if args.only in (None, "sqlite"):
            result["sqlite"] = sqlite_runs(args.corpus, args.runs, args.reuse, mix)
    finally:
        if not args.keep:
            pg_es.drop_services()
            sqlite_bench.cleanup()
    result["load_at_end"] = _load()
    write_json(RESULT, result)
    print(table(result))
    print(json.dumps({k: result[k] for k in ("load_at_start", "load_at_end")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
