"""Reference data served from memory, with a strong ETag: the lists change only with a release
(`ttdn seed` loads them), so each server process keeps the JSON it last built for a while.

An entry lives for REFERENCE_CACHE_SECONDS; after a `ttdn seed` that changed something, every
process serves the new lists within that time. A fresh entry answers on the event loop, with no
thread and no database round trip; `If-None-Match` with its ETag gets a 304. The memory belongs
to the application (one per `create_app`), so two apps in one process never share it.

The same memory keeps `ReferenceData` (resolution candidates and facet names) for as long: every
search needs it, and reading it from the database was four queries per search.
"""

import hashlib
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.concurrency import none_match
from app.taxonomy.service import ReferenceData, reference_data

REFERENCE_CACHE_SECONDS = 60.0
MAX_ENTRIES = 256  # distinct queries (`q`, `on`, routes) kept; past that, start afresh
CACHE_CONTROL = "private, no-cache"


@dataclass(frozen=True)
class _Entry:
    expires: float
    etag: str
    body: bytes


class ReferenceCache:
    def __init__(self) -> None:
        self._entries: dict[Hashable, _Entry] = {}
        self._lock = threading.Lock()
        self._data: tuple[float, Any] | None = None

    def get(self, key: Hashable) -> _Entry | None:
        entry = self._entries.get(key)
        return entry if entry is not None and entry.expires >= time.monotonic() else None

    def put(self, key: Hashable, body: bytes) -> _Entry:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        entry = _Entry(time.monotonic() + REFERENCE_CACHE_SECONDS, etag, body)
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = entry
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._data = None

    def fresh_data(self) -> ReferenceData | None:
        """The reference data read less than REFERENCE_CACHE_SECONDS ago, if any (no I/O)."""
        data = self._data
        return data[1] if data is not None and data[0] >= time.monotonic() else None

    def data(self, session: Session) -> ReferenceData:
        """The reference data, read with `session` when the memory has none fresh. Blocking."""
        known = self.fresh_data()
        if known is None:
            known = reference_data(session)
            self._data = (time.monotonic() + REFERENCE_CACHE_SECONDS, known)
        return known


def reference_cache(request: Request) -> ReferenceCache:
    """This application's memory of the reference data."""
    return _cache_of(request)


def _cache_of(request: Request) -> ReferenceCache:
    state = request.app.state
    cache = getattr(state, "reference_cache", None)
    if cache is None:
        cache = state.reference_cache = ReferenceCache()
    return cache


def _build(request: Request, build: Callable[[Session], BaseModel]) -> bytes:
    with request.app.state.session_factory() as session:
        return build(session).model_dump_json().encode()


async def reference_response(request: Request, key: Hashable, build: Callable[[Session], BaseModel]) -> Response:
    """The JSON of `build(session)`, from memory when fresh (built in a worker thread when not);
    304 when the caller's If-None-Match names its ETag."""
    cache = _cache_of(request)
    entry = cache.get(key)
    if entry is None:
        entry = cache.put(key, await anyio.to_thread.run_sync(_build, request, build))
    headers = {"ETag": entry.etag, "Cache-Control": CACHE_CONTROL}
    if none_match(request, entry.etag):
        return Response(status_code=304, headers=headers)
    return Response(entry.body, media_type="application/json", headers=headers)
