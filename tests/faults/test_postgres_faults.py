"""A PostgreSQL connection killed under a request (pg_terminate_backend), on a real server.

postgres-es only. The request is made to wait inside its transaction (the test holds a lock
the request's INSERT needs), so the kill lands at a known point: after the request has written
its first rows, before it commits.
"""

import os
import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from app.audit.models import AuditRecord
from app.config import Settings
from app.db import build_engine, build_session_factory
from app.main import create_app
from app.materials.models import Material, MaterialRevision, SearchOutbox
from app.search.database import DatabaseBackend
from tests.factories import material_data
from tests.faults.servers import SECRET_KEY, ScratchPostgres, add_editor

__test__ = os.environ.get("TTDN_TEST_CONFIG", "sqlite") == "postgres-es"


@pytest.fixture
def service(tmp_path, scratch_postgres: ScratchPostgres) -> Iterator[TestClient]:
    """The application with its own connection pool on a fresh database (the database search
    backend: Elasticsearch plays no part here)."""
    url = scratch_postgres.new_database()
    settings = Settings(
        app_env="test",
        data_dir=tmp_path,
        secret_key=SECRET_KEY,
        database_url=url,
        indexer_interval_seconds=0,
        feed_release_interval_seconds=0,
    )
    engine = build_engine(settings.sqlalchemy_url)
    factory = build_session_factory(engine)
    app = create_app(settings, session_factory=factory, search_backend=DatabaseBackend(factory))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(add_editor(engine))
        client.app.state.engine = engine
        yield client
    engine.dispose()


def counts(client: TestClient) -> dict[str, int]:
    with client.app.state.session_factory() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Material, MaterialRevision, SearchOutbox, AuditRecord)
        }


def test_a_connection_killed_inside_a_transaction_gives_503_and_writes_nothing(service: TestClient) -> None:
    assert service.get("/api/v1/materials").status_code == 200
    before = counts(service)
    engine = service.app.state.engine
    title = f"Bị ngắt {uuid.uuid4().hex[:6]}"
    answer: dict[str, httpx.Response] = {}
    with engine.connect() as blocker:
        # Every write of a material also writes the outbox: hold that table, so the request
        # waits for its lock inside its transaction.
        blocker.execute(text("LOCK TABLE search_outbox IN EXCLUSIVE MODE"))
        writer = threading.Thread(
            target=lambda: answer.setdefault("r", service.post("/api/v1/materials", json=material_data(title=title)))
        )
        writer.start()
        victim = None
        for _ in range(200):
            # pg_stat_activity is a snapshot taken once per transaction unless cleared.
            blocker.execute(text("SELECT pg_stat_clear_snapshot()"))
            victim = blocker.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            ).scalar()
            if victim:
                break
            writer.join(timeout=0.05)
        assert victim, f"the request never waited for the lock: {answer}"
        assert blocker.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim}).scalar()
        blocker.rollback()
    writer.join(timeout=30)
    assert not writer.is_alive()

    response = answer["r"]
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]
    assert "nothing was saved" in response.json()["detail"]
    assert counts(service) == before  # no material, revision, outbox row or audit record

    # The next request gets a working connection (the dead one was dropped from the pool).
    again = service.post("/api/v1/materials", json=material_data(title=title))
    assert again.status_code == 201, again.text
    assert counts(service)["materials"] == before["materials"] + 1


def test_connections_killed_while_idle_in_the_pool_are_replaced(service: TestClient) -> None:
    """A database restart or failover kills every pooled connection: the next request still works."""
    assert service.get("/api/v1/materials").status_code == 200  # the pool now holds a connection
    admin_engine = build_engine(service.app.state.engine.url.render_as_string(hide_password=False))
    with admin_engine.connect() as admin:
        killed = admin.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin_engine.dispose()
    assert killed >= 1
    assert service.get("/api/v1/materials").status_code == 200
    assert service.post("/api/v1/materials", json=material_data()).status_code == 201
