"""Database plumbing: Base, column types, engine, and the one transaction per request.

The request's session is created lazily by the `DbSession` dependency and committed by
`TransactionMiddleware` just before the response starts, so a failure at commit turns into a
problem response instead of a 200 that lied.
"""

import collections
import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import anyio
import orjson
import uuid_utils
from fastapi import Depends, Request
from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    MetaData,
    String,
    TypeDecorator,
    any_,
    bindparam,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import URL, Engine, Row, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql import Executable
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from app.errors import (
    BUSY_RETRY_AFTER,
    ServiceUnavailable,
    clash,
    is_contention,
    log_server_error,
    problem,
    server_error,
)
from app.http import HttpMiddleware

log = logging.getLogger("ttdn.db")
T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> uuid.UUID:
    """A time-ordered UUID (version 7), as API.md asks for every id."""
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UUIDStr(TypeDecorator):
    """UUIDs stored as their 36-character text on every backend: portable and readable in SQL."""

    impl = String(36)
    cache_ok = True

    def process_bind_param(self, value: uuid.UUID | str | None, dialect: Any) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Any) -> uuid.UUID | None:
        return None if value is None else uuid.UUID(value)


# JSON on SQLite, JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")
# A document written once and read only whole, never queried inside (a saved version's snapshot):
# `json` on PostgreSQL too, which keeps the text as written instead of parsing it into jsonb's
# binary form (migration 0025 says what that saves).
WholeJSON = JSON()


def one_of(dialect: str, column: ColumnElement[Any], key: str, item_type: Any = String) -> ColumnElement[bool]:
    """`column IN :key`, for a statement run with `{key: [values]}` (as the database holds them: ids
    as text). On PostgreSQL one array parameter (`= ANY`) of `item_type`, elsewhere one expanding
    parameter: either way the statement is the same for any number of values, so it can be built
    once, and on PostgreSQL it stays short and cheap to send."""
    if dialect == "postgresql":
        return column == any_(bindparam(key, type_=ARRAY(item_type)))
    return column.in_(bindparam(key, expanding=True))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# The execution option that marks a transaction as one that will write (see build_engine).
WRITE_INTENT = "ttdn_write"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_HOLDS_TURN = "ttdn_holds_writer_turn"


class WriterQueue:
    """One writer at a time in this process, first come first served, with a bounded wait.

    A plain lock would do the serialising, but it is not fair: under a steady stream of writes
    one unlucky thread can lose every race until its wait runs out. Each waiter here gets its own
    lock, released by the writer before it in arrival order. Past `max_waiting` waiters, or after
    `wait_seconds`, the caller gets `ServiceUnavailable` (503 with Retry-After): the server is
    overloaded, and saying so at once beats tying up a worker thread per queued request.
    """

    def __init__(self, wait_seconds: float, max_waiting: int) -> None:
        self.wait_seconds = wait_seconds
        self.max_waiting = max_waiting
        self._mutex = threading.Lock()
        self._waiters: collections.deque[threading.Lock] = collections.deque()
        self._held = False

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            if len(self._waiters) >= self.max_waiting:
                raise WriterBusy(f"{len(self._waiters)} changes are already waiting")
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=self.wait_seconds):
            return  # handed over by release()
        with self._mutex:
            if turn in self._waiters:
                self._waiters.remove(turn)
                raise WriterBusy(f"no turn to write within {self.wait_seconds:.0f} s")
        # release() handed the turn over between the timeout and the mutex: it is ours.

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # _held stays True: the turn passes on
            else:
                self._held = False

    @property
    def waiting(self) -> int:
        return len(self._waiters)


class WriterBusy(ServiceUnavailable):
    def __init__(self, why: str) -> None:
        super().__init__(
            f"The server is busy with other changes ({why}); nothing was written. Try again shortly.",
            headers={"Retry-After": BUSY_RETRY_AFTER},
        )


def build_engine(url: str, *, write_wait_seconds: float = 30.0, max_waiting_writers: int = 24) -> Engine:
    """The engine; on SQLite, writers take turns (see `_sqlite_writers_take_turns`), each waiting
    at most `write_wait_seconds` for this process's queue and as long for SQLite's own lock
    (held by another process), with at most `max_waiting_writers` in the queue."""
    if url.startswith("sqlite"):
        _create_owner_only(make_url(url).database)
        # Connections are cheap; the pool must never be what a waiting writer times out on:
        # one per worker thread (anyio's 40) plus the background threads, with room to spare.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": write_wait_seconds},
            pool_size=8,
            max_overflow=56,
            json_serializer=lambda value: _json(value).decode(),
        )
        _sqlite_writers_take_turns(engine, WriterQueue(write_wait_seconds, max_waiting_writers))
        return engine
    url_object, connect_args = _psycopg_options(make_url(url))
    return create_engine(
        url_object,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        connect_args=connect_args,
        json_serializer=_json,  # psycopg takes the bytes as they are
    )


