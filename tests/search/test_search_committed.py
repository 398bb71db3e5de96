"""GET /api/v1/search on a database of its own, committed for real (tests/live.py), with the
session factory bound to the engine as the server's is: the suite's other tests run inside one
rolled-back connection, where the version read goes through the session instead (app.db.read_alone)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.main import create_app
from app.materials.models import Material
from app.search import indexer
from app.search.factory import build_search_backend
from tests.factories import make_material
from tests.live import LiveDatabase, live_database

SEARCH = "/api/v1/search"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveDatabase]:
    with live_database(tmp_path) as database:
        yield database


def test_hits_show_the_database_when_the_copy_is_stale_or_the_material_gone(live: LiveDatabase) -> None:
    backend = build_search_backend(live.settings, live.session_factory)
    editor = live.add_user("editor@example.test", ["editor"])
    with live.session_factory() as session:
        kept = make_material(session, editor, title="Tiếng Tày cho cán bộ biên phòng", summary="Ghi chú")
        gone = make_material(session, editor, title="Tiếng Tày ở Cao Bằng", summary="Ghi chú")
        session.commit()
        kept_id, gone_id = kept.id, gone.id
    assert indexer.drain(live.session_factory, backend) == 2
    backend.refresh()
    with live.session_factory() as session:
        # Changed and deleted after indexing, their outbox rows not drained: the index still finds both.
        material = session.get(Material, kept_id)
        material.title, material.version = "Tiếng Tày, sửa lần hai", material.version + 1
        session.delete(session.get(Material, gone_id))
        session.commit()

    version_reads: list[bool] = []

    def watch(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith("SELECT materials.id, materials.version \nFROM materials"):
            # psycopg's `autocommit`; sqlite3's connections have no such attribute.
            version_reads.append(getattr(cursor.connection, "autocommit", False))

    event.listen(live.engine, "before_cursor_execute", watch)
    try:
        app = create_app(live.settings, session_factory=live.session_factory, search_backend=backend)
        headers = live.token(editor)  # one token: a token issued a second later is another string
        with TestClient(app) as client:
            # The first request of a token reads its user (then kept for two seconds,
            # app/accounts/token_cache.py): that request's session is in a transaction already.
            for _ in range(2):
                version_reads.clear()
                response = client.get(SEARCH, params={"q": "tieng tay"}, headers=headers)
    finally:
        event.remove(live.engine, "before_cursor_execute", watch)
        backend.drop()
    assert response.status_code == 200, response.text
    (item,) = response.json()["items"]
    assert (item["id"], item["title"]) == (str(kept_id), "Tiếng Tày, sửa lần hai")
    assert item["highlights"]["title"] == ["<mark>Tiếng</mark> <mark>Tày</mark>, sửa lần hai"]
    if live.engine.dialect.name == "postgresql":
        # Elasticsearch keeps copies: their versions were read once, outside a transaction
        # (the stale one is then read again whole, through the session).
        assert version_reads == [True]
