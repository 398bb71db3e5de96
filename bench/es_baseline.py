"""The raw `_bulk` baseline: the very documents the backend indexes, sent straight to Elasticsearch.

The documents are read from the database after an import, projected with
`app.search.documents.document_for` and turned into bulk operations by the backend's own
`_index_operations` (same `_source`, same external versions, same chunk size). They are
serialised before the clock starts: the baseline is what Elasticsearch itself can take.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
from sqlalchemy.orm import noload, selectinload

from app.db import build_engine, build_session_factory
from app.materials.models import Material
from app.search.documents import chunks, document_for
from app.search.elasticsearch import BULK_ANSWER, BULK_CHUNK, SETTINGS
from app.search.elasticsearch_documents import MAPPINGS, index_operations
from bench.common import ES_URL, log

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
