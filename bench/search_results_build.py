"""Building a search's answer from its shown documents, the way `app.search.service` does now
(plain data, one `SearchResults.model_validate`) against what it replaced (each item validated
from the document's attributes, each facet value built as a `FacetValue`), on the data a
`bench.search_only --keep` run left (PostgreSQL + Elasticsearch):

    BENCH_DB=... BENCH_ALIAS=... .venv/bin/python -m bench.search_results_build [--rounds 3]

The first 100 queries of the mix are searched once and highlighted (the same either way, left out
of the timing); then both ways build and serialise (as the route does, `exclude_unset`) the same
pages, checked to give the same JSON, one after the other in each round. Printed: the thread's
CPU time per page. Never written to results.json.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

from app.db import build_engine, build_session_factory
from app.search import service
from app.search.backend import SearchQuery
from app.search.factory import build_search_backend
from app.search.schemas import FacetValue, SearchItem, SearchResults
from app.taxonomy import service as taxonomy_service
from bench import pg_es, sqlite_profile
from bench.common import pg_env
from bench.corpus import queries


@dataclass(frozen=True)
class _Shown:
    """The replaced way's attribute view of a document and its highlights."""

    document: Any
    highlights: dict[str, list[str]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.document, name)


def _before(page: Any, shown: list[Any], highlights: list[dict[str, list[str]]], names: Any) -> bytes:
    items = [
        SearchItem.model_validate(_Shown(doc, marks), from_attributes=True)
        for doc, marks in zip(shown, highlights, strict=True)
    ]
    facets = {
        facet: [FacetValue(**value) for value in values]
        for facet, values in service._named_facets(names, page.facets).items()
    }
    results = SearchResults(total=page.total, items=items, facets=facets, next_cursor=page.next_cursor)
    return results.model_dump_json(exclude_unset=True).encode()


def _now(page: Any, shown: list[Any], highlights: list[dict[str, list[str]]], names: Any) -> bytes:
    items = [service._item(doc, marks) for doc, marks in zip(shown, highlights, strict=True)]
    facets = service._named_facets(names, page.facets)
    results = SearchResults.model_validate(
        {"total": page.total, "items": items, "facets": facets, "next_cursor": page.next_cursor}
    )
    return results.model_dump_json(exclude_unset=True).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = pg_es.settings_for(pg_env(pg_es.DATA_DIR))
    factory = build_session_factory(build_engine(settings.database_url))
    backend = build_search_backend(settings, factory)
    with factory() as session:
        data = taxonomy_service.reference_data(session)
    pages = []
    for params in queries()[:100]:
        with factory() as session:
            filters = sqlite_profile._filters(session, params, data)
            query = SearchQuery(
                text=params.get("q"),
                filters=filters.keyword_filters(),
                published_from=None,
                published_to=None,
                sort=params.get("sort", "relevance"),
                limit=20,
                cursor=None,
            )
            page = backend.search(query)
            shown = service._shown_documents(session, page.hits)
        # Highlighting is the same either way and is left out of the timing.
        highlights = [service._highlights(doc, params.get("q")) for doc in shown]
        pages.append((page, shown, highlights))
        assert _before(page, shown, highlights, data.names) == _now(page, shown, highlights, data.names)

    ways = {"a model per item and facet value": _before, "plain data, one validation": _now}
    for _ in range(args.rounds):
        spent = dict.fromkeys(ways, 0.0)
        for name, build in ways.items():
            started = time.thread_time()
            for page, shown, highlights in pages:
                build(page, shown, highlights, data.names)
            spent[name] += time.thread_time() - started
        print(
            ", ".join(f"{name}: {seconds * 1000 / len(pages):.3f} ms CPU per page" for name, seconds in spent.items())
        )


if __name__ == "__main__":
    main()
