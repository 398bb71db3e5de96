"""API keys for border units: random, shown once, stored as a SHA-256 hash, found by prefix.

A key reads `ttdn_<prefix>_<secret>`: the prefix is public and indexed; the secret has 256 bits
of entropy, so a plain SHA-256 (no slow hash) is enough to make the stored value useless to a
thief. Lookups are cached for a few seconds per process; revoking evicts the entry at once here,
and other processes see the revocation when their entry expires (KEY_CACHE_SECONDS).
"""

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.db import get_row, start_writing, utcnow
from app.pagination import decode_id_cursor, id_page, page_size
from app.units.models import ApiKey, Unit

KEY_CACHE_SECONDS = 5.0
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class KeyOwner:
    key_id: uuid.UUID
    key_hash: str
    unit_id: uuid.UUID
    unit_code: str
    usable: bool  # the key is not revoked and its unit is active
    unit_type: str = "other"


_cache: dict[str, tuple[float, KeyOwner | None]] = {}
_cache_lock = threading.Lock()
_last_touch: dict[uuid.UUID, float] = {}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> tuple[str, str]:
    """(prefix, key)."""
    prefix = secrets.token_hex(6)
    return prefix, f"ttdn_{prefix}_{secrets.token_urlsafe(32)}"


def looks_like_key(value: str) -> bool:
    return value.startswith("ttdn_") and value.count("_") >= 2


def _prefix_of(key: str) -> str:
    return key.split("_", 2)[1]


def _load_owner(session: Session, prefix: str) -> KeyOwner | None:
    row = session.execute(
        select(ApiKey.id, ApiKey.key_hash, ApiKey.revoked_at, Unit.id, Unit.code, Unit.active, Unit.type)
        .join(Unit, Unit.id == ApiKey.unit_id)
        .where(ApiKey.prefix == prefix)
    ).first()
    if row is None:
        return None
    key_id, key_hash, revoked_at, unit_id, unit_code, active, unit_type = row
    return KeyOwner(key_id, key_hash, unit_id, unit_code, usable=revoked_at is None and active, unit_type=unit_type)


def owner_of(open_session: Callable[[], Session], key: str, unit_code: str | None = None) -> KeyOwner | None:
    """The unit a presented key belongs to, or None. Compared in constant time.

    `open_session` gives the request's session; it is called only when the database is needed
    (a cache miss, or recording the last use), so a cached key costs no round trip."""
    if not looks_like_key(key):
        return None
    prefix = _prefix_of(key)
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(prefix)
    if cached is None or cached[0] < now:
        owner = _load_owner(open_session(), prefix)
        with _cache_lock:
            _cache[prefix] = (now + KEY_CACHE_SECONDS, owner)
    else:
        owner = cached[1]
    if owner is None or not hmac.compare_digest(owner.key_hash, hash_key(key)) or not owner.usable:
        return None
    # Unit codes are unique whatever their case, so the Basic user name is compared so too.
    if unit_code is not None and not hmac.compare_digest(
        owner.unit_code.casefold().encode(), unit_code.casefold().encode()
    ):
        return None
    _touch(open_session, owner.key_id, now)
    return owner


def _touch(open_session: Callable[[], Session], key_id: uuid.UUID, now: float) -> None:
    """Record last use at most once a minute per key, so reads stay reads."""
    if now - _last_touch.get(key_id, float("-inf")) < LAST_USED_RESOLUTION.total_seconds():
        return
    session = open_session()
    _last_touch[key_id] = now
    start_writing(session)
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))


def forget(prefix: str) -> None:
    with _cache_lock:
        _cache.pop(prefix, None)


def forget_unit(unit_id: uuid.UUID) -> None:
    """A unit deactivated or re-activated: drop its keys from the cache."""
    with _cache_lock:
        for prefix in [p for p, (_, owner) in _cache.items() if owner and owner.unit_id == unit_id]:
            _cache.pop(prefix, None)


def issue_key(session: Session, unit_id: uuid.UUID, created_by: uuid.UUID | None) -> tuple[ApiKey, str]:
    """A new key for the unit; the plain key is returned here and never again."""
    prefix, key = generate_key()
    api_key = ApiKey(unit_id=unit_id, prefix=prefix, key_hash=hash_key(key), created_by=created_by)
    session.add(api_key)
    session.flush()
    return api_key, key


def list_keys(session: Session, unit_id: uuid.UUID, limit: int, cursor: str | None) -> tuple[list[ApiKey], str | None]:
    """A page of the unit's keys, oldest first (ids are time-ordered)."""
    query = select(ApiKey).where(ApiKey.unit_id == unit_id)
    if cursor is not None:
        query = query.where(ApiKey.id > decode_id_cursor(cursor, ApiKey))
    return id_page(session.scalars(query.order_by(ApiKey.id).limit(page_size(limit))).all(), limit)


def get_key(session: Session, unit_id: uuid.UUID, key_id: uuid.UUID, *, lock: bool = False) -> ApiKey | None:
    """The unit's key `key_id`; None when the unit has no such key."""
    api_key = get_row(session, ApiKey, key_id, lock=lock)  # lock: for a write (see db.get_row)
    return api_key if api_key is not None and api_key.unit_id == unit_id else None


def revoke_key(session: Session, unit_id: uuid.UUID, key_id: uuid.UUID, actor: Principal) -> ApiKey | None:
    """Revoke (idempotently: revoking a revoked key changes and records nothing); None when the
    unit has no such key. The row is read locked, so two revocations at once record one."""
    api_key = get_key(session, unit_id, key_id, lock=True)
    if api_key is None:
        return None
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        session.flush()
        audit_service.record(session, actor, "key.revoked", "unit", unit_id, {"key_id": [str(key_id), None]})
    forget(api_key.prefix)
    return api_key
