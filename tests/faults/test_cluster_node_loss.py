"""A two-node cluster loses its data node while clients write and search, then gets it back.

postgres-es only. The nodes come from scripts/es-node.sh (small heaps); the service is given
both hosts in ELASTICSEARCH_URL and one replica.
"""

import os
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import build_engine, build_session_factory
from app.main import create_app
from app.search.backend import BackendUnavailable, SearchQuery
from app.search.factory import build_search_backend
from tests.factories import material_data
from tests.faults.servers import SECRET_KEY, EsNode, ScratchPostgres, add_editor
from tests.faults.test_elasticsearch_faults import wait_until_level

__test__ = os.environ.get("TTDN_TEST_CONFIG", "sqlite") == "postgres-es"

WAIT_SECONDS = 120


@pytest.fixture
def service(tmp_path, cluster: list[EsNode], scratch_postgres: ScratchPostgres) -> Iterator[TestClient]:
    settings = Settings(
        app_env="test",
        data_dir=tmp_path,
        secret_key=SECRET_KEY,
        database_url=scratch_postgres.new_database(),
        elasticsearch_url=",".join(node.url for node in cluster),
        elasticsearch_index=f"ttdn-cluster-{uuid.uuid4().hex[:8]}",
        # One replica, fixed: with the default "0-1" Elasticsearch would drop the replica when a
        # node goes and report green, which is true but would not show the yellow state.
        elasticsearch_replicas="1",
        elasticsearch_request_timeout=5,
        indexer_interval_seconds=0.2,
        feed_release_interval_seconds=0,
    )
    engine = build_engine(settings.sqlalchemy_url)
    app = create_app(settings, session_factory=build_session_factory(engine))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(add_editor(engine))
        client.app.state.settings = settings
        yield client
        client.app.state.search_backend.drop()
    engine.dispose()


def wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"not {what} within {WAIT_SECONDS} s")


def status_of(client: TestClient) -> str:
    return client.get("/readyz").json()["search_backend"]["status"]


def test_search_and_writes_go_on_when_a_node_is_lost(service: TestClient, cluster: list[EsNode]) -> None:
    _, data_node = cluster
    admin = Elasticsearch(cluster[0].url)
    for n in range(5):
        assert service.post("/api/v1/materials", json=material_data(title=f"Cụm {n}")).status_code == 201
    assert wait_until_level(service)
    wait_for(lambda: status_of(service) == "green", "green with a replica on each node")

    # An index with two primaries and no replica, one primary per node: it turns red when a
    # node goes, which /readyz must say of a service using it.
    settings: Settings = service.app.state.settings
    fragile = build_search_backend(
        settings.model_copy(
            update={
                "elasticsearch_index": f"ttdn-fragile-{uuid.uuid4().hex[:8]}",
                "elasticsearch_shards": 2,
                "elasticsearch_replicas": "0",
            }
        ),
        None,
    )
    fragile.ensure_ready()
    admin.indices.put_settings(
        index=f"{fragile.alias}*", settings={"index.routing.allocation.total_shards_per_node": 1}
    )
    wait_for(lambda: fragile.health()["status"] == "green", "fragile index green")

    statuses: dict[str, list[int]] = {"write": [], "search": []}
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            made = service.post(
                "/api/v1/materials", json=material_data(title=f"Trong lúc mất nút {uuid.uuid4().hex[:4]}")
            )
            statuses["write"].append(made.status_code)
            statuses["search"].append(service.get("/api/v1/search", params={"q": "cum"}).status_code)

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    try:
        data_node.stop()
        wait_for(lambda: status_of(service) == "yellow", "yellow after losing the data node")
        assert service.get("/readyz").status_code == 200  # yellow: every search and write still served
        assert fragile.health()["status"] == "red"
        with pytest.raises(BackendUnavailable):
            fragile.search(SearchQuery(text="cum"))
        written = len(statuses["write"])
        wait_for(lambda: len(statuses["write"]) >= written + 5, "more writes while a node is down")
    finally:
        stop.set()
        loader.join(timeout=60)
        data_node.start()
    try:
        assert statuses["write"] and set(statuses["write"]) == {201}
        assert statuses["search"] and set(statuses["search"]) == {200}
        wait_for(lambda: status_of(service) == "green", "green again")
        assert wait_until_level(service)
    finally:
        fragile.drop()
