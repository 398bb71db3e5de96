"""Claim matching speed: matching a new report against a plain search of the same size, same run.

    .venv/bin/python -m bench.claims_speed [--backend database|elasticsearch|both] [--es-url URL]
        [--materials 100000] [--claims 10000] [--rounds 200] [--corpus bench/out/corpus.ndjson]

The backend holds the corpus's materials (bench/corpus.py, indexed as the indexer would) and the
claim index holds `--claims` claims (each with one or two reports, stored in a SQLite database in
a temporary folder: the matcher reads their texts from there). Each round times, one after the
other, the two things a staff member or a unit waits for:
- matching: `app.claims.matching.match_report` for a new report (the URL lookup, the backend's
  candidates, the scoring and the gate), half of them retellings of a stored claim, half new;
- plain search: `SearchBackend.search` of the same report's text over the materials, first page
  with facets, as the search page asks.
Reported: p50 and p95 of each (ms) and the ratio of the p95s.
"""

import argparse
import json
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.claims import documents, matching
from app.claims.models import Claim, ClaimReport, ClaimReportUrl
from app.claims.urls import normalise_url, url_hash
from app.config import Settings
from app.db import build_engine, build_session_factory, new_id
from app.search.backend import SearchBackend, SearchDocument, SearchQuery
from app.search.documents import chunks
from bench.claims_bench import bench_backend
from bench.claims_data import DETAILS, GROUPS, PLACES, PLATFORMS, TEMPLATES, _paraphrase, _sentence, _url_variant
from bench.common import CORPUS, percentile
from bench.es_baseline import corpus_document

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def load_materials(backend: SearchBackend, corpus: Path, count: int) -> int:
    """Index the corpus's first `count` records as published materials, 1,000 at a time."""
    backend.ensure_ready()
    batch: list[SearchDocument] = []
    done = 0
    with corpus.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number >= count:
                break
            batch.append(_material(json.loads(line), number))
            if len(batch) == 1000:
                backend.index_many(batch)
                done, batch = done + len(batch), []
    if batch:
        backend.index_many(batch)
        done += len(batch)
    backend.refresh()
    return done


def _material(record: dict[str, Any], number: int) -> SearchDocument:
    at = T0 + timedelta(minutes=number)
    return corpus_document(record, status="published", published_at=at, updated_at=at)


def story(rng: random.Random) -> tuple[str, str]:
    """A false story in the labelled set's phrasings (bench/claims_data.py), and its page."""
    text = _sentence(rng.choice(TEMPLATES).format(g=rng.choice(GROUPS), p=rng.choice(PLACES), n=rng.randint(2, 90)))
    base, _ = rng.choice(PLATFORMS)
    return f"{text}, {rng.choice(DETAILS)}", base.format(a=rng.randint(10**5, 10**6), b=rng.randint(10**8, 10**9))


def load_claims(factory: sessionmaker[Session], backend: SearchBackend, count: int, rng: random.Random) -> list:
    """`count` claims with one or two reports each (stored in bulk), indexed; returns their stories."""
    stories = [story(rng) for _ in range(count)]
    for part in chunks(list(enumerate(stories)), 1000):
        with factory() as session:
            ids = [_store_claim(session, rng, index, text, url) for index, (text, url) in part]
            session.commit()
            backend.index_claims(documents.claim_documents(session, ids))
    return stories


def _store_claim(session: Session, rng: random.Random, index: int, text: str, url: str) -> uuid.UUID:
    at = T0 + timedelta(minutes=index)
    claim = Claim(
        id=new_id(),
        title=text[:500],
        summary="",
        status="new",
        severity="normal",
        first_reported_at=at,
        deadline_at=at + timedelta(days=7),
        report_count=0,
        created_at=at,
        updated_at=at,
        version=1,
    )
    session.add(claim)
    texts = [text] + ([_paraphrase(rng, text)] if rng.random() < 0.5 else [])
    for summary in texts:
        report = ClaimReport(
            id=new_id(),
            claim_id=claim.id,
            summary=summary,
            excerpt="",
            urls=[url],
            tags={},
            status="new",
            matched_by="text",
            suggestions=[],
            reporter_type="user",
            reporter_id=claim.id,
            reporter_label="bench",
            created_at=at,
        )
        session.add(report)
        normalised = normalise_url(url) or url
        session.add(ClaimReportUrl(report_id=report.id, normalised=normalised, url_hash=url_hash(normalised)))
        claim.report_count += 1
    session.flush()
    return claim.id


def _arrival(rng: random.Random, stories: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """A new report: half retell a stored claim (paraphrased, half with another tracking link), half are new."""
    if rng.random() < 0.5:
        text, url = rng.choice(stories)
        return _paraphrase(rng, text), [
            url_hash(normalise_url(_url_variant(rng, url)) or url)
        ] if rng.random() < 0.5 else []
    text, url = story(rng)
    return text, [url_hash(normalise_url(url) or url)]


def time_rounds(factory, backend, settings, stories, rounds: int, rng: random.Random) -> dict[str, Any]:  # noqa: ANN001
    match_ms: list[float] = []
    search_ms: list[float] = []
    joined = 0
    for _ in range(rounds):
        text, hashes = _arrival(rng, stories)
        with factory() as session:
            started = time.perf_counter()
            result = matching.match_report(session, backend, settings, text, hashes)
            match_ms.append((time.perf_counter() - started) * 1000)
        joined += result.claim_id is not None
        started = time.perf_counter()
        backend.search(SearchQuery(text=text, limit=20, with_facets=True))
        search_ms.append((time.perf_counter() - started) * 1000)
    match_p95, search_p95 = percentile(match_ms, 0.95), percentile(search_ms, 0.95)
    return {
        "match_p50_ms": round(percentile(match_ms, 0.5), 1),
        "match_p95_ms": round(match_p95, 1),
        "search_p50_ms": round(percentile(search_ms, 0.5), 1),
        "search_p95_ms": round(search_p95, 1),
        "p95_ratio": round(match_p95 / search_p95, 2),
        "joined_at_once": joined,
    }


def run_backend(name: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as folder:
        engine = build_engine(f"sqlite:///{Path(folder) / 'speed.sqlite3'}")
        migrate.upgrade(engine)
        factory = build_session_factory(engine)
        backend = bench_backend(name, factory, args.es_url)
        settings = Settings(data_dir=Path(folder), indexer_interval_seconds=0)
        try:
            started = time.perf_counter()
            materials = load_materials(backend, Path(args.corpus), args.materials)
            stories = load_claims(factory, backend, args.claims, rng)
            loaded = time.perf_counter() - started
            result = time_rounds(factory, backend, settings, stories, args.rounds, rng)
        finally:
            backend.drop()
            engine.dispose()
    return {
        "backend": name,
        "materials": materials,
        "claims": len(stories),
        "rounds": args.rounds,
        "load_seconds": round(loaded, 1),
        **result,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["database", "elasticsearch", "both"], default="both")
    parser.add_argument("--es-url", default=None)
    parser.add_argument("--materials", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--corpus", default=str(CORPUS))
    args = parser.parse_args()
    for name in ["database", "elasticsearch"] if args.backend == "both" else [args.backend]:
        print(json.dumps(run_backend(name, args), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
