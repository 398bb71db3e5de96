"""Bulk import of materials from NDJSON: one material per line, bad lines reported and skipped.

Each line is a MaterialCreate object, optionally with `status` (the status to load it in: an
import brings in work already reviewed elsewhere, so it is recorded as such, change "imported").
Lines are validated one by one; valid ones are written in batches, each batch one transaction.
If a batch fails as a whole, its lines are retried one by one so only the bad line is lost.

A line becomes plain values, not ORM objects (building and flushing those cost more than the
rest of an import): the material's columns and tags as the materials service builds them for
any new material, its first revision (the same snapshot any write saves), its outbox row and,
per batch, one audit record. On PostgreSQL the rows go in with COPY, elsewhere with executemany
INSERTs; either way inside the batch's one transaction, so an interrupted import leaves every
batch wholly written or not at all. A caller that indexes the batches itself (`ttdn import`)
gets each committed batch's materials and outbox row ids from `on_committed`.
"""

import json
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from pydantic import ValidationError
from sqlalchemy import Table, insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.db import utcnow, writing_session
from app.errors import AppError
from app.materials import service as materials_service
from app.materials.filters import STATUSES
from app.materials.models import Material, MaterialRevision, MaterialTag, SearchOutbox, Tagged
from app.materials.schemas import MaterialCreate, RebutItem

ProgressCallback = Callable[[int], None]


@dataclass(slots=True)
class NewMaterial(Tagged):
    """A material to import, as plain values: what `document_for` and `to_read` read of a material."""

    id: uuid.UUID
    title: str
    summary: str
    body: str
    kind: str
    language: str
    classification: str
    publish_at: datetime | None
    expires_at: datetime | None
    source: str | None
    status: str
    published_at: datetime | None
    is_demo: bool
    created_at: datetime
    updated_at: datetime
    created_by: uuid.UUID | None
    updated_by: uuid.UUID | None
    last_edited_by: uuid.UUID | None
    version: int
    translation_of: uuid.UUID | None
    tags: list[tuple[str, str, int]]  # (facet, value, position)
    rebuts: list[RebutItem]
    attachments: tuple[()] = ()

    def tag_values(self, facet: str) -> list[str]:
        return [value for tag_facet, value, _ in self.tags if tag_facet == facet]

    @property
    def topics(self) -> list[str]:
        return self.tag_values("topic")

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _MATERIAL_COLUMNS}


_MATERIAL_COLUMNS = tuple(name for name in NewMaterial.__dataclass_fields__ if name in Material.__table__.c)
# Given the materials of a committed batch and the ids of their outbox rows.
CommittedCallback = Callable[[list[NewMaterial], list[int]], None]


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


