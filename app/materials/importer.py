"""Bulk import of materials from NDJSON: one material per line, bad lines reported and skipped.

Each line is a MaterialCreate object, optionally with `status` (the status to load it in: an
import brings in work already reviewed elsewhere, so it is recorded as such, change "imported").
Lines are validated one by one, with the checks any new material gets (names resolved, the
source of a translation and the claims a rebuttal answers checked); valid ones are written in
batches, each batch one transaction. If a batch fails as a whole, its lines are retried one by
one so only the bad line is lost.

A line becomes plain values, not ORM objects (building and flushing those cost more than the
rest of an import): the material's columns, tags and rebutted claims as the materials service
builds them for any new material, its first revision (the same snapshot any write saves), its outbox row and,
per batch, one audit record. On PostgreSQL the rows go in with COPY, elsewhere with executemany
INSERTs; either way inside the batch's one transaction, so an interrupted import leaves every
batch wholly written or not at all. A caller that indexes the batches itself (`ttdn import`)
gets each committed batch's materials and outbox row ids from `on_committed`.
"""

import uuid
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
import psycopg
from psycopg import sql
from pydantic import ValidationError
from sqlalchemy import Table, insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.db import utcnow, writing_session
from app.errors import AppError, error_message
from app.materials import service as materials_service
from app.materials.filters import STATUSES
from app.materials.models import Material, MaterialRebut, MaterialRevision, MaterialTag, SearchOutbox, Tagged
from app.materials.schemas import MaterialCreate, RebutItem

ProgressCallback = Callable[[int], None]
# Lines read between two calls of the progress callback (a call per line, redrawing a progress
# bar's state each time, showed in the import's profile).
_PROGRESS_EVERY = 250


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
    # facet -> values in position order: the document and the snapshot ask for each facet.
    by_facet: dict[str, list[str]] = field(default_factory=dict)
    # Its first revision's copy, taken while the line is read (see `_parse`).
    snapshot: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for facet, value, _ in self.tags:
            self.by_facet.setdefault(facet, []).append(value)

    def tag_values(self, facet: str) -> list[str]:
        return list(self.by_facet.get(facet, ()))

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


_LISTS_KEPT = 50_000


class _TagCache:
    """Resolving names is the slow part of an import and the same values recur on every line.

    Resolved per single value, not per list: lines combine a few hundred values in tens of
    thousands of ways. A list resolves to its values' results in input order, de-duplicated,
    and fails on its first bad value, as `resolve_tags` does for the whole list; the lists seen
    are remembered too (per field, far fewer than the combinations of all four).
    """

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], list[str]] = {}
        self._lists: dict[tuple[str, tuple[str, ...]], list[str]] = {}

    def resolve(self, session: Session, data: MaterialCreate) -> dict[str, list[str]]:
        out = {}
        for name in materials_service.TAG_FIELDS:
            key = (name, tuple(getattr(data, name)))
            if key not in self._lists:
                if len(self._lists) >= _LISTS_KEPT:
                    self._lists.clear()
                self._lists[key] = list(dict.fromkeys(v for value in key[1] for v in self._value(session, name, value)))
            out[name] = list(self._lists[key])
        return out

    def _value(self, session: Session, name: str, value: str) -> list[str]:
        key = (name, value)
        if key not in self._values:
            self._values[key] = materials_service.resolve_tags(session, {name: [value]})[name]
        return self._values[key]


