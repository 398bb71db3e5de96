"""Indexing an import's batches as they commit, from the documents the importer already built."""

import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.search import indexer
from app.search.backend import SearchBackend
from app.search.documents import document_for


class BatchIndexer:
    """Indexes batches just committed with their outbox rows claimed (what `ttdn import` writes),
    in threads of their own, while the caller writes the next batch: the database and the search
    backend work at the same time instead of taking turns.

    Each batch's documents are built from the materials the caller already holds, not read back.
    With `senders=2` (a search server that takes requests in parallel), one batch's documents
    are built while the request of the one before is at the server. Once the backend has taken a
    batch its outbox rows are marked done; if it fails, the rows are released at once (later
    batches too) and stay pending for the indexer or `ttdn reindex`, and `close()` raises the
    failure. At most `senders + 1` batches wait, which bounds memory.
    """

    def __init__(self, session_factory: sessionmaker[Session], backend: SearchBackend, senders: int = 1) -> None:
        self._session_factory = session_factory
        self._backend = backend
        self._in_flight = senders + 1
        self._pending: deque[Future[int]] = deque()
        self._executor = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="batch-indexer")
        # The outbox is written by one thread at a time, whatever connections the factory gives.
        self._outbox = threading.Lock()
        self.indexed = 0
        self.error: BaseException | None = None

    def submit(self, materials: Sequence[Any], outbox_ids: list[int]) -> None:
        while len(self._pending) >= self._in_flight:
            self._wait(self._pending.popleft())
        # Released, once a batch failed, on the indexing thread too: the outbox is written from
        # one thread at a time, whatever connections the factory gives.
        task = self._release if self.error is not None else self._index
        self._pending.append(self._executor.submit(task, list(materials), outbox_ids))

    def close(self) -> int:
        """Wait for every batch; returns how many documents were indexed, or raises the first failure."""
        while self._pending:
            self._wait(self._pending.popleft())
        self._executor.shutdown()
        if self.error is not None:
            raise self.error
        return self.indexed

    def _wait(self, future: Future[int]) -> None:
        try:
            self.indexed += future.result()
        except Exception as exc:
            self.error = self.error or exc

    def _release(self, materials: list[Any], outbox_ids: list[int]) -> int:
        with self._outbox:
            indexer.release(self._session_factory, outbox_ids)
        return 0

    def _index(self, materials: list[Any], outbox_ids: list[int]) -> int:
        try:
            if self.error is not None:
                raise self.error
            self._backend.index_many([document_for(material) for material in materials])
        except BaseException:
            self._release(materials, outbox_ids)
            raise
        with self._outbox:
            indexer.mark_done(self._session_factory, outbox_ids)
        return len(materials)
