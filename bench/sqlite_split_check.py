"""Embedded search at scale: the two-halves scoring answers exactly as one statement does.

    .venv/bin/python -m bench.sqlite_split_check [--data-dir bench/out/sqlite-data]

On the SQLite file a `bench.search_only --only sqlite --keep` run left, every query of the
search mix (its plain filters as stored values; province filters left out, they need ids) is
sent to two backends over the same file: one that always splits a page by relevance
(the idle-core check answered yes), one that never does. Pages, totals, facets and next
cursors must be equal, and so must the second pages the cursors lead to. Prints the count of
differences and of searches that did run in two halves; exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

from app.config import Settings
from app.db import build_engine, build_session_factory
from app.search import database_queries
from app.search.backend import SearchQuery
from app.search.database import DatabaseBackend
from bench.corpus import queries
from bench.sqlite_bench import DATA_DIR

PLAIN = ("ethnic_group", "border_route", "kind", "language", "topic", "status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    factory = build_session_factory(build_engine(Settings(data_dir=args.data_dir).sqlalchemy_url))
    halves, whole = DatabaseBackend(factory, split_searches=True), DatabaseBackend(factory, split_searches=False)
    halves._core_free = lambda: True  # type: ignore[method-assign]  # split whatever the machine does
    in_other_thread = 0
    score_part = database_queries._sqlite_best_part

    def counted(*part: Any) -> Any:
        nonlocal in_other_thread
        in_other_thread += threading.current_thread().name.startswith("search-half")
        return score_part(*part)

    database_queries._sqlite_best_part = counted  # type: ignore[assignment]
    compared = differences = 0
    for params in queries():
        filters = {name: [str(params[name])] for name in PLAIN if name in params}
        query = SearchQuery(text=params.get("q"), filters=filters, limit=params.get("limit", 20))
        first = halves.search(query)
        pages = [(query, first, whole.search(query))]
        if first.next_cursor:
            after = SearchQuery(text=query.text, filters=filters, limit=query.limit, cursor=first.next_cursor)
            pages.append((after, halves.search(after), whole.search(after)))
        for asked, split_page, whole_page in pages:
            compared += 1
            if split_page != whole_page:
                differences += 1
                print(f"differs: {asked}")
    print(f"{compared} pages compared, {differences} differ; {in_other_thread} searches scored in two halves")
    raise SystemExit(1 if differences else 0)


if __name__ == "__main__":
    main()
