"""The outbox, the indexer and rebuilds, against the backend the configuration builds.

Where a backend that cannot be reached is needed, it is a real Elasticsearch client pointed at
a port nothing listens on (127.0.0.1:9): no server is needed for that, in either configuration.
"""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import utcnow
from app.materials import service as materials_service
from app.materials.models import Material, SearchOutbox
from app.materials.schemas import MaterialUpdate
from app.search import indexer
from app.search.backend import BackendUnavailable, SearchQuery
from app.search.documents import document_for
from app.search.elasticsearch import ElasticsearchBackend
from app.search.factory import build_elasticsearch_client
from tests.factories import make_material, principal_for

DEAD_URL = "http://127.0.0.1:9"


@pytest.fixture
def dead_backend(settings):
    return ElasticsearchBackend(build_elasticsearch_client(DEAD_URL), settings.elasticsearch_index)


def found(backend, **query):
    backend.refresh()
    return {hit.id for hit in backend.search(SearchQuery(limit=100, **query)).hits}


def backlog(session_factory):
    with session_factory() as session:
        return indexer.backlog(session)


def test_drain_sends_creates_updates_and_deletes(session, session_factory, users, search_backend, index_now):
    editor = principal_for(users["editor"])
    kept = make_material(session, users["editor"], title="Tài liệu giữ lại")
    edited = make_material(session, users["editor"], title="Tiêu đề cũ")
    gone = make_material(session, users["editor"], title="Bản nháp sẽ xoá")
    session.commit()
    assert index_now() == 3
    materials_service.update_material(
        session, edited.id, MaterialUpdate(title="Tiêu đề mới"), editor, materials_service.etag(edited)
    )
    materials_service.delete_material(session, gone.id, editor, materials_service.etag(gone))
    session.commit()
    assert backlog(session_factory) == 2
    assert index_now() == 2
    assert backlog(session_factory) == 0
    assert found(search_backend) == {kept.id, edited.id}
    assert found(search_backend, text="tieu de moi") == {edited.id}
    assert found(search_backend, text="tieu de cu") == set()


def test_drain_keeps_rows_pending_while_the_backend_is_unreachable(
    session, session_factory, users, dead_backend, search_backend
):
    materials = [make_material(session, users["editor"]) for _ in range(3)]
    session.commit()
    with pytest.raises(BackendUnavailable):
        indexer.drain(session_factory, dead_backend)
    assert backlog(session_factory) == 3
    assert indexer.drain(session_factory, search_backend, batch_size=2) == 3
    assert backlog(session_factory) == 0
    assert found(search_backend) == {m.id for m in materials}


def test_a_deleted_material_cannot_come_back_from_a_stale_copy(session, users, search_backend, index_now):
    material = make_material(session, users["editor"], title="Sẽ bị xoá")
    session.commit()
    index_now()
    stale = document_for(material)
    materials_service.delete_material(
        session, material.id, principal_for(users["editor"]), materials_service.etag(material)
    )
    session.commit()
    index_now()
    search_backend.index_many([stale])  # e.g. a slow indexer process that read it before the delete
    assert found(search_backend) == set()


def test_rebuild_replays_what_changed_while_it_copied(session, session_factory, users, search_backend, index_now):
    editor = principal_for(users["editor"])
    materials = [make_material(session, users["editor"], title=f"Bản tin số {n}") for n in range(5)]
    session.commit()
    index_now()
    changed: list[Material] = []

    def write_meanwhile(count: int) -> None:
        # What editors and the background indexer do while the copy runs: these changes reach
        # the index that is about to be replaced, and must not be lost with it.
        if changed:
            return
        target = materials[0]
        materials_service.update_material(
            session, target.id, MaterialUpdate(title="Bản tin đã sửa"), editor, materials_service.etag(target)
        )
        changed.extend([target, make_material(session, users["editor"], title="Bản tin mới thêm")])
        session.commit()
        indexer.drain(session_factory, search_backend)

    progress: list[int] = []
    count = indexer.rebuild(session_factory, search_backend, lambda n: (progress.append(n), write_meanwhile(n)))
    assert count == 5 and progress[-1] == 5
    assert found(search_backend) == {m.id for m in materials} | {changed[1].id}
    assert found(search_backend, text="ban tin da sua") == {materials[0].id}
    assert found(search_backend, text="ban tin moi them") == {changed[1].id}