class _TagCache:
    """Resolving names is the slow part of an import and the same values recur on every line.

    Cached per single value, not per list: lines combine a few hundred values in tens of
    thousands of ways. A list resolves to its values' results in input order, de-duplicated,
    and fails on its first bad value, as `resolve_tags` does for the whole list.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], list[str]] = {}

    def resolve(self, session: Session, data: MaterialCreate) -> dict[str, list[str]]:
        out = {}
        for name in materials_service.TAG_FIELDS:
            resolved: list[str] = []
            for value in getattr(data, name):
                key = (name, value)
                if key not in self._cache:
                    self._cache[key] = materials_service.resolve_tags(session, {name: [value]})[name]
                resolved.extend(self._cache[key])
            out[name] = list(dict.fromkeys(resolved))
        return out


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}" for e in exc.errors())
    if isinstance(exc, AppError):
        if exc.errors:
            return "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors)
        return exc.detail
    return str(exc)


def _parse(session: Session, line: str, tags: _TagCache, actor: Principal | None, is_demo: bool) -> NewMaterial:
    raw: Any = json.loads(line)
    if not isinstance(raw, dict):
        raise ValueError("each line must be a JSON object")
    status = raw.pop("status", "draft")
    if status not in STATUSES:
        raise ValueError(f"status: must be one of {', '.join(STATUSES)}")
    data = MaterialCreate.model_validate(raw)
    resolved = tags.resolve(session, data)
    return NewMaterial(
        **materials_service.new_material_values(data, actor, status=status, is_demo=is_demo),
        tags=materials_service.tag_rows(resolved),
        rebuts=data.rebuts,
    )


def _write(
    session: Session, materials: list[NewMaterial], actor: Principal | None, claimed_until: datetime | None
) -> list[int]:
    """Insert the batch's rows: materials, tags, revisions, outbox rows and one audit record;
    returns the outbox rows' ids. Parents first: the others refer to their material."""
    tags, revisions = [], []
    for material in materials:
        tags.extend(
            {"material_id": material.id, "facet": facet, "value": value, "position": position}
            for facet, value, position in material.tags
        )
        snapshot = materials_service.snapshot(material)  # type: ignore[arg-type]
        revisions.append(materials_service.revision_values(material, actor, "imported", snapshot))
    _insert(session, Material.__table__, [m.columns() for m in materials])
    _insert(session, MaterialTag.__table__, tags)
    _insert(session, MaterialRevision.__table__, revisions)
    outbox = [{"material_id": m.id, "version": m.version, "claimed_until": claimed_until} for m in materials]
    ids = _insert_outbox(session, outbox)
    # One audit record per batch: the ids it brought in (a record per line would double the load).
    material_ids = [str(m.id) for m in materials]
    audit_service.record(
        session, actor, "material.imported", "material", None, {"ids": material_ids, "count": len(material_ids)}
    )
    session.flush()
    return ids


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` (column -> value, Python-side column defaults filled in): COPY on PostgreSQL,
    executemany elsewhere. Values go through the columns' own types either way."""
    if not rows:
        return
    rows = [_with_defaults(table, row) for row in rows]
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    processors = [table.c[name].type._cached_bind_processor(connection.dialect) for name in names]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [process(row[n]) if process else row[n] for n, process in zip(names, processors, strict=True)]
                )
    except psycopg.Error as exc:
        # Reported as SQLAlchemy reports a failed INSERT (IntegrityError for a broken reference...).
        raise DBAPIError.instance(f"COPY {table.name}", None, exc, psycopg.Error, dialect=connection.dialect) from exc


def _insert_outbox(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """INSERT the outbox rows; returns their ids, in the rows' order. On PostgreSQL the ids are
    taken from the table's sequence first and the rows go in with COPY like the others (an
    INSERT of a whole batch with RETURNING costs more to build and parse than to run)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        returning = insert(SearchOutbox).returning(SearchOutbox.id, sort_by_parameter_order=True)
        return list(session.scalars(returning, rows).all())
    ids = sorted(
        session.scalars(
            text("SELECT nextval(pg_get_serial_sequence('search_outbox', 'id')) FROM generate_series(1, :n)"),
            {"n": len(rows)},
        )
    )
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
    _insert(session, SearchOutbox.__table__, rows)
    return ids


def _with_defaults(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    for column in table.c:
        default = column.default
        if column.key in row or default is None or column.autoincrement is True:
            continue
        if default.is_scalar:
            row[column.key] = default.arg
        elif default.is_callable:
            row[column.key] = default.arg(None)
    return row


def import_lines(
    session_factory: sessionmaker[Session],
    lines: Iterable[str],
    actor: Principal | None = None,
    *,
    batch_size: int = 500,
    is_demo: bool = False,
    on_progress: ProgressCallback | None = None,
    on_committed: CommittedCallback | None = None,
    claim_for: timedelta | None = None,
    write_ahead: bool = False,
) -> ImportReport:
    """Import `lines`; `on_committed` gets each committed batch, whose outbox rows are claimed for
    `claim_for` (so that no other indexer takes them meanwhile; a claim runs out if the caller dies).

    With `write_ahead`, each batch is written and committed in a thread of its own while the next
    one is read and validated (the database works while Python does), and names are resolved in a
    second, reading session: the factory's sessions must each have a connection of their own (not
    one shared connection, as tests bind theirs). Batches are still committed one at a time, in
    order, each whole or not at all. Errors are reported in line order either way."""
    report = ImportReport()
    tags = _TagCache()
    batch: list[tuple[int, NewMaterial]] = []
    commit = _BatchWriter(actor, report, on_committed, claim_for)
    # A writing session: its reads (taxonomy, duplicates) and writes are one turn per batch, so a
    # server writing the same SQLite file meanwhile makes the import wait, never fail.
    with ExitStack() as stack:
        session = stack.enter_context(writing_session(session_factory))
        reader = stack.enter_context(session_factory()) if write_ahead else session
        writer = stack.enter_context(_WriteAhead(commit, session)) if write_ahead else None
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    batch.append((number, _parse(reader, line, tags, actor, is_demo)))
                except (ValueError, ValidationError, AppError) as exc:
                    report.errors.append((number, _describe(exc)))
            if len(batch) >= batch_size:
                if writer is None:
                    commit(session, batch)
                else:
                    reader.commit()  # ends its reading transaction (an SQLite snapshot held open)
                    writer.submit(batch)
                batch = []
            if on_progress:
                on_progress(1)
        if writer is not None:
            writer.wait()
        commit(session, batch)
    report.errors.sort(key=lambda error: error[0])
    return report


class _WriteAhead:
    """Writes batches in one thread, one at a time: `submit` waits for the batch before."""

    def __init__(self, commit: "_BatchWriter", session: Session) -> None:
        self._commit = commit
        self._session = session
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
        self._pending: Future[None] | None = None

    def submit(self, batch: list[tuple[int, NewMaterial]]) -> None:
        self.wait()
        self._pending = self._executor.submit(self._commit, self._session, batch)

    def wait(self) -> None:
        """Wait for the batch being written; raises what writing it raised."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> "_WriteAhead":
        return self

    def __exit__(self, *exc_info: object) -> None:
        # On the way out of a failure too: the batch being written ends before the session closes.
        try:
            if exc_info[0] is None:
                self.wait()
            elif self._pending is not None:
                wait_for([self._pending])
        finally:
            self._executor.shutdown()


@dataclass
class _BatchWriter:
    actor: Principal | None
    report: ImportReport
    on_committed: CommittedCallback | None
    claim_for: timedelta | None

    def __call__(self, session: Session, batch: list[tuple[int, NewMaterial]]) -> None:
        if not batch:
            return
        if self._commit(session, [m for _, m in batch]):
            return
        # Something in the batch broke the write: find the line, keep the others.
        for number, material in batch:
            self._commit(session, [material], number)

    def _commit(self, session: Session, materials: list[NewMaterial], number: int | None = None) -> bool:
        """Write and commit `materials`; False if that failed (a line's error is recorded, given its `number`)."""
        claimed_until = utcnow() + self.claim_for if self.claim_for and self.on_committed else None
        try:
            ids = _write(session, materials, self.actor, claimed_until)
            session.commit()
        except Exception as exc:
            session.rollback()
            if number is not None:
                self.report.errors.append((number, f"could not be saved: {type(exc).__name__}"))
            return False
        self.report.imported += len(materials)
        if self.on_committed:
            self.on_committed(materials, ids)
        return True
