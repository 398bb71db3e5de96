"""Keeps the search backend a projection of the database: drains the outbox, rebuilds.

Every write to a material adds a `SearchOutbox` row (material id, version) in the same
transaction. `drain()` sends the current state of those materials to the backend, with their
versions, and only then marks the rows processed: an outage leaves them pending and loses
nothing. A material that is gone is deleted with the version its deletion row carries, one
more than its last version, so no stale copy can come back after it.
"""

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from prometheus_client import Counter
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    delete,
    func,
    or_,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import one_of, utcnow, writing_session
from app.materials.models import Material, MaterialTag, SearchOutbox
from app.search.backend import BackendUnavailable, ClaimDocument, ProgressCallback, SearchBackend, SearchDocument
from app.search.documents import chunks, document_for
from app.search.outbox import ClaimOutbox
from app.worker import PeriodicWorker

log = logging.getLogger("ttdn.search.indexer")

PURGE_AFTER = timedelta(days=1)
PURGE_EVERY = timedelta(hours=1)
# Rows processed this long before a rebuild started are replayed after it too: processes'
# clocks differ a little, and replaying one more change costs nothing (versions decide).
REPLAY_MARGIN = timedelta(minutes=1)
LOAD_CHUNK = 500
# How long a claimed batch is reserved for the process that claimed it: far longer than a bulk
# request takes, short enough that a crashed process's batch is indexed soon after. The
# background indexer takes it from INDEXER_CLAIM_SECONDS.
CLAIM_FOR = timedelta(minutes=2)
CHANGES_INDEXED = Counter("ttdn_search_changes_indexed", "Outbox changes this process sent to the search backend")


class ClaimSource(Protocol):
    """Where claims' documents come from (the claims domain, registered by app/wiring.py)."""

    def claim_documents(self, session: Session, claim_ids: list[uuid.UUID]) -> list[ClaimDocument]: ...

    def all_claim_ids(self, session: Session) -> list[uuid.UUID]: ...


# Filled by app/wiring.py; until then claim changes wait in the outbox (never marked done).
claim_sources: list[ClaimSource] = []


def backlog(session: Session) -> int:
    """How many changes (materials and claims) wait to be indexed."""
    return sum(
        session.scalar(select(func.count()).select_from(table).where(table.processed_at.is_(None))) or 0
        for table in (SearchOutbox, ClaimOutbox)
    )


def backlog_age_seconds(session: Session) -> float:
    """How long the oldest change has waited to be indexed (0 with nothing waiting)."""
    oldest = session.scalar(select(func.min(SearchOutbox.created_at)).where(SearchOutbox.processed_at.is_(None)))
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite's MIN() returns the stored text, read back without a zone
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (utcnow() - oldest).total_seconds())


def drain(
    session_factory: sessionmaker[Session],
    backend: SearchBackend,
    batch_size: int = 500,
    claim_for: timedelta = CLAIM_FOR,
) -> int:
    """Index every pending change of materials, then of claims; returns how many rows were processed."""
    return drain_materials(session_factory, backend, batch_size, claim_for) + drain_claims(
        session_factory, backend, batch_size
    )


def drain_claims(session_factory: sessionmaker[Session], backend: SearchBackend, batch_size: int = 500) -> int:
    """Send the current state of every claim with a pending outbox row, then mark the rows done.

    Claims are never deleted (a merged one is indexed as `merged`), so there are only upserts;
    the claim's version is the document's, so a stale copy never replaces a newer one."""
    if not claim_sources:
        return 0
    source = claim_sources[0]
    processed = 0
    while True:
        with session_factory() as session:
            rows = session.execute(
                select(ClaimOutbox.id, ClaimOutbox.claim_id)
                .where(ClaimOutbox.processed_at.is_(None))
                .order_by(ClaimOutbox.id)
                .limit(batch_size)
            ).all()
            if not rows:
                return processed
            docs = source.claim_documents(session, list({row.claim_id for row in rows}))
        if docs:
            backend.index_claims(docs)
        with writing_session(session_factory) as session:
            ids = [row.id for row in rows]
            done = update(ClaimOutbox).where(ClaimOutbox.id.in_(ids)).values(processed_at=utcnow())
            session.execute(done.execution_options(synchronize_session=False))
            session.commit()
        processed += len(rows)
        if len(rows) < batch_size:
            return processed