def test_background_indexer_backs_off_up_to_30_seconds_and_logs_no_address(
    session, session_factory, users, settings, dead_backend, search_backend, caplog
):
    make_material(session, users["editor"])
    session.commit()
    every_second = settings.model_copy(update={"indexer_interval_seconds": 1.0})
    background = indexer.BackgroundIndexer(session_factory, dead_backend, every_second)
    with caplog.at_level(logging.WARNING, logger="ttdn.search.indexer"):
        waits = [background.run_once() for _ in range(7)]
    assert waits == [2, 4, 8, 16, 30, 30, 30]
    assert backlog(session_factory) == 1
    ours = [record.getMessage() for record in caplog.records if record.name == "ttdn.search.indexer"]
    assert len(ours) == 7 and all("unavailable" in m and "127.0.0.1" not in m for m in ours)
    healthy = indexer.BackgroundIndexer(session_factory, search_backend, every_second)
    assert healthy.run_once() == 1
    assert backlog(session_factory) == 0


def test_background_indexer_does_not_start_when_the_interval_is_zero(session_factory, settings, search_backend):
    background = indexer.BackgroundIndexer(session_factory, search_backend, settings)
    background.start()
    assert background._thread is None
    background.stop()


def test_processed_rows_are_purged_after_a_day(session, session_factory, users, index_now):
    make_material(session, users["editor"])
    session.commit()
    index_now()
    old = make_material(session, users["editor"])
    session.commit()
    index_now()
    session.execute(
        SearchOutbox.__table__.update()
        .where(SearchOutbox.material_id == old.id)
        .values(processed_at=utcnow() - timedelta(days=2))
    )
    session.commit()
    assert indexer.purge_processed(session_factory) == 1
    remaining = session.scalar(select(func.count()).select_from(SearchOutbox))
    assert remaining == 1


def test_a_claim_lasts_as_long_as_asked(session, session_factory, users):
    """A batch is reserved for `claim_for` (INDEXER_CLAIM_SECONDS), then free to claim again."""
    make_material(session, users["editor"])
    session.commit()
    before = utcnow()
    (row,) = indexer._claim(session_factory, 10, timedelta(seconds=7))
    after = utcnow()
    assert indexer._claim(session_factory, 10, timedelta(seconds=7)) == []  # still held
    with session_factory() as check:
        until = check.get(SearchOutbox, row.id).claimed_until
    until = until.replace(tzinfo=before.tzinfo) if until.tzinfo is None else until
    assert before + timedelta(seconds=7) <= until <= after + timedelta(seconds=7)


def test_the_wait_after_failures_doubles_up_to_the_set_limit(session, session_factory, users, settings, dead_backend):
    make_material(session, users["editor"])
    session.commit()
    limited = settings.model_copy(update={"indexer_interval_seconds": 1, "indexer_max_backoff_seconds": 3})
    worker = indexer.BackgroundIndexer(session_factory, dead_backend, limited)
    assert [worker.run_once() for _ in range(4)] == [2, 3, 3, 3]
    assert backlog(session_factory) == 1


def test_a_material_deleted_before_the_indexer_ran_is_neither_shown_nor_counted(
    client, auth, session, users, search_backend, index_now
):
    kept, gone = (make_material(session, users["editor"], title=f"Tin đồn bản Khe {n}") for n in ("giữ", "xoá"))
    session.commit()
    index_now()
    search_backend.refresh()
    etag = client.get(f"/api/v1/materials/{gone.id}", headers=auth("editor")).headers["etag"]
    deleted = client.delete(f"/api/v1/materials/{gone.id}", headers={**auth("editor"), "If-Match": etag})
    assert deleted.status_code == 204
    # The index still holds it (the indexer has not run): the search must not count what it cannot show.
    assert gone.id in found(search_backend, text="bản Khe")
    page = client.get("/api/v1/search", params={"q": "bản Khe"}, headers=auth("editor")).json()
    assert [i["id"] for i in page["items"]] == [str(kept.id)] and page["total"] == 1