def _create_owner_only(database: str | None) -> None:
    """Create the SQLite file readable by its owner only, as the key files are: it holds internal
    materials, password and key hashes. SQLite gives its -wal and -shm files the same mode. An
    existing file keeps the mode it has (the operator's choice)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    # Already there, or its folder is not (SQLite says so when it connects): nothing to do.
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _json(value: Any) -> bytes:
    """JSON columns' text: what every saved version, audit record and event stores. orjson, as
    the search client uses: a saved version of the benchmark corpus (3.4 KB on average)
    serialised in about 2 µs here, against 17 µs with the standard library. Keys that are not
    strings become strings, as the standard library makes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def _psycopg_options(url: URL) -> tuple[URL, dict[str, Any]]:
    """`prepare_threshold` in the URL's query is psycopg's, not libpq's: `none` turns server-side
    prepared statements off (behind PgBouncer < 1.21 in transaction mode), a number sets after
    how many runs a statement is prepared. Every other parameter (sslmode...) goes to libpq."""
    value = url.query.get("prepare_threshold")
    if value is None:
        return url, {}
    text_value = value if isinstance(value, str) else value[-1]
    threshold = None if text_value.lower() in ("none", "off", "false", "") else int(text_value)
    return url.difference_update_query(["prepare_threshold"]), {"prepare_threshold": threshold}


def _sqlite_writers_take_turns(engine: Engine, queue: WriterQueue) -> None:
    """How concurrent writers share one SQLite file without "database is locked".

    SQLite (WAL mode) allows many readers and one writer. A transaction opened with a plain
    (deferred) BEGIN reads from a snapshot; its first write must upgrade that snapshot to the
    write lock, and SQLite refuses the upgrade at once, without waiting for the busy timeout,
    when another connection holds the lock or has committed since the snapshot was taken
    (SQLITE_BUSY / SQLITE_BUSY_SNAPSHOT): waiting could not make the snapshot current again.
    Under concurrent writes that was the 500 "database is locked" on about half the requests.

    So a transaction that will write says so up front (the `WRITE_INTENT` execution option,
    set by `writing_session`, by `get_session` for unsafe HTTP methods and by `start_writing`):
    1. it first waits its turn in this process's `WriterQueue` (FIFO, bounded: 503 past it), so
       threads queue in order instead of spinning in SQLite's busy handler;
    2. then it opens with `BEGIN IMMEDIATE`, which takes SQLite's write lock before reading
       anything; against another process's writer it waits up to the busy timeout (SQLite does
       run the busy handler here, as no snapshot is held yet), and past that the error is a 503;
    3. the turn passes on when the connection goes back to the pool, after COMMIT or ROLLBACK.
    Every other transaction opens with a deferred BEGIN and takes no turn: reads stay
    concurrent with each other and with the writer, as WAL allows.
    """

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin, so that
        # SAVEPOINTs work (tests roll back each test; nested writes stay atomic).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        if not conn.get_execution_options().get(WRITE_INTENT):
            conn.exec_driver_sql("BEGIN")
            return
        if not conn.info.get(_HOLDS_TURN):
            queue.acquire()
            conn.info[_HOLDS_TURN] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            conn.info.pop(_HOLDS_TURN, None)
            queue.release()
            raise

    @event.listens_for(engine, "checkin")
    def _pass_the_turn(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_HOLDS_TURN, False):
            queue.release()


def get_row(session: Session, model: type[T], ident: Any, *, lock: bool = False) -> T | None:
    """The row of `model` with primary key `ident`, or None.

    With `lock`, read fresh and locked until the transaction ends. Every write that reads a row
    to decide what to change (If-Match, a status, a counter) reads it this way: on PostgreSQL a
    second writer waits here (SELECT ... FOR UPDATE) and then sees the first one's change, so it
    gets a 412 or 409 instead of overwriting it. On SQLite, writers already take turns for the
    whole transaction (`_sqlite_writers_take_turns`)."""
    if not lock:
        return session.get(model, ident)
    return session.get(model, ident, with_for_update=True, populate_existing=True)


def lock_rows(session: Session, model: type[T], idents: Iterable[Any]) -> None:
    """Lock several rows of `model` for a write (as `get_row(..., lock=True)`), in key order:
    two writers that lock the same rows then wait for each other instead of deadlocking."""
    for ident in sorted(set(idents), key=str):
        get_row(session, model, ident, lock=True)


