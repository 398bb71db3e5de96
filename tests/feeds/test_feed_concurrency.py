"""The cursor never skips a change when writers commit out of order (PostgreSQL, real connections).

Writer A appends a change and keeps its transaction open; writer B starts after it. Without the
feed lock, B would draw a larger seq, commit first, and a reader could move its cursor past A's
seq before A commits, skipping A's change for ever. With the lock, B waits for A (seen in
pg_locks), so seq order is commit order and a reader never gets ahead of an uncommitted change.
On SQLite a single writer holds the database until commit, which the sequential delta tests cover.
"""

import threading
import time

import pytest
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from app.bundles import changelog
from app.bundles.models import Bundle, BundlePublication
from app.db import new_id, utcnow
from app.feeds.service import FeedCursor, feed_page
from app.units.models import Unit

WAIT_SECONDS = 20


def _committed_unit_and_bundle(engine):
    now = utcnow()
    unit = Unit(id=new_id(), code=f"CONC-{new_id().hex[:8]}", name="Đơn vị đồng thời", type="other", border_routes=[])
    bundle = Bundle(id=new_id(), title="Gói đồng thời", items=[], targets={}, status="published", published_version=1)
    publication = BundlePublication(
        bundle_id=bundle.id, version=1, title="Gói đồng thời", priority="normal", items=[], targets={}, release_at=now
    )
    with Session(engine, expire_on_commit=False) as session:
        session.add_all([unit, bundle])
        session.flush()
        session.add(publication)
        session.commit()
    return unit.id, bundle.id


def _wait_for_lock_waiter(engine) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = :key")
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(query, {"key": changelog.FEED_LOCK}).scalar():
                return True
            time.sleep(0.05)
    return False


def _read(engine, unit_id, since):
    with Session(engine) as reader:
        page = feed_page(reader, unit_id, FeedCursor.decode(since) if since else None, 100)
    return [(item.change, item.updated_at) for item in page.items], page.cursor


def test_cursor_never_skips_a_change_committed_out_of_order(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has a single writer: the sequential delta tests cover it")
    unit_id, bundle_id = _committed_unit_and_bundle(engine)
    b_inserted, b_may_commit, b_errors = threading.Event(), threading.Event(), []

    def writer_b() -> None:
        try:
            with Session(engine) as session_b:
                changelog.append(session_b, [(unit_id, bundle_id, 1, "updated")])
                b_inserted.set()
                b_may_commit.wait(WAIT_SECONDS)
                session_b.commit()
        except Exception as exc:  # reported by the main thread
            b_errors.append(exc)
            b_inserted.set()

    session_a = Session(engine)
    try:
        changelog.append(session_a, [(unit_id, bundle_id, 1, "published")])  # A holds the lock, uncommitted
        thread = threading.Thread(target=writer_b)
        thread.start()
        assert _wait_for_lock_waiter(engine), "writer B should be waiting for the feed lock"
        assert not b_inserted.is_set()

        seen, cursor = _read(engine, unit_id, None)  # nothing committed yet
        assert seen == []

        session_a.commit()  # A commits late; B can now draw its seq and insert, but not commit yet
        assert b_inserted.wait(WAIT_SECONDS) and not b_errors
        seen_a, cursor = _read(engine, unit_id, cursor)
        assert [change for change, _ in seen_a] == ["published"]  # A's change, and not past B's uncommitted one

        b_may_commit.set()
        thread.join(WAIT_SECONDS)
        assert not b_errors
        seen_b, cursor = _read(engine, unit_id, cursor)
        assert [change for change, _ in seen_b] == ["updated"]  # B's change is after the cursor: nothing skipped
        assert _read(engine, unit_id, cursor)[0] == []
    finally:
        b_may_commit.set()
        session_a.close()
        with Session(engine) as cleanup:
            cleanup.execute(delete(Bundle).where(Bundle.id == bundle_id))
            cleanup.execute(delete(Unit).where(Unit.id == unit_id))
            cleanup.commit()
