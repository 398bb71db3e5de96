"""The built-in search backend: the documents live in the application's own database.

Used when ELASTICSEARCH_URL is unset. Tables (migration 0002):
- `search_documents`: one narrow row per material (plain filters, sort keys); the text lives
  apart so that scanning these rows in `newest` order stays cheap;
- `search_document_texts`: original and folded text; on SQLite the content of the FTS5 index
  `search_fts`, on PostgreSQL the source of two generated tsvector columns;
- `search_document_tags`: every (facet, value) of a document, status and classification too;
- `search_postings`: per (facet, value) a bitmap of the documents (by `doc_id`) that have it.
  Totals and disjunctive facet counts are AND/OR/popcount over these: milliseconds for
  100,000 documents, where GROUP BY over the tags takes hundreds;
- `search_tombstones`: the version of every delete, so a late stale upsert cannot resurrect.

The write path is app/search/database_writes.py, the query path app/search/database_queries.py;
this class opens their sessions and transactions.
"""

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from app.cores import cpu_cores, idle_cores
from app.db import writing_session
from app.search import database_queries as queries
from app.search import database_writes as writes
from app.search.backend import ClaimDocument, ProgressCallback, SearchDocument, SearchHit, SearchPage, SearchQuery
from app.search.database_tables import D
from app.search.documents import chunks

T = TypeVar("T")

WRITE_CHUNK = writes.WRITE_CHUNK
REBUILD_CHUNK = 1000


class DatabaseBackend:
    name = "database"

    def __init__(self, session_factory: sessionmaker[Session], *, split_searches: bool | None = None) -> None:
        """`split_searches`: whether a search may score its matches in two threads (SQLite; see
        `database_queries._sqlite_best`). By default, when this process may use two cores or
        more and the sessions open connections of their own (not one shared connection, which
        another thread could not use, as tests bind theirs)."""
        self._session_factory = session_factory
        bind = session_factory.kw.get("bind")
        self._dialect = bind.dialect.name if bind is not None else "sqlite"
        if self._dialect not in ("sqlite", "postgresql"):
            raise RuntimeError(f"the database search backend runs on SQLite or PostgreSQL, not {self._dialect}")
        if split_searches is None:
            split_searches = isinstance(bind, sa.Engine) and cpu_cores() > 1
        self._other_half = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-half")
            if split_searches and self._dialect == "sqlite"
            else None
        )
        self._searching = 0
        self._searching_lock = threading.Lock()

    def ensure_ready(self) -> None:
        """The tables come with the migrations (`ttdn migrate`); this checks they are there."""
        with self._session_factory() as session:
            session.execute(sa.select(D.c.doc_id).limit(1))

    def ping(self) -> bool:
        try:
            self.ensure_ready()
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def health(self) -> dict[str, str]:
        return {"status": "ok"} if self.ping() else {"status": "unavailable", "reason": "the database cannot be read"}

    def refresh(self) -> None:
        """Writes are searchable once committed; nothing to do."""

    def search(self, query: SearchQuery) -> SearchPage:
        with self._session_factory() as session, self._counted() as alone:
            # Only a search running alone in its process, on a machine with a core idle at that
            # moment, gets the second thread: otherwise the cores are busy already (other
            # searches, the other workers), and splitting costs a second pass over the words.
            other_thread = self._in_other_thread if alone and self._core_free() else None
            return queries.search(session, self._dialect, query, other_thread)

    def _core_free(self) -> bool:
        if self._other_half is None:
            return False
        idle = idle_cores()
        return idle is None or idle >= 1

    @contextmanager
    def _counted(self) -> Iterator[bool]:
        """Counts the searches in flight; yields whether this one is the only one."""
        with self._searching_lock:
            self._searching += 1
            alone = self._searching == 1
        try:
            yield alone
        finally:
            with self._searching_lock:
                self._searching -= 1

    def _in_other_thread(self, work: Callable[[Session], T]) -> "Future[T]":
        assert self._other_half is not None

        def run() -> T:
            with self._session_factory() as session:
                return work(session)

        return self._other_half.submit(run)

    def match_claims(self, text: str, limit: int) -> list[SearchHit]:
        with self._session_factory() as session:
            return queries.match_claims(session, self._dialect, text, limit)

    def index_many(self, docs: list[SearchDocument]) -> None:
        for chunk in chunks(writes.newest_per_id(docs), WRITE_CHUNK):
            with self._writing() as session:
                writes.store(session, self._dialect, chunk, force=False)

    def delete_many(self, items: list[tuple[uuid.UUID, int]]) -> None:
        latest: dict[uuid.UUID, int] = {}
        for material_id, version in items:
            latest[material_id] = max(version, latest.get(material_id, version))
        for chunk in chunks(latest.items(), WRITE_CHUNK):
            with self._writing() as session:
                writes.delete(session, self._dialect, dict(chunk))

    def rebuild(self, docs: Iterable[SearchDocument], on_progress: ProgressCallback | None = None) -> int:
        """Rewrite every document in short transactions, then remove those not in `docs`.

        Searches keep working throughout (each document is its old or its new copy), and
        writers never wait long, which one big SQLite transaction would make them do.
        """
        seen: set[uuid.UUID] = set()
        for chunk in chunks(docs, REBUILD_CHUNK):
            with self._writing() as session:
                writes.store(session, self._dialect, writes.newest_per_id(chunk), force=True)
            seen.update(doc.id for doc in chunk)
            if on_progress:
                on_progress(len(seen))
        with self._writing() as session:
            writes.remove_all_except(session, self._dialect, seen)
        return len(seen)

    def drop(self) -> None:
        with self._writing() as session:
            writes.clear(session, self._dialect)

    def index_claims(self, docs: list[ClaimDocument]) -> None:
        for chunk in chunks(docs, WRITE_CHUNK):
            with self._writing() as session:
                writes.store_claims(session, self._dialect, chunk)

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        # A writing session: on SQLite it takes the write turn before reading (app/db.py), as a
        # transaction that reads first and writes later would fail at once under other writers.
        with writing_session(self._session_factory) as session:
            yield session
            session.commit()