def try_lock_row(session: Session, model: type[T], ident: Any) -> bool:
    """Lock the row now if no other transaction holds it (FOR UPDATE NOWAIT); False, having waited
    for nothing, if one does. For a writer that already holds a lock which the row's holder may
    be waiting for: waiting there could deadlock. (SQLite: writers take turns, the row is free.)"""
    if session.get_bind().dialect.name == "sqlite":
        get_row(session, model, ident, lock=True)
        return True
    try:
        with session.begin_nested():  # a refused lock aborts only the savepoint, not the transaction
            session.get(model, ident, with_for_update={"nowait": True}, populate_existing=True)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
            return False
        raise
    return True


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def writing_session(factory: sessionmaker[Session]) -> Session:
    """A session whose transactions will write: on SQLite they wait their turn and begin
    IMMEDIATE (see `_sqlite_writers_take_turns`); on PostgreSQL the option changes nothing."""
    return factory(execution_options={WRITE_INTENT: True})


def start_writing(session: Session) -> None:
    """Call before the first change in a session that was opened for reading (a GET that
    records something, a sign-in that records a refusal). On SQLite the reading transaction
    ends here (it has changed nothing) and the next one begins as a writer, in turn; what was
    read stays loaded. On PostgreSQL a transaction can go from reading to writing: no-op."""
    if session.execution_options.get(WRITE_INTENT) or session.get_bind().dialect.name != "sqlite":
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("start_writing() must come before the first change")
    if session.in_transaction():
        session.commit()
    session.execution_options = session.execution_options.union({WRITE_INTENT: True})


@contextmanager
def one_writing_transaction(session: Session) -> Iterator[None]:
    """A session opened for reading writes once and goes back to reading (sign-in charges its
    throttle counters, then checks the password outside the write turn). The caller commits or
    rolls back inside the block; on PostgreSQL this changes nothing."""
    if session.in_transaction():
        session.commit()  # a reading transaction: it changed nothing
    before = session.execution_options.get(WRITE_INTENT, False)
    session.execution_options = session.execution_options.union({WRITE_INTENT: True})
    try:
        yield
    finally:
        if session.in_transaction():
            session.rollback()
        session.execution_options = session.execution_options.union({WRITE_INTENT: before})


@contextmanager
def reading_first(session: Session) -> Iterator[None]:
    """Reads that come before a writing session's writes (who the caller is), done outside the
    write turn: on SQLite they run in a reading transaction, ended here, so the turn is taken
    only when the route itself starts and not across the hop from authentication to the route."""
    hold_back = (
        session.execution_options.get(WRITE_INTENT)
        and not session.in_transaction()
        and session.get_bind().dialect.name == "sqlite"
    )
    if not hold_back:
        yield
        return
    session.execution_options = session.execution_options.union({WRITE_INTENT: False})
    try:
        yield
    finally:
        if session.in_transaction():
            session.commit()  # reads only, or the key's last-use stamp (app/units/keys.py)
        session.execution_options = session.execution_options.union({WRITE_INTENT: True})


def get_session(request: Request) -> Session:
    """The request's session, created on first use and finished by TransactionMiddleware.

    Requests with an unsafe method (POST, PATCH, PUT, DELETE) write: their session is a
    `writing_session`. Safe ones read, and call `start_writing` before any change they record."""
    session = getattr(request.state, "db_session", None)
    if session is None:
        factory = request.app.state.session_factory
        session = factory() if request.method in SAFE_METHODS else writing_session(factory)
        request.state.db_session = session
    return session


def get_reading_session(request: Request) -> Session:
    """The request's session, opened for reading whatever the method: for a route that does
    slow work (a password hash) before it knows whether it writes; it calls `start_writing`
    first if it does, so it never holds the write turn during that work."""
    session = getattr(request.state, "db_session", None)
    if session is None:
        session = request.app.state.session_factory()
        request.state.db_session = session
    return session


async def request_session(request: Request) -> Session:
    """`get_session` as a dependency. Async because making a session does no I/O (it connects on
    first use), and FastAPI runs a plain `def` dependency in a worker thread: a hop per request."""
    return get_session(request)


DbSession = Annotated[Session, Depends(request_session)]
ReadingSession = Annotated[Session, Depends(get_reading_session)]


def commit_even_on_error(request: Request) -> None:
    """Keep this request's writes although it answers with an error: for the record of a
    refusal (a failed sign-in), where the refusal itself is what must be saved. Only a route
    that has written nothing else may ask for this."""
    request.state.commit_on_error = True


