"""Database plumbing: Base, column types, engine, and the one transaction per request.

The request's session is created lazily by the `DbSession` dependency and committed by
`TransactionMiddleware` just before the response starts, so a failure at commit turns into a
problem response instead of a 200 that lied.
"""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
import uuid_utils
from fastapi import Depends, Request
from sqlalchemy import JSON, DateTime, MetaData, String, TypeDecorator, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import log_server_error, problem, server_error

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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

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
            conn.exec_driver_sql("BEGIN")

        return engine
    url_object, connect_args = _psycopg_options(make_url(url))
    return create_engine(url_object, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=connect_args)


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


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def get_session(request: Request) -> Session:
    """The request's session, created on first use and finished by TransactionMiddleware."""
    session = getattr(request.state, "db_session", None)
    if session is None:
        session = request.app.state.session_factory()
        request.state.db_session = session
    return session


DbSession = Annotated[Session, Depends(get_session)]


def commit_even_on_error(request: Request) -> None:
    """Keep this request's writes although it answers with an error: for the record of a
    refusal (a failed sign-in), where the refusal itself is what must be saved. Only a route
    that has written nothing else may ask for this."""
    request.state.commit_on_error = True


class TransactionMiddleware:
    """Commits the request's session when the response starts with a status below 400 (or when
    the route asked for `commit_even_on_error`), rolls it back otherwise. A failing commit becomes
    a 500 problem, never a silent 200."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_after_commit(message: Message) -> None:
            if message["type"] == "http.response.start":
                session: Session | None = state.get("db_session")
                if session is not None:
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
    """500 for a refused commit (logged with the request id); 503 with Retry-After when the
    database connection was lost (a restart, a failover, a terminated backend), saying whether
    the COMMIT had been sent."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        detail = (
            "The database connection was lost; nothing was saved. Try again."
            if getattr(exc, "flush_failed", False)
            else "The database connection was lost while saving; check whether the change is there before retrying."
        )
        extra = {"request_id": request_id} if request_id else None
        return problem(503, detail, headers={"Retry-After": "1"}, extra=extra)
    log_server_error(exc, request_id, method, path)
    return server_error(request_id, "The change could not be saved; nothing was written.")


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """For CLI commands and background jobs: one transaction, committed on success."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
