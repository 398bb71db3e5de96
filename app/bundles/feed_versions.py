"""A short per-process memory of each unit's feed version (its last change's seq and time), so
that a feed reader polling an unchanged feed gets its 304 without a database round trip.

An entry lives for FEED_VERSION_SECONDS. Appending changes for a unit (changelog.append) forgets
that unit's entry in this process at once and again when the transaction commits; a reader that
read the version before such a commit does not keep it (a generation count tells). Another
server process sees a new change when its own entry runs out: a unit's feed shows a new bundle
within FEED_VERSION_SECONDS on every process, at once on the process that published it.
"""

import threading
import time
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

FEED_VERSION_SECONDS = 1.0
MAX_ENTRIES = 50_000
_FORGET_ON_COMMIT = "ttdn_forget_feed_versions"

Version = tuple[int, datetime | None]

_entries: dict[uuid.UUID, tuple[float, Version]] = {}
_lock = threading.Lock()
_generation = 0


def generation() -> int:
    """Read before reading a version from the database; pass to `remember`."""
    return _generation


def known(unit_id: uuid.UUID) -> Version | None:
    entry = _entries.get(unit_id)
    if entry is None or entry[0] < time.monotonic():
        return None
    return entry[1]


def remember(unit_id: uuid.UUID, version: Version, read_at_generation: int) -> None:
    with _lock:
        if read_at_generation != _generation:
            return  # a change was appended meanwhile: what was read may be older than it
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[unit_id] = (time.monotonic() + FEED_VERSION_SECONDS, version)


def _forget(unit_ids: Iterable[uuid.UUID]) -> None:
    global _generation
    with _lock:
        _generation += 1
        for unit_id in unit_ids:
            _entries.pop(unit_id, None)


def forget_on_commit(session: Session, unit_ids: Iterable[uuid.UUID]) -> None:
    ids = set(unit_ids)
    _forget(ids)
    session.info.setdefault(_FORGET_ON_COMMIT, set()).update(ids)


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    ids = session.info.pop(_FORGET_ON_COMMIT, None)
    if ids:
        _forget(ids)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_FORGET_ON_COMMIT, None)
