"""Where a search's time goes on the embedded configuration, in process (no HTTP, no server).

    .venv/bin/python -m bench.sqlite_profile [--data-dir bench/out/sqlite-data] [--passes 3] [--cprofile N]

Runs the query mix of benchmark 3 (`bench.corpus.queries()`) against the SQLite file a
`bench.search_only --only sqlite --keep` run left, the way the route does (filters resolved,
`search_service.search_materials`, the response rendered as JSON), and times each phase in CPU
seconds of this process (`time.process_time`), which other work on the machine barely moves.
Prints the phases' share, the per-query p50/p95 and the slowest queries; `--cprofile N` also
prints the N heaviest functions. A tool for finding causes: its figures are not the benchmark's.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.config import Settings
from app.db import build_engine, build_session_factory
from app.materials import filters as material_filters_module
from app.search import database_queries, service
from app.search.database import DatabaseBackend
from app.search.schemas import SearchResults
from app.taxonomy import service as taxonomy_service
from bench import sqlite_bench
from bench.common import percentile
from bench.corpus import queries

_spent: dict[str, float] = defaultdict(float)


def _timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            _spent[name] += time.process_time() - started

    return wrapper


def _instrument() -> None:
    for name in (
        "_load_postings",
        "_base_set",
        "_text_matches",
        "_facet_counts",
        "_top_scored",
        "_top_newest",
        "_collapsed_page",
    ):
        setattr(database_queries, name, _timed(f"backend.{name}", getattr(database_queries, name)))
    for name in ("_shown_documents", "_item", "_named_facets"):
        setattr(service, name, _timed(f"service.{name}", getattr(service, name)))


def _filters(session: Any, params: dict[str, Any], data: Any) -> Any:
    """As the route's dependency resolves them, with the reference data from memory."""
    names = ("ethnic_group", "border_route", "province", "kind", "language", "topic", "status", "classification")
    lists = {name: [str(params[name])] if name in params else [] for name in names}
    given = material_filters_module._Given(**lists, published_from=None, published_to=None, on=None)
    return given.resolve(data, session)


def run(data_dir: Path, passes: int, top: int, only: list[dict[str, Any]] | None = None) -> None:
    settings = Settings(data_dir=data_dir)
    engine = build_engine(settings.sqlalchemy_url)
    factory = build_session_factory(engine)
    backend = DatabaseBackend(factory)
    mix = only or queries()
    _instrument()
    per_query: dict[int, list[float]] = defaultdict(list)
    profiler = cProfile.Profile() if top else None

    with factory() as session:  # the server keeps the reference data in memory (ReferenceCache)
        data = taxonomy_service.reference_data(session)

    def one(params: dict[str, Any]) -> None:
        with factory() as session:
            filters = _timed("filters", _filters)(session, params, data)
            results = service.search_materials(
                session,
                backend,
                filters,
                text=params.get("q"),
                sort=params.get("sort", "relevance"),
                limit=params.get("limit", 20),
                cursor=None,
                reference=data,
            )
            _timed("json", SearchResults.model_dump_json)(results, exclude_unset=True)

    for params in mix:  # warm-up pass, as the benchmark does
        one(params)
    _spent.clear()
    started = time.process_time()
    for _ in range(passes):
        for position, params in enumerate(mix):
            before = time.process_time()
            if profiler:
                profiler.enable()
            one(params)
            if profiler:
                profiler.disable()
            per_query[position].append((time.process_time() - before) * 1000)
    total = time.process_time() - started
    every = [ms for values in per_query.values() for ms in values]
    print(
        f"{len(every)} searches, CPU {total:.2f} s; per search p50 {percentile(every, 0.5):.1f} ms, "
        f"p95 {percentile(every, 0.95):.1f} ms, mean {1000 * total / len(every):.1f} ms"
    )
    print("| phase | CPU s | share |\n| --- | ---: | ---: |")
    for name, seconds in sorted(_spent.items(), key=lambda item: -item[1]):
        print(f"| {name} | {seconds:.2f} | {100 * seconds / total:.1f}% |")
    # In pass order, as `sqlite_bench.slowest` reads them (position = index modulo the mix).
    timings = [per_query[position][number] for number in range(passes) for position in range(len(mix))]
    print("slowest (median CPU ms):")
    for ms, params in sqlite_bench.slowest(timings, mix, 12):
        print(f"  {ms:7.1f}  {params}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
        print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=sqlite_bench.DATA_DIR)
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--cprofile", type=int, default=0, metavar="N")
    parser.add_argument(
        "--query",
        action="append",
        type=json.loads,
        help="a JSON object of search parameters (repeatable) instead of the mix",
    )
    args = parser.parse_args(argv)
    run(args.data_dir, args.passes, args.cprofile, args.query)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
