"""Elasticsearch only: an outage loses nothing, and rebuilds swap the alias.

These tests exist only for TTDN_TEST_CONFIG=postgres-es. In the sqlite run they are
deselected (`__test__` below is false, so pytest collects nothing here); they are never
skipped: with postgres-es they run, and fail if Elasticsearch cannot be reached.
"""

import dataclasses
import os
import uuid

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.main import create_app
from app.materials.models import Material
from app.search import elasticsearch as elasticsearch_module
from app.search import indexer
from app.search.backend import BackendUnavailable
from app.search.documents import document_for
from app.search.elasticsearch import ElasticsearchBackend, IndexingFailed
from app.search.factory import build_elasticsearch_client, index_settings
from tests.factories import make_material, material_data

__test__ = os.environ.get("TTDN_TEST_CONFIG", "sqlite") == "postgres-es"

DEAD_URL = "http://127.0.0.1:9"


@pytest.fixture
def dead_backend(settings):
    return ElasticsearchBackend(build_elasticsearch_client(DEAD_URL), settings.elasticsearch_index)


@pytest.fixture
def outage_client(settings, session_factory, dead_backend):
    """The application with Elasticsearch down (a port nothing listens on)."""
    app = create_app(settings, session_factory=session_factory, search_backend=dead_backend)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def indexed_versions(backend: ElasticsearchBackend) -> dict[str, int]:
    backend.refresh()
    response = backend.client.search(index=backend.alias, size=1000, version=True, source=False)
    return {hit["_id"]: hit["_version"] for hit in response["hits"]["hits"]}


def database_versions(session) -> dict[str, int]:
    return {str(m.id): m.version for m in session.scalars(select(Material))}


def test_an_outage_loses_nothing(session, session_factory, outage_client, auth, search_backend, index_now):
    editor = auth("editor")
    before = outage_client.post("/api/v1/materials", json=material_data(title="Trước sự cố"), headers=editor)
    assert before.status_code == 201
    index_now()  # the live backend has version 1

    # Elasticsearch goes down: writes keep working, the changes wait in the outbox.
    made = [
        outage_client.post("/api/v1/materials", json=material_data(title=f"Trong sự cố {n}"), headers=editor)
        for n in range(3)
    ]
    assert all(response.status_code == 201 for response in made)
    edit = outage_client.patch(
        before.headers["location"],
        json={"title": "Sửa trong sự cố"},
        headers={**editor, "If-Match": before.headers["etag"]},
    )
    assert edit.status_code == 200, edit.text
    removed = outage_client.delete(made[0].headers["location"], headers={**editor, "If-Match": made[0].headers["etag"]})
    assert removed.status_code == 204, removed.text

    with pytest.raises(BackendUnavailable):
        indexer.drain(session_factory, outage_client.app.state.search_backend)
    ready = outage_client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["indexing_backlog"] == 5
    assert ready.json()["search_backend"]["status"] == "unavailable"
    assert outage_client.get("/api/v1/search", headers=editor).status_code == 503

    # Elasticsearch is back: one drain brings it level with the database.
    assert indexer.drain(session_factory, search_backend) == 5
    with session_factory() as check:
        assert indexer.backlog(check) == 0
        assert indexed_versions(search_backend) == database_versions(check)
    assert len(indexed_versions(search_backend)) == 3


def test_rebuild_moves_the_alias_and_removes_the_old_index(session, session_factory, users, search_backend, index_now):
    materials = [make_material(session, users["editor"], title=f"Bản tin {n}") for n in range(3)]
    session.commit()
    index_now()
    first = search_backend.client.indices.get_alias(name=search_backend.alias)
    assert list(first) == [f"{search_backend.alias}-initial"]
    assert indexer.rebuild(session_factory, search_backend) == 3
    second = list(search_backend.client.indices.get_alias(name=search_backend.alias))
    assert len(second) == 1 and second != list(first)
    assert not search_backend.client.indices.exists(index=f"{search_backend.alias}-initial")
    assert indexed_versions(search_backend) == {str(m.id): m.version for m in materials}