def _describe(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at position {exc.start + 1} of the line"
    if isinstance(exc, orjson.JSONDecodeError):  # its own words name a "line 1" of the one line it saw
        return f"not JSON (each line is one JSON object): {exc.msg} at position {exc.pos + 1} of the line"
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {error_message(e)}" for e in exc.errors())
    if isinstance(exc, AppError):
        if exc.errors:
            return "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors)
        return exc.detail
    return str(exc)


def _parse(session: Session, line: str | bytes, tags: _TagCache, actor: Principal | None, is_demo: bool) -> NewMaterial:
    try:
        # orjson reads UTF-8 bytes itself, faster than decoding them first.
        raw: Any = orjson.loads(line)
    except orjson.JSONDecodeError:
        if not isinstance(line, bytes):
            raise
        # Not JSON, not UTF-8 (that line's error alone, raised by the decoding), or JSON after
        # a byte order mark, as some editors write at the start of a file (dropped).
        raw = orjson.loads(line.decode("utf-8-sig"))
    if not isinstance(raw, dict):
        raise ValueError("each line must be a JSON object")
    status = raw.pop("status", "draft")
    if status not in STATUSES:
        raise ValueError(f"status: must be one of {', '.join(STATUSES)}")
    data = MaterialCreate.model_validate(raw)
    resolved = tags.resolve(session, data)
    if data.translation_of or data.rebuts:
        materials_service.check_references(session, data)
    material = NewMaterial(
        **materials_service.new_material_values(data, actor, status=status, is_demo=is_demo),
        tags=materials_service.tag_rows(resolved),
        rebuts=data.rebuts,
    )
    # Taken here, not by the thread that writes: the reading thread waits for the writing one
    # most of the time, so work moved here comes off the import's critical path.
    material.snapshot = materials_service.snapshot(material)  # type: ignore[arg-type]
    return material


def _write(
    session: Session, materials: list[NewMaterial], actor: Principal | None, claimed_until: datetime | None
) -> list[int]:
    """Insert the batch's rows: materials, tags, rebutted claims, revisions, outbox rows and one audit record;
    returns the outbox rows' ids. Parents first: the others refer to their material."""
    # Each material's id as stored, made once: a material's id is in seven rows or more, and
    # UUID.__str__ is Python code.
    keys = [str(m.id) for m in materials]
    rows, tags, rebuts, revisions, outbox = [], [], [], [], []
    for material, key in zip(materials, keys, strict=True):
        rows.append(material.columns() | {"id": key})
        tags.extend(
            {"material_id": key, "facet": facet, "value": value, "position": position}
            for facet, value, position in material.tags
        )
        rebuts.extend(
            {"material_id": key, "claim_id": item.claim_id, "verdict": item.verdict, "position": position}
            for position, item in enumerate(material.rebuts)
        )
        revision = materials_service.revision_values(material, actor, "imported", material.snapshot)
        revisions.append(revision | {"material_id": key})
        outbox.append({"material_id": key, "version": material.version, "claimed_until": claimed_until})
    _insert(session, Material.__table__, rows)
    _insert(session, MaterialTag.__table__, tags)
    _insert(session, MaterialRebut.__table__, rebuts)
    _insert(session, MaterialRevision.__table__, revisions)
    ids = _insert_outbox(session, outbox)
    # One audit record per batch: the ids it brought in (a record per line would double the load).
    material_ids = keys
    audit_service.record(
        session, actor, "material.imported", "material", None, {"ids": material_ids, "count": len(material_ids)}
    )
    session.flush()
    return ids


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` (column -> value, the same columns in each; Python-side column defaults
    filled in): COPY on PostgreSQL, executemany elsewhere. Values go through the columns' own
    types either way."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(table), [_with_defaults(table, row) for row in rows])
        return
    # Converted a column at a time: a batch holds thousands of tag rows, and a call per value
    # through a per-row loop cost more than COPY itself.
    names = list(rows[0])
    columns = [[row[name] for row in rows] for name in names]
    for name, default in _defaults(table, names):
        names.append(name)
        columns.append([default.arg] * len(rows) if default.is_scalar else [default.arg(None) for _ in rows])
    for i, name in enumerate(names):
        if process := table.c[name].type._cached_bind_processor(connection.dialect):
            columns[i] = list(map(process, columns[i]))
    # Binary: PostgreSQL reads each value as it is stored (no escaping, no parsing of timestamps
    # from text), given each column's type, which binary COPY does not cast to.
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor:
            types = _column_types(cursor, table.name, names)
            with cursor.copy(statement) as copy:
                copy.set_types(types)
                for row in zip(*columns, strict=True):
                    copy.write_row(row)
    except psycopg.Error as exc:
        # Reported as SQLAlchemy reports a failed INSERT (IntegrityError for a broken reference...).
        raise DBAPIError.instance(f"COPY {table.name}", None, exc, psycopg.Error, dialect=connection.dialect) from exc


def _column_types(cursor: psycopg.Cursor[Any], table: str, names: list[str]) -> list[int]:
    """The type (oid) of each of `names` in `table`, as the database has it."""
    cursor.execute(
        "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
        (table,),
    )
    types = dict(cursor.fetchall())
    return [types[name] for name in names]


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


def _defaults(table: Table, given: Iterable[str]) -> list[tuple[str, Any]]:
    """(column, its Python-side default: a value or a function) of the columns not `given` that have one."""
    given = set(given)
    return [
        (column.key, column.default)
        for column in table.c
        if column.key not in given
        and column.default is not None
        and (column.default.is_scalar or column.default.is_callable)
        and column.autoincrement is not True
    ]


def _with_defaults(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    for name, default in _defaults(table, row):
        row[name] = default.arg if default.is_scalar else default.arg(None)
    return row


def import_lines(
    session_factory: sessionmaker[Session],
    lines: Iterable[str] | Iterable[bytes],
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
    one is read and validated (the database works while Python does); on PostgreSQL two batches
    are written at once, in two sessions. Names are resolved in another, reading session: the
    factory's sessions must each have a connection of their own (not one shared connection, as
    tests bind theirs). Batches are still committed one at a time, in order, each whole or not at
    all. Errors are reported in line order either way."""
    report = ImportReport()
    tags = _TagCache()
    batch: list[tuple[int, NewMaterial]] = []
    commit = _BatchWriter(actor, report, on_committed, claim_for)
    number = shown = 0  # lines read, lines reported to on_progress
    # A writing session: its reads (taxonomy, duplicates) and writes are one turn per batch, so a
    # server writing the same SQLite file meanwhile makes the import wait, never fail.
    with ExitStack() as stack:
        session = stack.enter_context(writing_session(session_factory))
        reader = stack.enter_context(session_factory()) if write_ahead else session
        writer = None
        if write_ahead:
            sessions = [session]
            if session.get_bind().dialect.name == "postgresql":
                # A second writer (on SQLite it would only wait for the first one's lock).
                sessions.append(stack.enter_context(writing_session(session_factory)))
            writer = stack.enter_context(_WriteAhead(commit, sessions))
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
            if on_progress and number - shown >= _PROGRESS_EVERY:
                on_progress(number - shown)
                shown = number
        if on_progress and number > shown:
            on_progress(number - shown)
        if writer is not None:
            writer.wait()
        commit(session, batch)
    report.errors.sort(key=lambda error: error[0])
    return report


class _WriteAhead:
    """Writes batches in threads of their own, a session each, and commits them one at a time,
    in order. With two sessions (PostgreSQL) a batch is written while the one before it is still
    being written or committed, and commits after it: the database works on one while Python
    prepares the other. `submit` waits while every session is busy."""

    def __init__(self, commit: "_BatchWriter", sessions: list[Session]) -> None:
        self._commit = commit
        self._sessions = sessions
        self._executor = ThreadPoolExecutor(max_workers=len(sessions), thread_name_prefix="import-writer")
        self._pending: deque[Future[None]] = deque()
        self._submitted = 0

    def submit(self, batch: list[tuple[int, NewMaterial]]) -> None:
        if len(self._pending) == len(self._sessions):
            self._pending.popleft().result()  # frees the session the next batch takes
        session = self._sessions[self._submitted % len(self._sessions)]
        before = self._pending[-1] if self._pending else None
        self._pending.append(self._executor.submit(self._commit, session, batch, before))
        self._submitted += 1

    def wait(self) -> None:
        """Wait for the batches being written; raises what writing the first failed one raised."""
        while self._pending:
            self._pending.popleft().result()

    def __enter__(self) -> "_WriteAhead":
        return self

    def __exit__(self, *exc_info: object) -> None:
        # On the way out of a failure too: the batches being written end before the sessions close.
        try:
            if exc_info[0] is None:
                self.wait()
            else:
                wait_for(self._pending)
        finally:
            self._executor.shutdown()


@dataclass
class _BatchWriter:
    actor: Principal | None
    report: ImportReport
    on_committed: CommittedCallback | None
    claim_for: timedelta | None

    def __call__(
        self, session: Session, batch: list[tuple[int, NewMaterial]], before: "Future[None] | None" = None
    ) -> None:
        """Write and commit `batch`, after the batch `before` (being written in another session) has ended."""
        if not batch:
            return
        if self._commit(session, [m for _, m in batch], before=before):
            return
        # Something in the batch broke the write: find the line, keep the others.
        for number, material in batch:
            self._commit(session, [material], number)

    def _commit(
        self,
        session: Session,
        materials: list[NewMaterial],
        number: int | None = None,
        before: "Future[None] | None" = None,
    ) -> bool:
        """Write and commit `materials`; False if that failed (a line's error is recorded, given its `number`)."""
        claimed_until = utcnow() + self.claim_for if self.claim_for and self.on_committed else None
        try:
            ids = _write(session, materials, self.actor, claimed_until)
            if before is not None:
                wait_for([before])  # commits stay in order, and so do `on_committed` calls
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
