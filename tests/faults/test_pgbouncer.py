"""The service behind PgBouncer in transaction mode (Debian's pgbouncer 1.18).

postgres-es only. With `prepare_threshold=none` in DATABASE_URL (README: PgBouncer before 1.21
cannot carry prepared statements across a transaction-mode pool), requests that repeat the
same statements many times all succeed, and the feed change log's transaction-scoped advisory
lock still serialises writers through the pooler.
"""

import os
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.bundles import changelog
from app.config import Settings
from app.db import build_engine, build_session_factory
from app.main import create_app
from app.search import indexer
from app.search.database import DatabaseBackend
from tests.factories import material_data
from tests.faults.servers import PORT_BASE, REPO, SECRET_KEY, PgBouncer, ScratchPostgres, add_editor

WORKERS = 4
ROUNDS = 8

__test__ = os.environ.get("TTDN_TEST_CONFIG", "sqlite") == "postgres-es"


@pytest.fixture(scope="module")
def pgbouncer() -> Iterator[PgBouncer]:
    bouncer = PgBouncer(REPO / ".cache" / "pgbouncer", PORT_BASE + 41, os.environ["TEST_DATABASE_URL"])
    bouncer.start()
    yield bouncer
    bouncer.stop()


@pytest.fixture
def pooled_url(pgbouncer: PgBouncer, scratch_postgres: ScratchPostgres) -> str:
    database = scratch_postgres.new_database().rsplit("/", 1)[1]
    return pgbouncer.url(database) + "?prepare_threshold=none"


def test_requests_through_a_transaction_mode_pool(pooled_url: str, tmp_path) -> None:
    settings = Settings(
        app_env="test", data_dir=tmp_path, secret_key=SECRET_KEY, database_url=pooled_url,
        indexer_interval_seconds=0, feed_release_interval_seconds=0,
    )  # fmt: skip
    engine = build_engine(settings.sqlalchemy_url)
    factory = build_session_factory(engine)
    app = create_app(settings, session_factory=factory, search_backend=DatabaseBackend(factory))
    statuses: list[int] = []

    def write(client: TestClient, worker: int) -> None:
        for n in range(ROUNDS):  # the same statements again and again: past psycopg's threshold of 5
            made = client.post("/api/v1/materials", json=material_data(title=f"Qua PgBouncer {worker} {n}"))
            statuses.append(made.status_code)
            if made.status_code == 201:
                etag = made.headers["etag"]
                edited = client.patch(made.headers["location"], json={"summary": "Sửa"}, headers={"If-Match": etag})
                statuses.append(edited.status_code)

    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(add_editor(engine))
        # Concurrent clients: the pooler hands each transaction whichever server connection is free.
        workers = [threading.Thread(target=write, args=(client, w)) for w in range(WORKERS)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert statuses.count(201) == WORKERS * ROUNDS, statuses
        assert statuses.count(200) == WORKERS * ROUNDS, statuses
        assert indexer.drain(factory, client.app.state.search_backend) == 2 * WORKERS * ROUNDS
        assert client.get("/api/v1/search", params={"q": "pgbouncer"}).json()["total"] == WORKERS * ROUNDS
    engine.dispose()


def test_the_feed_lock_serialises_writers_through_the_pool(pooled_url: str) -> None:
    engine = build_engine(Settings(database_url=pooled_url).sqlalchemy_url)
    factory = build_session_factory(engine)
    second_has_lock = threading.Event()

    def second_writer() -> None:
        with factory() as session:
            changelog.lock_feed(session)
            second_has_lock.set()
            session.rollback()

    with factory() as first:
        changelog.lock_feed(first)
        waiter = threading.Thread(target=second_writer, daemon=True)
        waiter.start()
        # The second writer is held while the first transaction is open...
        assert not second_has_lock.wait(timeout=2)
        first.execute(text("SELECT 1"))
        first.commit()
    # ...and gets the lock once it ends.
    assert second_has_lock.wait(timeout=30)
    waiter.join(timeout=30)
    engine.dispose()