class TransactionMiddleware(HttpMiddleware):
    """Commits the request's session when the response starts with a status below 400 (or when
    the route asked for `commit_even_on_error`), rolls it back otherwise. A failing commit becomes
    a 500 problem, never a silent 200."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})

        async def send_after_commit(message: Message) -> None:
            if message["type"] == "http.response.start":
                session: Session | None = state.get("db_session")
                if session is not None and _idle(session):
                    # Nothing to commit or roll back (see `end_reading`): no thread hop for it.
                    state["db_session"] = None
                    session.close()
                elif session is not None:
                    state["db_session"] = None
                    keep = message["status"] < 400 or bool(state.get("commit_on_error"))
                    try:
                        # One trip to a worker thread for the whole ending: each trip costs.
                        await anyio.to_thread.run_sync(_finish, session, keep)
                    except Exception as exc:
                        response = _commit_failure(exc, state.get("request_id"), scope["method"], scope["path"])
                        await response(scope, receive, send)
                        raise CommitFailed from None
            await send(message)

        try:
            await self.app(scope, receive, send_after_commit)
        except CommitFailed:
            return
        finally:
            leftover: Session | None = state.get("db_session")
            if leftover is not None:
                state["db_session"] = None
                await anyio.to_thread.run_sync(_discard, leftover)


class CommitFailed(Exception):
    """Raised inside the middleware once the failure response has been sent."""


def _idle(session: Session) -> bool:
    """No transaction open and no change pending: closing it does no I/O."""
    return not session.in_transaction() and not (session.new or session.dirty or session.deleted)


def read_alone(session: Session, statement: Executable, parameters: dict[str, Any]) -> Sequence[Row[Any]]:
    """The rows of one read-only statement that needs no transaction around it. On PostgreSQL,
    for a session bound to the engine and not in a transaction yet, it runs on a pooled
    connection in autocommit: no BEGIN and no COMMIT, two round trips fewer (a search's version
    read of 20 ids, `bench.search_version_read`: about 0.35 ms of wall time and 0.25 ms of CPU
    per search). The pool's pre-ping still checks the connection first. Otherwise it reads
    through the session: a session bound to one connection reads inside that connection's
    transaction, one already in a transaction sees its own changes, and SQLite's connections
    keep the transaction handling of `_sqlite_writers_take_turns`."""
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql" and not session.in_transaction():
        with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            return connection.execute(statement, parameters).all()
    return session.connection().execute(statement, parameters).all()


def end_reading(session: Session) -> None:
    """For a request that only reads, once it has read all it needs: end its transaction here, in
    the worker thread that read, so that TransactionMiddleware has nothing left to do in another
    (each hop to a worker thread costs). Refuses a session that has changes to save."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_reading() on a session with changes: TransactionMiddleware commits those")
    if session.in_transaction():
        session.commit()


def _finish(session: Session, keep: bool) -> None:
    """Commit (or roll back) and close; on a failed commit, roll back, close, and re-raise."""
    try:
        if keep:
            # Flush first: a failure here means the COMMIT was never sent, so nothing was saved.
            try:
                session.flush()
            except DBAPIError as exc:
                exc.flush_failed = True  # type: ignore[attr-defined]
                raise
            session.commit()
        else:
            session.rollback()
    except BaseException:
        _discard(session)
        raise
    session.close()


def _discard(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


def _commit_failure(exc: Exception, request_id: str | None, method: str, path: str) -> JSONResponse:
    """503 with Retry-After when trying again will work: the database was only busy, or the
    connection was lost (a restart, a failover, a terminated backend; saying whether the COMMIT
    had been sent). Otherwise a 500, logged with the request id."""
    extra = {"request_id": request_id} if request_id else None
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        detail = (
            "The database connection was lost; nothing was saved. Try again."
            if getattr(exc, "flush_failed", False)
            else "The database connection was lost while saving; check whether the change is there before retrying."
        )
        return problem(503, detail, headers={"Retry-After": "1"}, extra=extra)
    if (conflict := clash(exc, extra)) is not None:
        return conflict
    if is_contention(exc):
        detail = "The change could not be saved; nothing was written. The database is busy: try again shortly."
        return problem(503, detail, headers={"Retry-After": BUSY_RETRY_AFTER}, extra=extra)
    log_server_error(exc, request_id, method, path)
    return server_error(request_id, "The change could not be saved; nothing was written.")


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """For CLI commands: one writing transaction, committed on success."""
    session = writing_session(factory)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