def test_rebuild_fills_without_refreshes_or_replicas_then_restores_the_configured_ones(
    session, session_factory, users, settings, search_backend
):
    configured = settings.model_copy(update={"elasticsearch_replicas": "0-1", "elasticsearch_refresh_interval": "5s"})
    backend = ElasticsearchBackend(
        search_backend.client, search_backend.alias, index_settings=index_settings(configured)
    )
    make_material(session, users["editor"], title="Bản tin dựng lại")
    session.commit()
    seen_while_filling = []

    def progress(done):  # called while the new index is filled, before the alias moves
        seen_while_filling.extend(backend.client.indices.get_settings(index=f"{backend.alias}-2*").values())

    assert indexer.rebuild(session_factory, backend, on_progress=progress) == 1
    filling = seen_while_filling[0]["settings"]["index"]
    assert (filling["refresh_interval"], filling["number_of_replicas"], filling["auto_expand_replicas"]) == (
        "-1",
        "0",
        "false",
    )
    (index,) = backend.client.indices.get_alias(name=backend.alias)
    final = backend.client.indices.get_settings(index=index)[index]["settings"]["index"]
    assert (final["refresh_interval"], final["auto_expand_replicas"]) == ("5s", "0-1")


def test_rebuild_with_two_requests_in_flight_reports_in_order_and_stops_at_a_failure(
    session, session_factory, users, search_backend, index_now, monkeypatch
):
    monkeypatch.setattr(elasticsearch_module, "BULK_CHUNK", 2)
    materials = [make_material(session, users["editor"], title=f"Bản tin {n}") for n in range(5)]
    session.commit()
    index_now()
    progress: list[int] = []
    assert indexer.rebuild(session_factory, search_backend, on_progress=progress.append) == 5
    assert progress == [2, 4, 5]  # three requests, finished and reported in order
    assert indexed_versions(search_backend) == {str(m.id): m.version for m in materials}

    before = search_backend.client.indices.get_alias(name=search_backend.alias)
    sent = []
    bulk = search_backend._bulk

    def second_fails(operations):
        sent.append(operations)
        if len(sent) == 2:
            raise BackendUnavailable("the cluster went away")
        bulk(operations)

    monkeypatch.setattr(search_backend, "_bulk", second_fails)
    with pytest.raises(BackendUnavailable):
        indexer.rebuild(session_factory, search_backend)
    # The alias still points at the index it had; the half-filled one is gone.
    assert search_backend.client.indices.get_alias(name=search_backend.alias) == before
    assert list(search_backend.client.indices.get(index=f"{search_backend.alias}-*")) == list(before)


def test_bulk_keeps_a_newer_stored_version_and_names_a_refused_document(session, users, search_backend):
    material = make_material(session, users["editor"], title="Bản tin phiên bản")
    session.commit()
    newer = document_for(material)
    search_backend.index_many([newer])
    older = dataclasses.replace(newer, version=newer.version - 1, title="Bản cũ")
    # Sent again, older: the conflict is what is wanted, not a failure, and the newer copy stays.
    search_backend.index_many([older, newer])
    assert indexed_versions(search_backend) == {str(material.id): material.version}
    assert search_backend.client.get(index=search_backend.alias, id=str(material.id))["_source"]["title"] == newer.title

    # A document the mapping refuses, among good ones: the failure names it and why.
    bad_id = str(uuid.uuid4())
    body = orjson.dumps({"index": {"_index": search_backend.alias, "_id": bad_id}}) + b"\n"
    body += orjson.dumps({"id": bad_id, "updated_at": "not a date"}) + b"\n"
    with pytest.raises(IndexingFailed) as refused:
        search_backend._bulk(body)
    message = str(refused.value)
    assert message.startswith("1 document(s) refused") and "document_parsing_exception" in message
    assert bad_id in message and "updated_at" in message


def test_search_answers_503_while_elasticsearch_is_down(outage_client, auth):
    response = outage_client.get("/api/v1/search", params={"q": "mong"}, headers=auth("analyst"))
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "127.0.0.1" not in response.text
