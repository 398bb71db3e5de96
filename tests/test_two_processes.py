"""Two real `ttdn serve` processes on one database, as with `--workers 2` or two replicas.

Each process runs its own background indexer and releaser. On this configuration's database
(tests/live.py: a SQLite file in a shared DATA_DIR, or a PostgreSQL schema and Elasticsearch
indices of their own), the test shows:
- writes sent to both processes at once all succeed;
- every outbox change is indexed exactly once: the two processes' counts of changes sent add up
  to the number of outbox rows, and search finds every material;
- a scheduled release and its expiry each happen once, with both releasers running;
- a key revoked through one process is refused by the other within KEY_CACHE_SECONDS.
"""

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select

from app.audit.models import AuditRecord
from app.bundles.models import FeedChange
from app.materials.models import SearchOutbox
from app.units.keys import KEY_CACHE_SECONDS
from tests.factories import make_material
from tests.live import LiveDatabase, ServerProcess, live_database, serve, unique

WRITERS_PER_SERVER = 3
CREATES_PER_WRITER = 6
SCHEDULED_BUNDLES = 3
WAIT_LIMIT = 90.0  # seconds; a bound on each wait below, never an expectation of speed


def _wait_for(what: str, check) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def _create_materials(server: ServerProcess, headers: dict, token: str, ids: list, statuses: list) -> None:
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        for i in range(CREATES_PER_WRITER):
            body = {"title": f"Hai tiến trình {token} {i}", "kind": "news", "language": "vi"}
            response = client.post("/api/v1/materials", json=body, headers=headers)
            statuses.append(response.status_code)
            if response.status_code == 201:
                ids.append(response.json()["id"])


