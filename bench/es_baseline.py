"""The raw `_bulk` baseline: the very documents the backend indexes, sent straight to Elasticsearch.

The documents are read from the database after an import, projected with
`app.search.documents.document_for` and turned into bulk operations by the backend's own
`_index_operations` (same `_source`, same external versions, same chunk size). They are
serialised before the clock starts: the baseline is what Elasticsearch itself can take.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy.orm import noload, selectinload

from app.db import build_engine, build_session_factory
from app.materials.models import Material
from app.search.backend import SearchBackend, SearchDocument
from app.search.documents import chunks, document_for
from app.search.elasticsearch import BULK_ANSWER, BULK_CHUNK, SETTINGS
from app.search.elasticsearch_documents import MAPPINGS, index_operations
from bench.common import ES_URL, log
from bench.cpu_timeline import jit_compiler_seconds

NDJSON = {"Content-Type": "application/x-ndjson"}


def bulk_payloads(sqlalchemy_url: str, index: str) -> tuple[list[bytes], int]:
    """NDJSON bodies of BULK_CHUNK documents each, for every material; and the document count."""
    payloads: list[bytes] = []
    count = 0
    for chunk in chunks(_documents(sqlalchemy_url), BULK_CHUNK):
        lines = [json.dumps(op, ensure_ascii=False, separators=(",", ":")) for op in index_operations(index, chunk)]
        payloads.append(("\n".join(lines) + "\n").encode("utf-8"))
        count += len(chunk)
    return payloads, count


def _documents(sqlalchemy_url: str) -> Iterator[Any]:
    engine = build_engine(sqlalchemy_url)
    try:
        with build_session_factory(engine)() as session:
            stmt = (
                session.query(Material)
                .options(selectinload(Material.tags), noload(Material.attachments))
                .order_by(Material.id)
                .yield_per(1000)
            )
            for material in stmt:
                yield document_for(material)
    finally:
        engine.dispose()


def raw_bulk(client: httpx.Client, index: str, payloads: list[bytes], *, refresh_interval: str) -> float:
    """Seconds to create `index` (backend mappings, `refresh_interval`), bulk every payload, refresh.

    The index is deleted again afterwards.
    """
    delete_index(client, index)
    settings = {**SETTINGS, "refresh_interval": refresh_interval}
    started = time.perf_counter()
    response = client.put(f"{ES_URL}/{index}", json={"mappings": MAPPINGS, "settings": settings})
    response.raise_for_status()
    for body in payloads:
        # The answer filtered as the backend asks for it (only failed items), like for like.
        response = client.post(f"{ES_URL}/_bulk", content=body, headers=NDJSON, params={"filter_path": BULK_ANSWER})
        response.raise_for_status()
        if response.json().get("errors"):
            raise RuntimeError(f"raw _bulk refused documents: {response.text[:500]}")
    if refresh_interval == "-1":
        # What `rebuild` does before it swaps the alias.
        client.put(f"{ES_URL}/{index}/_settings", json={"index": {"refresh_interval": SETTINGS["refresh_interval"]}})
    client.post(f"{ES_URL}/{index}/_refresh").raise_for_status()
    seconds = time.perf_counter() - started
    log(f"raw _bulk into {index} (refresh_interval {refresh_interval}): {seconds:.1f} s")
    delete_index(client, index)
    return seconds


def delete_index(client: httpx.Client, index: str) -> None:
    response = client.delete(f"{ES_URL}/{index}", params={"ignore_unavailable": "true"})
    if response.status_code not in (200, 404):
        response.raise_for_status()


# The warm-up ends after the pass in which Elasticsearch's JIT compiler threads used less CPU
# than this, or after WARM_UP_PASSES passes.
JIT_SETTLED_SECONDS = 2.0
WARM_UP_PASSES = 4


@dataclass
class WarmUp:
    passes: list[float]  # seconds per pass
    compiler: list[float | None]  # CPU seconds of the JIT compiler threads per pass (None: not readable)

    def describe(self) -> str:
        compiled = ", ".join("?" if c is None else f"{c:.1f}" for c in self.compiler)
        shown = ", ".join(f"{s:.1f}" for s in self.passes)
        return f"{len(self.passes)} pass(es) of {shown} s; JIT compiler CPU per pass {compiled} s"


_warm_up: WarmUp | None = None


def warm_up(backend: SearchBackend, corpus: Path, count: int) -> WarmUp:
    """Make Elasticsearch index the corpus through `backend` (the application's own client, two
    requests in flight as `ttdn import` sends them, into a scratch alias the caller deletes),
    pass after pass until its JIT compiler has settled, before either side of an import
    comparison is timed. Once per process: Elasticsearch stays warm.

    After a start, Elasticsearch's JIT compiler threads used 17.7-22.3 CPU-seconds in the first
    pass over the corpus, on the same two cores as the import. Its first `ttdn import` after a
    start, with no warm-up or one raw `_bulk`, cost it 51.7-59.8 CPU-seconds, later ones 28-36
    (bench/RESULTS.md); the raw `_bulk` timed after the import met a server the import had warmed.
    The documents are the corpus lines as they are, not resolved by the application (names stay
    names): what matters is that the server indexes documents of this size and shape, with these
    mappings, through the same requests.
    """
    global _warm_up
    if _warm_up is None:
        with corpus.open("rb") as lines:
            parsed = [orjson.loads(line) for line in islice(lines, count)]
        _warm_up = WarmUp([], [])
        compiler = jit_compiler_seconds()
        while len(_warm_up.passes) < WARM_UP_PASSES:
            # New ids each pass: the same ids and versions again would be refused as version
            # conflicts, which costs Elasticsearch next to nothing.
            documents = [corpus_document(line) for line in parsed]
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="warm-up") as pool:
                list(pool.map(backend.index_many, chunks(iter(documents), BULK_CHUNK)))
            _warm_up.passes.append(time.perf_counter() - started)
            now = jit_compiler_seconds()
            used = None if now is None or compiler is None else now - compiler
            compiler = now
            _warm_up.compiler.append(used)
            log(f"Elasticsearch warm-up: {_warm_up.describe()}")
            if used is None or used < JIT_SETTLED_SECONDS:
                break
    return _warm_up


def corpus_document(
    record: dict[str, Any],
    *,
    status: str | None = None,
    published_at: datetime | None = None,
    updated_at: datetime | None = None,
) -> SearchDocument:
    """A corpus line as a search document with a new id, its names unresolved (names stay names):
    for loading an index straight from the corpus (a warm-up, a matching benchmark), not the
    application's projection of a material."""
    return SearchDocument(
        id=uuid.uuid4(),
        version=1,
        title=record["title"],
        summary=record.get("summary") or "",
        body=record.get("body") or "",
        kind=record["kind"],
        language=record.get("language", "vi"),
        classification=record.get("classification", "public"),
        status=status or record.get("status", "draft"),
        ethnic_groups=record.get("ethnic_groups", []),
        border_routes=record.get("border_routes", []),
        provinces=[str(p) for p in record.get("provinces", [])],
        topics=record.get("topics", []),
        published_at=published_at,
        updated_at=updated_at or datetime.now(UTC),
    )