def drain_materials(
    session_factory: sessionmaker[Session],
    backend: SearchBackend,
    batch_size: int = 500,
    claim_for: timedelta = CLAIM_FOR,
) -> int:
    """Index every pending material change, oldest first, in batches; returns how many rows were processed.

    Several processes may drain at once (`ttdn serve --workers N`, replicas): each batch is
    first claimed (see `_claim`), so a change is sent by one process, not by all of them; were
    it sent twice, the versions would make the second send change nothing. Raises
    BackendUnavailable (or the backend's error) with the failed batch released and still
    pending; batches before it stay done. No transaction is held open during the backend call:
    the database backend writes the same SQLite file, which allows one writer at a time.
    """
    processed = 0
    while True:
        rows = _claim(session_factory, batch_size, claim_for)
        if not rows:
            return processed
        ids = [row.id for row in rows]
        versions: dict[uuid.UUID, int] = {}
        for row in rows:
            versions[row.material_id] = max(row.version, versions.get(row.material_id, row.version))
        try:
            with session_factory() as session:
                docs, deletes = _current_state(session, versions)
            _send(backend, docs, deletes)
        except BaseException:
            release(session_factory, ids)
            raise
        mark_done(session_factory, ids)
        processed += len(rows)
        if len(rows) < batch_size:
            return processed


def _claim(session_factory: sessionmaker[Session], batch_size: int, claim_for: timedelta) -> list[Any]:
    """Take up to `batch_size` pending rows no other process holds, for `claim_for`.

    On PostgreSQL the candidates are locked with FOR UPDATE SKIP LOCKED, so two processes
    claiming at once get different rows; on SQLite the claim is a write transaction, and
    writers take turns (app/db.py), so the second claimer sees the first one's claim. A claim
    left by a process that died runs out and the rows are claimed again: nothing is lost.
    """
    now = utcnow()
    candidates = (
        select(SearchOutbox.id)
        .where(
            SearchOutbox.processed_at.is_(None),
            or_(SearchOutbox.claimed_until.is_(None), SearchOutbox.claimed_until < now),
        )
        .order_by(SearchOutbox.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    with writing_session(session_factory) as session:
        rows = session.execute(
            update(SearchOutbox)
            .where(SearchOutbox.id.in_(candidates.scalar_subquery()))
            .values(claimed_until=now + claim_for)
            .returning(SearchOutbox.id, SearchOutbox.material_id, SearchOutbox.version)
            .execution_options(synchronize_session=False)
        ).all()
        session.commit()
    return sorted(rows, key=lambda row: row.id)


def mark_done(session_factory: sessionmaker[Session], ids: list[int]) -> None:
    """The backend has these changes: mark the rows processed (unless another process already did)."""
    with writing_session(session_factory) as session:
        done = session.execute(
            update(SearchOutbox)
            .where(_id_in(session), SearchOutbox.processed_at.is_(None))
            .values(processed_at=utcnow(), claimed_until=None)
            # These sessions load no outbox objects, so there is nothing to bring up to date;
            # the default ("fetch") reads back every updated id and looks each up in the
            # session: 4.7-6.2 ms of CPU per 1,000 ids, against 2.6-2.9 ms without (PostgreSQL).
            .execution_options(synchronize_session=False),
            {"outbox_ids": ids},
        ).rowcount
        session.commit()
    CHANGES_INDEXED.inc(done or 0)


def release(session_factory: sessionmaker[Session], ids: list[int]) -> None:
    """Give a failed batch back at once (best effort: otherwise its claim runs out)."""
    try:
        with writing_session(session_factory) as session:
            statement = update(SearchOutbox).where(_id_in(session)).values(claimed_until=None)
            statement = statement.execution_options(synchronize_session=False)
            session.execute(statement, {"outbox_ids": ids})
            session.commit()
    except Exception:
        log.warning("could not release %d claimed change(s); they wait for the claim to run out", len(ids))


def _id_in(session: Session) -> ColumnElement[bool]:
    """`SearchOutbox.id IN :outbox_ids`: on PostgreSQL one array parameter, so a batch's statement
    is short, the same each time, and cheap to send."""
    return one_of(session.get_bind().dialect.name, SearchOutbox.id, "outbox_ids", BigInteger)


def rebuild(
    session_factory: sessionmaker[Session], backend: SearchBackend, on_progress: ProgressCallback | None = None
) -> int:
    """Rebuild the backend from every material, then replay what changed meanwhile; returns the count.

    Changes made during the copy may have gone to the old index (the background indexer keeps
    running): every outbox row newer than the mark taken first, and every row processed since
    the start, is applied again to the new one.
    """
    with session_factory() as session:
        mark = session.scalar(select(func.max(SearchOutbox.id))) or 0
    started = utcnow()
    count = backend.rebuild(_all_documents(session_factory), on_progress)
    with session_factory() as session:
        changed = session.execute(
            select(SearchOutbox.material_id, func.max(SearchOutbox.version))
            .where(
                or_(
                    SearchOutbox.id > mark,
                    SearchOutbox.processed_at.is_(None),
                    SearchOutbox.processed_at >= started - REPLAY_MARGIN,
                )
            )
            .group_by(SearchOutbox.material_id)
        ).all()
    for chunk in chunks(changed, LOAD_CHUNK):
        with session_factory() as session:
            docs, deletes = _current_state(session, dict(tuple(row) for row in chunk))
        _send(backend, docs, deletes)
    index_all_claims(session_factory, backend)
    return count


def index_all_claims(session_factory: sessionmaker[Session], backend: SearchBackend) -> int:
    """Send every claim to the claim index (versions keep it safe against the live indexer)."""
    if not claim_sources:
        return 0
    with session_factory() as session:
        claim_ids = claim_sources[0].all_claim_ids(session)
    for chunk in chunks(claim_ids, LOAD_CHUNK):
        with session_factory() as session:
            backend.index_claims(claim_sources[0].claim_documents(session, chunk))
    return len(claim_ids)


def material_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Material)) or 0


