"""Scheduled release and expiry: what `publish_at` and `expires_at` promise, carried out.

`release_due()` tells units about publications whose `publish_at` has come and gives expired
ones their tombstones. It appends feed changes under the feed lock at the moment it runs, so a
scheduled bundle enters a unit's feed with a seq newer than anything the unit has synced past:
it never appears behind a cursor. Several server processes may run it at once: the lock makes
them take turns, and each re-reads what is due after taking it, so each release and each
expiry happens once: on PostgreSQL the turn is the feed lock (an advisory lock held to the end
of the transaction, app/bundles/changelog.py) and each statement after it sees what the
previous holder committed; on SQLite the pass is a write transaction, and writers take turns
(app/db.py), reading only after their turn came.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit_service
from app.bundles import changelog, delivery
from app.bundles.models import BundlePublication
from app.config import Settings
from app.db import utcnow, writing_session
from app.worker import PeriodicWorker

log = logging.getLogger("ttdn.bundles.release")

BATCH = 200


@dataclass
class ReleaseReport:
    released: int = 0
    expired: int = 0


def _act_on(session: Session, publication: BundlePublication, now: datetime, report: ReleaseReport) -> None:
    bundle_id, version = publication.bundle_id, publication.version
    expired = publication.expires_at is not None and publication.expires_at <= now
    if publication.released_at is None and expired:
        # Expired before its release came round (the server was down): nobody saw it, nobody is told.
        publication.expired_at, publication.due_at = now, None
        audit_service.record(session, None, "bundle.expired", "bundle", bundle_id, {"version": [None, version]})
        report.expired += 1
    elif publication.released_at is None:
        told = delivery.release(session, publication, now)
        audit_service.record(session, None, "bundle.released", "bundle", bundle_id, {"units": [None, told]})
        report.released += 1
    elif expired and publication.expired_at is None:
        told = delivery.expire(session, publication, now)
        audit_service.record(session, None, "bundle.expired", "bundle", bundle_id, {"units_told": [None, told]})
        report.expired += 1
    else:
        publication.due_at = None if publication.expired_at else publication.expires_at


def anything_due(session: Session, now: datetime) -> bool:
    """One indexed query: is there a publication to release or expire?"""
    return bool(session.scalar(select(exists(select(BundlePublication).where(BundlePublication.due_at <= now)))))


def release_due(session: Session, now: datetime | None = None) -> ReleaseReport:
    """Release publications whose time has come and expire those past `expires_at`, in the
    caller's transaction (a writing one). Cheap when nothing is due: one indexed query, no lock."""
    now = now or utcnow()
    report = ReleaseReport()
    due = select(BundlePublication).where(BundlePublication.due_at <= now)
    if not anything_due(session, now):
        return report
    changelog.lock_feed(session)
    while True:
        batch = list(session.scalars(due.order_by(BundlePublication.due_at, BundlePublication.bundle_id).limit(BATCH)))
        if not batch:
            return report
        for publication in batch:
            _act_on(session, publication, now, report)
        session.flush()


class BackgroundReleaser(PeriodicWorker):
    """A daemon thread running `release_due` every `feed_release_interval_seconds` (0: never)."""

    def __init__(self, session_factory: sessionmaker[Session], settings: Settings) -> None:
        super().__init__("feed-releaser", settings.feed_release_interval_seconds)
        self._session_factory = session_factory

    def tick(self) -> float:
        self.run_once()
        return self._interval

    def run_once(self) -> ReleaseReport | None:
        """One pass in its own transaction; a failure is logged and retried next time. The
        check for work reads only, so an idle releaser never takes the write turn."""
        try:
            with self._session_factory() as session:
                if not anything_due(session, utcnow()):
                    return ReleaseReport()
            with writing_session(self._session_factory) as session:
                report = release_due(session)
                session.commit()
        except Exception:
            log.exception("releasing scheduled bundles failed; retrying in %.0f s", self._interval)
            return None
        if report.released or report.expired:
            log.info("released %d and expired %d publication(s)", report.released, report.expired)
        return report
