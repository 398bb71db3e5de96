"""Elasticsearch stopped, or hanging, under a running service (PostgreSQL + a node of our own).

postgres-es only (`__test__` is false in the sqlite run, so nothing here is collected there).
The node is the disposable one from scripts/es-node.sh, never the suite's shared node.
"""

import os
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import build_engine, build_session_factory
from app.main import create_app
from app.materials.models import Material, SearchOutbox
from tests.factories import material_data
from tests.faults.servers import SECRET_KEY, EsNode, ScratchPostgres, add_editor, paused

__test__ = os.environ.get("TTDN_TEST_CONFIG", "sqlite") == "postgres-es"

# Long enough for a restarted node and the indexer's back-off (at most 5 s here) to catch up.
CATCH_UP_SECONDS = 120


@pytest.fixture
def service(tmp_path, es_node: EsNode, scratch_postgres: ScratchPostgres) -> Iterator[TestClient]:
    """The whole application on a fresh database and the disposable node, background indexer on,
    with short Elasticsearch timeouts (one retry) as an operator would set them."""
    settings = Settings(
        app_env="test",
        data_dir=tmp_path,
        secret_key=SECRET_KEY,
        database_url=scratch_postgres.new_database(),
        elasticsearch_url=es_node.url,
        elasticsearch_index=f"ttdn-fault-{uuid.uuid4().hex[:8]}",
        elasticsearch_request_timeout=2,
        elasticsearch_max_retries=1,
        elasticsearch_health_timeout=1,
        indexer_interval_seconds=0.2,
        # Tries again within 5 s of the node's return, rather than the default 30 s.
        indexer_max_backoff_seconds=5,
        feed_release_interval_seconds=0,
    )
    engine = build_engine(settings.sqlalchemy_url)
    app = create_app(settings, session_factory=build_session_factory(engine))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(add_editor(engine))
        client.app.state.engine = engine
        yield client
        client.app.state.search_backend.drop()
    engine.dispose()


def index_matches_database(client: TestClient) -> bool:
    """Every material indexed at its current version, nothing else, no change waiting."""
    backend = client.app.state.search_backend
    with client.app.state.session_factory() as session:
        database = {str(m.id): m.version for m in session.scalars(select(Material))}
        pending = session.scalar(select(func.count()).where(SearchOutbox.processed_at.is_(None)))
    backend.refresh()
    found = backend.client.search(index=backend.alias, size=1000, version=True, source=False)
    indexed = {hit["_id"]: hit["_version"] for hit in found["hits"]["hits"]}
    return pending == 0 and indexed == database


def wait_until_level(client: TestClient) -> bool:
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while time.monotonic() < deadline:
        try:
            if index_matches_database(client):
                return True
        except Exception:  # the node may still be recovering its shards
            pass
        time.sleep(0.5)
    return False


def create(client: TestClient, title: str):
    response = client.post("/api/v1/materials", json=material_data(title=title))
    assert response.status_code == 201, response.text
    return response


def test_writes_go_on_while_elasticsearch_is_stopped(service: TestClient, es_node: EsNode) -> None:
    first = [create(service, f"Trước khi dừng {n}") for n in range(3)]
    assert wait_until_level(service)

    es_node.stop()
    try:
        made = [create(service, f"Trong khi dừng {n}") for n in range(5)]
        edited = service.patch(
            first[0].headers["location"], json={"title": "Sửa khi dừng"}, headers={"If-Match": first[0].headers["etag"]}
        )
        assert edited.status_code == 200, edited.text
        gone = service.delete(first[1].headers["location"], headers={"If-Match": first[1].headers["etag"]})
        assert gone.status_code == 204, gone.text

        search = service.get("/api/v1/search", params={"q": "dừng"})
        assert search.status_code == 503
        assert search.headers["retry-after"]
        assert search.headers["content-type"] == "application/problem+json"
        ready = service.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["search_backend"]["status"] == "unavailable"
        assert ready.json()["indexing_backlog"] >= 7
        assert len(made) == 5
    finally:
        es_node.start()

    # The node is back: the background indexer brings the index level with the database.
    assert wait_until_level(service)
    assert service.get("/readyz").status_code == 200
    assert service.get("/api/v1/search", params={"q": "trong khi dung"}).json()["total"] == 5


def test_a_hanging_elasticsearch_gives_503_and_nothing_hangs(service: TestClient, es_node: EsNode) -> None:
    create(service, "Trước khi treo")
    assert wait_until_level(service)
    answers: dict[str, object] = {}

    def ask() -> None:
        answers["search"] = service.get("/api/v1/search", params={"q": "treo"})
        answers["ready"] = service.get("/readyz")
        answers["write"] = service.post("/api/v1/materials", json=material_data(title="Trong khi treo"))

    with paused(es_node.pid()):
        asker = threading.Thread(target=ask, daemon=True)
        asker.start()
        # Bounded by the settings: 2 s per try, 2 tries for the search, 1 s for /readyz. A
        # generous margin; a hang (no timeout at all) would never finish.
        asker.join(timeout=60)
        assert not asker.is_alive(), "a request hung while Elasticsearch was paused"

    search, ready, write = answers["search"], answers["ready"], answers["write"]
    assert search.status_code == 503, search.text
    assert search.headers["retry-after"]
    assert search.json()["status"] == 503
    assert ready.status_code == 503
    assert ready.json()["search_backend"]["status"] == "unavailable"
    assert "timeout" in ready.json()["search_backend"]["reason"]
    assert write.status_code == 201, write.text
    # Resumed: the change made while it hung reaches the index.
    assert wait_until_level(service)
