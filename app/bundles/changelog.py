"""The feed change log: appending in commit order, and what each unit currently sees.

Why a cursor (the last `seq` a unit read) never skips a change
---------------------------------------------------------------
A sequence hands out numbers when rows are inserted, not when their transactions commit. If
transaction A took seq 10 and B took seq 11, and B committed first, a reader could see 11, move
its cursor to 11, and never see 10 once A commits. So every writer of this table first takes one
lock that is held until its transaction ends, and only then inserts:

- PostgreSQL: `pg_advisory_xact_lock(FEED_LOCK)`, released by COMMIT or ROLLBACK. While A holds
  it, B waits before drawing any seq; B's numbers are therefore drawn after A committed, so they
  are larger than all of A's and B commits after A. Seq order is commit order. A reader whose
  snapshot shows B's rows was taken after B committed, hence after A committed: it shows A's rows
  too. No reader can see a seq while a smaller one is still uncommitted, so "everything after my
  cursor" is exactly what the reader has not seen. Readers take no lock and never wait.
- SQLite allows one writer at a time: the first write takes the database's write lock and keeps
  it until commit, so the same argument holds with no extra lock. `AUTOINCREMENT` (sqlite_autoincrement)
  makes sure a seq is never reused.

The lock is taken at the start of every operation that writes deliveries or feed changes
(publish, recall, release, expiry, delivery to a new unit), so those operations also serialise
with each other and read a state no concurrent writer can change under them. It is held only
by such writes, which are rare; reads of feeds never take it.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, case, func, insert, or_, select, text
from sqlalchemy.orm import Session, contains_eager

from app.bundles.models import BundlePublication, FeedChange
from app.db import utcnow

# An arbitrary constant naming "the feed change log" among PostgreSQL advisory locks.
FEED_LOCK = 0x7454444E  # "tTDN"
INSERT_CHUNK = 1000


def lock_feed(session: Session) -> None:
    """Serialise writers of the change log until this transaction ends (see the module docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK})


ChangeRow = tuple[uuid.UUID, uuid.UUID, int, str]  # (unit_id, bundle_id, bundle_version, kind)


def append(session: Session, rows: Sequence[ChangeRow]) -> None:
    """Change rows in bulk, under the feed lock, in a fixed order."""
    if not rows:
        return
    lock_feed(session)
    now = utcnow()
    values = [
        {"unit_id": unit_id, "bundle_id": bundle_id, "bundle_version": version, "kind": kind, "at": now}
        for unit_id, bundle_id, version, kind in sorted(rows, key=lambda row: (str(row[1]), str(row[0])))
    ]
    for start in range(0, len(values), INSERT_CHUNK):
        session.execute(insert(FeedChange), values[start : start + INSERT_CHUNK])


Seen = tuple[str, int]  # (kind, bundle_version) of the latest change


def _latest(session: Session, group: Any, *conditions: Any) -> dict[uuid.UUID, Seen]:
    latest = (
        select(group.label("key"), func.max(FeedChange.seq).label("seq")).where(*conditions).group_by(group).subquery()
    )
    rows = session.execute(
        select(latest.c.key, FeedChange.kind, FeedChange.bundle_version).join(latest, FeedChange.seq == latest.c.seq)
    )
    return {key: (kind, version) for key, kind, version in rows}


def latest_for_bundle(session: Session, bundle_id: uuid.UUID) -> dict[uuid.UUID, Seen]:
    """{unit_id: (kind, version)}: the latest change each unit got for this bundle."""
    return _latest(session, FeedChange.unit_id, FeedChange.bundle_id == bundle_id)


def latest_for_unit(session: Session, unit_id: uuid.UUID) -> dict[uuid.UUID, Seen]:
    """{bundle_id: (kind, version)}: the latest change this unit got for each bundle."""
    return _latest(session, FeedChange.bundle_id, FeedChange.unit_id == unit_id)


def unit_view(session: Session, unit_id: uuid.UUID, bundle_id: uuid.UUID) -> FeedChange | None:
    """The latest change this unit got for this bundle: what it has been told, or None."""
    return session.scalar(
        select(FeedChange)
        .where(FeedChange.unit_id == unit_id, FeedChange.bundle_id == bundle_id)
        .order_by(FeedChange.seq.desc())
        .limit(1)
    )


def feed_version(session: Session, unit_id: uuid.UUID) -> tuple[int, datetime | None]:
    """(last seq, its time) of the unit's feed: a cheap version for ETag and Last-Modified,
    one index lookup on (unit_id, seq)."""
    row = session.execute(
        select(FeedChange.seq, FeedChange.at)
        .where(FeedChange.unit_id == unit_id)
        .order_by(FeedChange.seq.desc())
        .limit(1)
    ).first()
    return (row.seq, row.at) if row else (0, None)


# Urgent first: rank 0, then everything else.
URGENCY_RANK = case((BundlePublication.priority == "urgent", 0), else_=1)


def unit_changes(
    session: Session, unit_id: uuid.UUID, after_seq: int, upto: int, after: tuple[int, int] | None, limit: int
) -> Sequence[Row[tuple[FeedChange, int]]]:
    """Each bundle's latest change for the unit in (after_seq, upto], with its publication
    (`change.publication`, loaded in the same query) and rank: urgent first, then newest (the
    latest change first). `after` continues after a (rank, seq) already sent. One query on the
    (unit_id, seq) index; its cost follows the changes read, not the feed's size."""
    latest = (
        select(FeedChange.bundle_id, func.max(FeedChange.seq).label("seq"))
        .where(FeedChange.unit_id == unit_id, FeedChange.seq > after_seq, FeedChange.seq <= upto)
        .group_by(FeedChange.bundle_id)
        .subquery()
    )
    rank = URGENCY_RANK
    query = (
        select(FeedChange, rank.label("rank"))
        .join(latest, FeedChange.seq == latest.c.seq)
        .join(
            BundlePublication,
            and_(
                BundlePublication.bundle_id == FeedChange.bundle_id,
                BundlePublication.version == FeedChange.bundle_version,
            ),
        )
        .options(contains_eager(FeedChange.publication))
        .order_by(rank, FeedChange.seq.desc())
        .limit(limit)
    )
    if after is not None:
        query = query.where(or_(rank > after[0], and_(rank == after[0], FeedChange.seq < after[1])))
    return session.execute(query).all()