def purge_processed(session_factory: sessionmaker[Session]) -> int:
    """Forget rows processed more than a day ago (a rebuild replays only recent ones)."""
    with writing_session(session_factory) as session:
        result = session.execute(delete(SearchOutbox).where(SearchOutbox.processed_at < utcnow() - PURGE_AFTER))
        claims = session.execute(delete(ClaimOutbox).where(ClaimOutbox.processed_at < utcnow() - PURGE_AFTER))
        session.commit()
    return (result.rowcount or 0) + (claims.rowcount or 0)


def _current_state(
    session: Session, versions: dict[uuid.UUID, int]
) -> tuple[list[SearchDocument], list[tuple[uuid.UUID, int]]]:
    """Documents of the materials that exist; (id, version) deletes for those that do not."""
    found: dict[uuid.UUID, SearchDocument] = {}
    for chunk in chunks(list(versions), LOAD_CHUNK):
        found.update((doc.id, doc) for doc in load_documents(session, Material.id.in_(chunk)))
    deletes = [(material_id, version) for material_id, version in versions.items() if material_id not in found]
    return list(found.values()), deletes


def _send(backend: SearchBackend, docs: list[SearchDocument], deletes: list[tuple[uuid.UUID, int]]) -> None:
    if docs:
        backend.index_many(docs)
    if deletes:
        backend.delete_many(deletes)


def _all_documents(session_factory: sessionmaker[Session]) -> Iterator[SearchDocument]:
    """Every material's document, in id order, LOAD_CHUNK at a time."""
    with session_factory() as session:
        after: uuid.UUID | None = None
        while True:
            condition = Material.id > after if after is not None else true()
            docs = load_documents(session, condition, order_by_id=True)
            yield from docs
            if len(docs) < LOAD_CHUNK:
                return
            after = docs[-1].id


