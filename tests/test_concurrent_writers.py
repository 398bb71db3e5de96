"""Concurrent writers against the real app, on a database of its own (tests/live.py).

Writer threads create materials, change them with If-Match, create units and issue keys, all at
once, while the background indexer and releaser run. Every answer must be below 500, and every
row answered 201 must be in the database afterwards. On SQLite, before writers took turns
(app/db.py), about half of these requests failed with "database is locked". Counts only: how
long anything took is for bench/write_load.py.
"""

import sqlite3
import threading
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import WriterBusy, WriterQueue
from app.main import create_app
from app.materials.models import Material
from app.units.models import Unit
from tests.conftest import CONFIG
from tests.live import LiveDatabase, live_database, unique

THREADS = 8
ROUNDS = 6


def _writer(client: TestClient, db: LiveDatabase, editor: dict, admin: dict, results: dict) -> None:
    for i in range(ROUNDS):
        created = client.post(
            "/api/v1/materials", json={"title": f"Bài viết {i}", "kind": "article", "language": "vi"}, headers=editor
        )
        results["statuses"].append(created.status_code)
        if created.status_code != 201:
            continue
        material_id = created.json()["id"]
        results["materials"].append(material_id)
        changed = client.patch(
            f"/api/v1/materials/{material_id}",
            json={"summary": f"Tóm tắt {i}"},
            headers={**editor, "If-Match": created.headers["ETag"]},
        )
        results["statuses"].append(changed.status_code)
        code = unique("CW")
        unit = client.post("/api/v1/units", json={"code": code, "name": code, "type": "police"}, headers=admin)
        results["statuses"].append(unit.status_code)
        if unit.status_code == 201:
            results["units"].append(unit.json()["id"])
            key = client.post(f"/api/v1/units/{unit.json()['id']}/keys", headers=admin)
            results["statuses"].append(key.status_code)


def test_concurrent_writers_all_succeed_and_nothing_is_lost(tmp_path):
    with live_database(tmp_path, indexer_interval_seconds=0.05, feed_release_interval_seconds=0.05) as db:
        editor = db.token(db.add_user("cw-editor@example.test", ["editor"]))
        admin = db.token(db.add_user("cw-admin@example.test", ["admin"]))
        results: dict[str, list] = {"statuses": [], "materials": [], "units": []}
        with TestClient(create_app(db.settings), raise_server_exceptions=False) as client:
            threads = [
                threading.Thread(target=_writer, args=(client, db, editor, admin, results)) for _ in range(THREADS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        with db.session_factory() as session:
            materials = set(session.scalars(select(Material.id)))
            units = set(session.scalars(select(Unit.id)))
    statuses = Counter(results["statuses"])
    assert statuses == {201: THREADS * ROUNDS * 3, 200: THREADS * ROUNDS}, statuses
    assert {str(m) for m in materials} >= set(results["materials"])
    assert {str(u) for u in units} >= set(results["units"])
    assert len(results["materials"]) == len(results["units"]) == THREADS * ROUNDS


def test_writer_queue_serves_in_order_and_refuses_past_its_bounds():
    queue = WriterQueue(wait_seconds=0.2, max_waiting=1)
    queue.acquire()
    order: list[str] = []
    waiting = threading.Event()

    def second() -> None:
        waiting.set()
        try:
            queue.acquire()
            order.append("second")
            queue.release()
        except WriterBusy:
            order.append("refused")

    # One waiter may queue; a second one is refused at once (the queue is full).
    queue.wait_seconds = 30
    thread = threading.Thread(target=second)
    thread.start()
    waiting.wait()
    while queue.waiting == 0:
        threading.Event().wait(0.01)
    try:
        queue.acquire()
        raise AssertionError("a full queue must refuse")
    except WriterBusy as refused:
        assert refused.status == 503 and refused.headers["Retry-After"]
    order.append("first")
    queue.release()
    thread.join()
    assert order == ["first", "second"]
    # Nobody holds it now: taken at once; while held, a waiter gives up after its wait.
    queue.wait_seconds = 0.05
    queue.acquire()
    try:
        queue.acquire()
        raise AssertionError("a held turn must time out")
    except WriterBusy as timed_out:
        assert timed_out.status == 503
    queue.release()
    queue.acquire()
    queue.release()


@pytest.mark.skipif(CONFIG != "sqlite", reason="SQLite's write lock; PostgreSQL writers lock rows, not the database")
def test_a_writer_that_gets_no_turn_is_a_503_with_retry_after(tmp_path):
    """Another process holds SQLite's write lock for longer than a writer may wait: the answer
    is 503 problem+json with Retry-After, nothing is written, and the next write succeeds."""
    with live_database(tmp_path, write_wait_seconds=0.2) as db:
        editor = db.token(db.add_user("busy-editor@example.test", ["editor"]))
        body = {"title": "Chờ lượt ghi", "kind": "article", "language": "vi"}
        other_process = sqlite3.connect(db.settings.data_dir / "ttdn.sqlite3", isolation_level=None)
        with TestClient(create_app(db.settings), raise_server_exceptions=False) as client:
            other_process.execute("BEGIN IMMEDIATE")
            try:
                refused = client.post("/api/v1/materials", json=body, headers=editor)
                reading = client.get("/api/v1/materials", headers=editor)
            finally:
                other_process.execute("ROLLBACK")
                other_process.close()
            accepted = client.post("/api/v1/materials", json=body, headers=editor)
        with db.session_factory() as session:
            stored = session.scalars(select(Material.title)).all()
    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["status"] == 503
    assert reading.status_code == 200  # reads never wait for writers
    assert accepted.status_code == 201
    assert stored == ["Chờ lượt ghi"]
