"""Claim matching quality on a labelled set (bench/claims_data.py), on each search backend.

    .venv/bin/python -m bench.claims_bench [--backend database|elasticsearch|both] [--es-url URL]
        [--show-false-joins]

Reports arrive one by one through the real service (app.claims.intake.create_report). The first
report of a story that does not join anything is made a claim by "triage" (create_claim), as
staff would. Measured over the reports that should join an existing claim (not a story's first
report) and over every report (for false joins):
- auto-join precision: joins to the right claim / all joins (noise and first reports included);
- auto-join recall: right joins / reports that should join;
- top-3 recall: reports that should join whose claim was joined or among the first 3 suggestions.
A SQLite database in a temporary folder holds the claims; the claim index is the backend's.
--show-false-joins prints every wrong join (to stderr): what arrived, and the claim it joined.
"""

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.accounts.models import User
from app.accounts.principal import Principal
from app.claims import intake
from app.claims import service as claims_service
from app.claims.schemas import ClaimCreate, ClaimReportCreate
from app.config import Settings
from app.db import build_engine, build_session_factory
from app.search import indexer
from app.search.backend import SearchBackend
from app.search.database import DatabaseBackend
from app.search.elasticsearch import ElasticsearchBackend
from app.wiring import register_hooks
from bench.claims_data import build


def bench_backend(name: str, factory: sessionmaker[Session], es_url: str | None) -> SearchBackend:
    if name == "database":
        return DatabaseBackend(factory)
    return ElasticsearchBackend(
        Elasticsearch(es_url or "http://127.0.0.1:9200"), f"bench-claims-{uuid.uuid4().hex[:8]}"
    )


def run_backend(name: str, es_url: str | None, show_false_joins: bool = False) -> dict[str, Any]:
    register_hooks()
    stories, arrivals = build()
    with tempfile.TemporaryDirectory() as folder:
        engine = build_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        migrate.upgrade(engine)
        factory = build_session_factory(engine)
        backend = bench_backend(name, factory, es_url)
        settings = Settings(data_dir=Path(folder), indexer_interval_seconds=0)
        with factory() as session:
            user = User(email="bench@example.test", password_hash="!", roles=["editor"])
            session.add(user)
            session.commit()
            actor = Principal(type="user", id=user.id, label=user.email, roles=frozenset({"editor"}))
        try:
            counts = _replay(factory, backend, settings, actor, stories, arrivals, show_false_joins)
        finally:
            backend.drop()
            engine.dispose()
    return counts


def _replay(factory, backend, settings, actor, stories, arrivals, show) -> dict[str, Any]:  # noqa: ANN001
    claim_of: dict[int, uuid.UUID] = {}
    story_of: dict[uuid.UUID, int] = {}
    joins = right_joins = should_join = top3 = url_joins = 0
    started = time.perf_counter()
    for report in arrivals:
        data = ClaimReportCreate(summary=report.summary, excerpt=report.excerpt, urls=report.urls)
        with factory() as session:
            created = intake.create_report(session, backend, settings, data, actor)
            joined = created.claim_id
            suggested = [uuid.UUID(s["claim_id"]) for s in created.suggestions[:3]]
            expected = claim_of.get(report.story) if report.story is not None else None
            if joined is not None:
                joins += 1
                url_joins += created.matched_by == "url"
                right_joins += expected is not None and joined == expected
                if show and joined != expected:
                    _print_false_join(report, stories[story_of[joined]] if joined in story_of else None, expected)
            if expected is not None:
                should_join += 1
                top3 += joined == expected or expected in suggested
            if report.story is not None and report.story not in claim_of:
                claim = claims_service.create_claim(
                    session, settings, ClaimCreate(title=report.summary[:500], report_ids=[created.id]), actor
                )
                claim_of[report.story], story_of[claim.id] = claim.id, report.story
            session.commit()
        indexer.drain_claims(factory, backend)
    seconds = time.perf_counter() - started
    return {
        "backend": backend.name,
        "stories": len(stories),
        "reports": len(arrivals),
        "should_join": should_join,
        "joins": joins,
        "url_joins": url_joins,
        "right_joins": right_joins,
        "autojoin_precision": round(right_joins / joins, 4) if joins else None,
        "autojoin_recall": round(right_joins / should_join, 4) if should_join else None,
        "top3_recall": round(top3 / should_join, 4) if should_join else None,
        "seconds": round(seconds, 1),
        "autojoin_score": settings.claim_autojoin_score,
        "suggest_score": settings.claim_suggest_score,
    }


def _print_false_join(report, joined_story, expected) -> None:  # noqa: ANN001
    """One wrong join: the report (noise, a new story's first report or a story's later one) and
    the story of the claim it joined."""
    kind = "noise" if report.story is None else ("later report" if expected is not None else "first report")
    joined = joined_story.text if joined_story is not None else "?"
    urls = report.urls or "no url"
    print(f"false join ({kind}, {urls}): {report.summary!r}\n    joined: {joined!r}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["database", "elasticsearch", "both"], default="both")
    parser.add_argument("--es-url", default=None)
    parser.add_argument("--show-false-joins", action="store_true")
    args = parser.parse_args()
    names = ["database", "elasticsearch"] if args.backend == "both" else [args.backend]
    for name in names:
        print(json.dumps(run_backend(name, args.es_url, args.show_false_joins), ensure_ascii=False))


if __name__ == "__main__":
    main()