@dataclass
class _MaterialRow:
    """What `document_for` reads of a material, loaded as plain rows: building ORM objects (and
    their tag collections) cost several times more than projecting them."""

    id: uuid.UUID
    version: int
    title: str
    summary: str | None
    body: str | None
    kind: str
    language: str
    classification: str
    status: str
    published_at: datetime | None
    updated_at: datetime
    translation_of: uuid.UUID | None
    tags: list[tuple[str, str]] = field(default_factory=list)  # (facet, value) in position order

    def tag_values(self, facet: str) -> list[str]:
        return [value for tag_facet, value in self.tags if tag_facet == facet]


_DOCUMENT_COLUMNS = tuple(getattr(Material, f.name) for f in fields(_MaterialRow) if f.name != "tags")


def load_documents(
    session: Session, condition: ColumnElement[bool], *, order_by_id: bool = False
) -> list[SearchDocument]:
    """The documents of the materials matching `condition` (at most LOAD_CHUNK with `order_by_id`)."""
    stmt = select(*_DOCUMENT_COLUMNS).where(condition)
    if order_by_id:
        stmt = stmt.order_by(Material.id).limit(LOAD_CHUNK)
    # Keyed by the id's text, as the tags are read: turning every tag row's id into a UUID cost
    # more than the rest of reading them.
    materials = {str(row[0]): _MaterialRow(*row) for row in session.execute(stmt)}
    if materials:
        ids = list(materials)
        # A chunk in id order is every material in its id range: the tags are asked for by that
        # range rather than by a list of hundreds of ids.
        owned = MaterialTag.material_id.between(ids[0], ids[-1]) if order_by_id else MaterialTag.material_id.in_(ids)
        tags = (
            select(type_coerce(MaterialTag.material_id, String), MaterialTag.facet, MaterialTag.value)
            .where(owned)
            .order_by(MaterialTag.material_id, MaterialTag.position)
        )
        for material_id, facet, value in session.execute(tags):
            # A material added in that range since the first query (not in this chunk) is skipped.
            if (material := materials.get(material_id)) is not None:
                material.tags.append((facet, value))
    return [document_for(material) for material in materials.values()]  # type: ignore[arg-type]


class BackgroundIndexer(PeriodicWorker):
    """A daemon thread that drains the outbox every `indexer_interval_seconds` (0: never runs).

    While the backend is unreachable it waits longer each time, up to INDEXER_MAX_BACKOFF_SECONDS
    (30 s unless set), and says so in the log once per attempt: the backlog is visible on /readyz
    meanwhile.
    """

    def __init__(self, session_factory: sessionmaker[Session], backend: SearchBackend, settings: Settings) -> None:
        super().__init__("search-indexer", settings.indexer_interval_seconds)
        self._session_factory = session_factory
        self._backend = backend
        self._batch_size = settings.indexer_batch_size
        self._claim_for = timedelta(seconds=settings.indexer_claim_seconds)
        self._max_backoff = settings.indexer_max_backoff_seconds
        self._failures = 0
        self._last_purge = utcnow() - PURGE_EVERY

    def tick(self) -> float:
        return self.run_once()

    def run_once(self) -> float:
        """One drain (and, hourly, a purge); returns the seconds to wait before the next."""
        try:
            count = drain(self._session_factory, self._backend, self._batch_size, self._claim_for)
            if utcnow() - self._last_purge >= PURGE_EVERY:
                purge_processed(self._session_factory)
                self._last_purge = utcnow()
        except BackendUnavailable as exc:
            wait = self._backoff()
            log.warning("search backend unavailable (%s); retrying in %.0f s", exc, wait)
            return wait
        except Exception:
            wait = self._backoff()
            log.exception("indexing failed; retrying in %.0f s", wait)
            return wait
        if self._failures:
            log.info("search backend reachable again")
        self._failures = 0
        if count:
            log.info("indexed %d change(s)", count)
        return self._interval

    def _backoff(self) -> float:
        self._failures += 1
        return min(self._max_backoff, self._interval * 2**self._failures)