def _indexed_here(server: ServerProcess) -> float:
    metrics = httpx.get(server.base_url + "/metrics", timeout=10).text
    found = re.search(r"^ttdn_search_changes_indexed_total (\S+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _concurrent_writes_are_indexed_once(db: LiveDatabase, servers: list[ServerProcess], editor: dict) -> None:
    token = unique("hp").replace("-", "")
    ids: list[str] = []
    statuses: list[int] = []
    writers = [
        threading.Thread(target=_create_materials, args=(server, editor, token, ids, statuses))
        for server in servers
        for _ in range(WRITERS_PER_SERVER)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    expected = len(servers) * WRITERS_PER_SERVER * CREATES_PER_WRITER
    assert statuses == [201] * expected

    def all_processed() -> bool:
        with db.session_factory() as session:
            return not session.scalar(select(func.count()).where(SearchOutbox.processed_at.is_(None)))

    _wait_for("the outbox to drain", all_processed)
    with db.session_factory() as session:
        outbox_rows = session.scalar(select(func.count()).select_from(SearchOutbox))
    assert outbox_rows == expected
    # Which process sends a given change is the scheduler's choice (one indexer may claim every
    # batch while the other sleeps), so only the sum is a property of the system.
    assert sum(_indexed_here(server) for server in servers) == outbox_rows

    def searchable() -> bool:
        found = httpx.get(servers[1].base_url + "/api/v1/search", params={"q": token}, headers=editor, timeout=30)
        return found.status_code == 200 and found.json()["total"] == expected

    _wait_for("search to find every material", searchable)


def _scheduled_bundles_release_once(db: LiveDatabase, servers: list[ServerProcess], users: dict, unit_id: str) -> None:
    with db.session_factory() as session:
        material_ids = [str(make_material(session, users["editor_user"], status="approved").id) for _ in range(2)]
        session.commit()
    now = datetime.now(UTC)
    bundle_ids = []
    for n in range(SCHEDULED_BUNDLES):
        body = {
            "title": f"Gói hẹn giờ {n}",
            "description": "Phát hành theo lịch.",
            "items": [{"material_id": m} for m in material_ids],
            "targets": {"units": [unit_id]},
            # Far enough ahead that creating and publishing them all (slow on a crowded machine)
            # ends before they are due: then both releasers compete to release them.
            "publish_at": (now + timedelta(seconds=30)).isoformat(),
            "expires_at": (now + timedelta(seconds=35)).isoformat(),
        }
        created = httpx.post(servers[0].base_url + "/api/v1/bundles", json=body, headers=users["editor"], timeout=30)
        assert created.status_code == 201, created.text
        bundle_id = created.json()["id"]
        published = httpx.post(
            f"{servers[1].base_url}/api/v1/bundles/{bundle_id}/publish", headers=users["reviewer"], timeout=30
        )
        assert published.status_code == 200, published.text
        bundle_ids.append(bundle_id)

    def count(action: str) -> int:
        with db.session_factory() as session:
            return session.scalar(
                select(func.count()).where(AuditRecord.action == action, AuditRecord.entity_id.in_(bundle_ids))
            )

    _wait_for("the scheduled bundles to expire", lambda: count("bundle.expired") == SCHEDULED_BUNDLES)
    time.sleep(1.0)  # both releasers get more passes in which a second release could happen
    assert count("bundle.released") == SCHEDULED_BUNDLES
    assert count("bundle.expired") == SCHEDULED_BUNDLES
    with db.session_factory() as session:
        changes = session.execute(
            select(FeedChange.bundle_id, FeedChange.kind).where(FeedChange.bundle_id.in_(bundle_ids))
        ).all()
    assert len(changes) == 2 * SCHEDULED_BUNDLES  # per bundle: released once, expired once
    assert len({(bundle_id, kind) for bundle_id, kind in changes}) == 2 * SCHEDULED_BUNDLES


def _revoked_key_is_refused_everywhere(servers: list[ServerProcess], admin: dict, unit_id: str, key: dict) -> None:
    one, other = servers
    unit_headers = {"Authorization": f"Bearer {key['key']}"}
    assert httpx.get(other.base_url + "/api/v1/feed", headers=unit_headers, timeout=30).status_code == 200
    assert httpx.get(one.base_url + "/api/v1/feed", headers=unit_headers, timeout=30).status_code == 200
    revoked = httpx.delete(f"{one.base_url}/api/v1/units/{unit_id}/keys/{key['id']}", headers=admin, timeout=30)
    assert revoked.status_code == 204, revoked.text
    revoked_at = time.monotonic()
    assert httpx.get(one.base_url + "/api/v1/feed", headers=unit_headers, timeout=30).status_code == 401
    # The other process may still hold the key in its cache, but for KEY_CACHE_SECONDS at most.
    time.sleep(max(0.0, KEY_CACHE_SECONDS - (time.monotonic() - revoked_at)))
    assert httpx.get(other.base_url + "/api/v1/feed", headers=unit_headers, timeout=30).status_code == 401


def test_two_processes_on_one_database(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with live_database(data_dir) as db:
        editor_user = db.add_user("tp-editor@example.test", ["editor"])
        users = {
            "editor_user": editor_user,
            "editor": db.token(editor_user),
            "reviewer": db.token(db.add_user("tp-reviewer@example.test", ["reviewer"])),
            "admin": db.token(db.add_user("tp-admin@example.test", ["admin"])),
        }
        env = {**db.env, "INDEXER_INTERVAL_SECONDS": "0.2", "FEED_RELEASE_INTERVAL_SECONDS": "0.2"}
        with serve(env, tmp_path / "a.log") as a, serve(env, tmp_path / "b.log") as b:
            servers = [a, b]
            code = unique("TP")
            unit = httpx.post(
                a.base_url + "/api/v1/units",
                json={"code": code, "name": code, "type": "border_guard_post"},
                headers=users["admin"],
                timeout=30,
            )
            assert unit.status_code == 201, unit.text
            unit_id = unit.json()["id"]
            key = httpx.post(f"{b.base_url}/api/v1/units/{unit_id}/keys", headers=users["admin"], timeout=30)
            assert key.status_code == 201, key.text

            _concurrent_writes_are_indexed_once(db, servers, users["editor"])
            _scheduled_bundles_release_once(db, servers, users, unit_id)
            _revoked_key_is_refused_everywhere(servers, users["admin"], unit_id, key.json())
        for server in servers:
            assert not re.search(r'HTTP/1.1" 5\d\d ', server.log.read_text())  # no 5xx, none at all
