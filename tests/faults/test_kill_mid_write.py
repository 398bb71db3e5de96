"""`ttdn serve`, a real process, killed with SIGKILL while clients write; then restarted.

Runs on both configurations: a SQLite file (sqlite), or a fresh PostgreSQL database and an
index of its own on the suite's Elasticsearch (postgres-es). Bounded in count: the kill comes
once KILL_AFTER creates have been acknowledged.
"""

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from app.audit.models import AuditRecord
from app.db import build_engine, build_session_factory
from app.materials.models import Material, MaterialRevision, SearchOutbox
from tests.factories import material_data
from tests.faults.servers import SERVE_PORT_BASE, ServeProcess, add_editor, prepare_database

CONFIG = os.environ.get("TTDN_TEST_CONFIG", "sqlite")
WRITERS = 4
KILL_AFTER = 40
# Changes the killed server had claimed for indexing wait until its claim runs out
# (INDEXER_CLAIM_SECONDS, shortened here) before the restarted server takes them: that, plus
# time to index them.
CLAIM_SECONDS = 10
CATCH_UP_SECONDS = CLAIM_SECONDS + 60


@pytest.fixture
def deployment(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[dict[str, str], Engine]]:
    """The environment `ttdn serve` runs with, and an engine on the same (migrated) database."""
    env = {
        "APP_ENV": "test",
        "DATA_DIR": str(tmp_path),
        "INDEXER_INTERVAL_SECONDS": "0.2",
        "INDEXER_CLAIM_SECONDS": str(CLAIM_SECONDS),
        "FEED_RELEASE_INTERVAL_SECONDS": "0",
    }
    index = None
    if CONFIG == "postgres-es":
        env["DATABASE_URL"] = request.getfixturevalue("scratch_postgres").new_database()
        index = f"ttdn-kill-{uuid.uuid4().hex[:8]}"
        env["ELASTICSEARCH_URL"] = os.environ["TEST_ELASTICSEARCH_URL"]
        env["ELASTICSEARCH_INDEX"] = index
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'ttdn.sqlite3'}"
    engine = build_engine(env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    if CONFIG != "postgres-es":
        prepare_database(engine)
    yield env, engine
    engine.dispose()
    if index:
        client = Elasticsearch(env["ELASTICSEARCH_URL"])
        client.options(ignore_status=404).indices.delete(index=f"{index}*")


def write_until_stopped(base_url: str, headers: dict[str, str], acked: dict[str, int], stop: threading.Event) -> None:
    """Create, then edit, materials; record every version the server acknowledged."""
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        while not stop.is_set():
            try:
                made = client.post("/api/v1/materials", json=material_data(title=f"Ghi {uuid.uuid4().hex[:6]}"))
                if made.status_code != 201:
                    continue
                acked[made.json()["id"]] = 1
                edited = client.patch(
                    made.headers["location"], json={"summary": "Đã sửa"}, headers={"If-Match": made.headers["etag"]}
                )
                if edited.status_code == 200:
                    acked[made.json()["id"]] = edited.json()["version"]
            except httpx.TransportError:
                return  # the server is gone


def half_written(engine: Engine) -> list[str]:
    """Materials missing a revision of any of their versions, their outbox row, or their audit."""
    problems = []
    with build_session_factory(engine)() as session:
        for material in session.scalars(select(Material)):
            versions = set(
                session.scalars(select(MaterialRevision.version).where(MaterialRevision.material_id == material.id))
            )
            queued = session.scalar(
                select(func.count())
                .select_from(SearchOutbox)
                .where(SearchOutbox.material_id == material.id, SearchOutbox.version == material.version)
            )
            audited = session.scalar(
                select(func.count()).select_from(AuditRecord).where(AuditRecord.entity_id == str(material.id))
            )
            if versions != set(range(1, material.version + 1)) or not queued or audited != material.version:
                problems.append(f"{material.id} v{material.version}: {versions} {queued} {audited}")
    return problems


def test_sigkill_mid_write_loses_nothing_acknowledged(deployment, tmp_path: Path) -> None:
    env, engine = deployment
    headers = add_editor(engine)
    port = SERVE_PORT_BASE + (1 if CONFIG == "postgres-es" else 0)
    server = ServeProcess(env, port, tmp_path / "serve.log")
    server.start()
    acked: dict[str, int] = {}
    stop = threading.Event()
    writers = [
        threading.Thread(target=write_until_stopped, args=(server.base_url, headers, acked, stop), daemon=True)
        for _ in range(WRITERS)
    ]
    try:
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 120
        while len(acked) < KILL_AFTER and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(acked) >= KILL_AFTER, f"only {len(acked)} creates acknowledged"
        server.kill()  # SIGKILL, in the middle of the writers' requests
    finally:
        stop.set()
        server.kill()
        for writer in writers:
            writer.join(timeout=30)

    server.start()
    try:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
            for material_id, version in acked.items():
                found = client.get(f"/api/v1/materials/{material_id}")
                assert found.status_code == 200, f"acknowledged {material_id} is gone"
                assert found.json()["version"] >= version
            assert half_written(engine) == []

            # Search catches up with every material the database has.
            with build_session_factory(engine)() as session:
                total = session.scalar(select(func.count()).select_from(Material))
            deadline = time.monotonic() + CATCH_UP_SECONDS
            found_total = -1
            while time.monotonic() < deadline:
                ready = client.get("/readyz").json()
                if ready["indexing_backlog"] == 0:
                    found_total = client.get("/api/v1/search", params={"limit": 1}).json()["total"]
                    if found_total == total:
                        break
                time.sleep(0.3)
            assert found_total == total
    finally:
        server.stop()
