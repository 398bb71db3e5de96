"""A short per-process memory of the staff access tokens just checked, so that a staff request
need not read its user's row every time.

An entry holds the principal a token resolved to, for at most USER_CACHE_SECONDS (and never past
the token's expiry). A change that must refuse a token (disable, password change, roles) forgets
the user's entries in this process at once, and again when its transaction commits (so a request
that read the old row meanwhile cannot keep it). Another server process sees the change when its
own entry runs out: a disabled user or a replaced token is refused everywhere within
USER_CACHE_SECONDS.
"""

import threading
import time
import uuid

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.accounts.principal import Principal

USER_CACHE_SECONDS = 2.0
MAX_ENTRIES = 10_000
_FORGET_ON_COMMIT = "ttdn_forget_users"

_entries: dict[str, tuple[float, Principal]] = {}
_lock = threading.Lock()
_generation = 0


def generation() -> int:
    """Read before reading the user's row; pass to `remember`."""
    return _generation


def lookup(token: str) -> Principal | None:
    """The principal the token resolved to a moment ago, or None (unknown, or its time is up)."""
    entry = _entries.get(token)
    if entry is None:
        return None
    if entry[0] < time.monotonic():
        with _lock:
            _entries.pop(token, None)
        return None
    return entry[1]


def remember(token: str, principal: Principal, expires_at: float, read_at_generation: int) -> None:
    """Keep the token's principal until USER_CACHE_SECONDS from now, or `expires_at` (a
    `time.time()` value: the token's own expiry) if sooner; not at all if a user was changed
    since `read_at_generation` (what was read may predate the change)."""
    bound = min(USER_CACHE_SECONDS, expires_at - time.time())
    if bound <= 0:
        return
    with _lock:
        if read_at_generation != _generation:
            return
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[token] = (time.monotonic() + bound, principal)


def forget_user(user_id: uuid.UUID) -> None:
    global _generation
    with _lock:
        _generation += 1
        for token in [t for t, (_, principal) in _entries.items() if principal.id == user_id]:
            _entries.pop(token, None)


def forget_user_on_commit(session: Session, user_id: uuid.UUID) -> None:
    """Forget the user's tokens now and once more when the session's transaction commits."""
    forget_user(user_id)
    session.info.setdefault(_FORGET_ON_COMMIT, set()).add(user_id)


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    for user_id in session.info.pop(_FORGET_ON_COMMIT, ()):
        forget_user(user_id)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_FORGET_ON_COMMIT, None)
