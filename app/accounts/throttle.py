"""Sign-in throttling: every attempt is charged before its password is checked.

The charge is written and committed in a short transaction of its own, before the password is
looked at, so it holds whatever becomes of the request afterwards (a rolled-back or failed
request cannot lose it), and a guess that could not be charged is never evaluated. These are the
only functions that commit the request's session themselves, and they run before the request
has changed anything. Each key is one counter row, charged with a single conditional UPDATE
("add one if the window has room"): the database serialises the row, so parallel guesses can
never exceed a limit. A sign-in that succeeds gives its charge back, so the counters hold
failures (and attempts that never finished).

The keys, each over a fixed window of WINDOW:
- (account, address), MAX_PER_ACCOUNT_ADDRESS: one person guessing one account from one place.
  An attacker at one address cannot lock out the real user signing in from another.
- address, MAX_PER_ADDRESS: one place guessing many accounts.
- account, MAX_PER_ACCOUNT_NEW_ADDRESSES, charged only for addresses the account has never
  signed in from: guesses spread over many addresses (a botnet) against one account. Addresses
  the account has used before are exempt, so such an attack cannot lock the real user out where
  they usually work; a user at a new address during the attack waits for the window, which is
  the price of stopping distributed guessing without a second factor. At 20 guesses per 15
  minutes, a password that passes the strength check (zxcvbn score 3: at least 10^8 guesses)
  holds for over a century.
IPv6 addresses count by their /64 network, which one host usually holds whole.
"""

import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app import metrics
from app.accounts.models import SignInAddress, SignInCounter
from app.audit import service as audit_service
from app.audit.service import Anonymous
from app.db import one_writing_transaction, utcnow
from app.errors import ServiceUnavailable, TooManyRequests

log = logging.getLogger("ttdn.sign_in")
SIGN_IN_FAILED = "auth.sign_in_failed"
WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT_ADDRESS = 5
MAX_PER_ADDRESS = 20
MAX_PER_ACCOUNT_NEW_ADDRESSES = 20


@dataclass(frozen=True)
class Charge:
    """What one attempt was charged: (key, window start) per counter."""

    email: str
    address: str
    counters: tuple[tuple[str, datetime], ...]


def address_of(host: str | None) -> str:
    """The throttled address: the IPv6 /64 network, the IPv4 address, or the host as given."""
    try:
        ip = ipaddress.ip_address(host or "")
    except ValueError:
        return (host or "unknown")[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _keys(session: Session, email: str, address: str) -> list[tuple[str, int]]:
    keys = [(f"account-address:{email}|{address}", MAX_PER_ACCOUNT_ADDRESS), (f"address:{address}", MAX_PER_ADDRESS)]
    if session.get(SignInAddress, (email, address)) is None:
        keys.append((f"account:{email}", MAX_PER_ACCOUNT_NEW_ADDRESSES))
    return keys


def _ensure_row(session: Session, key: str, now: datetime) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(SignInCounter).values(key=key, window_start=now, count=0).on_conflict_do_nothing())


def _take(session: Session, key: str, limit: int, now: datetime) -> datetime | None:
    """Charge one attempt to `key` if its window has room (a new window always has); returns
    the window's start, or None when the limit is reached. One statement: atomic."""
    expired = SignInCounter.window_start <= now - WINDOW
    result = session.execute(
        update(SignInCounter)
        .where(SignInCounter.key == key, or_(expired, SignInCounter.count < limit))
        .values(
            count=case((expired, 1), else_=SignInCounter.count + 1),
            window_start=case((expired, now), else_=SignInCounter.window_start),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    return session.scalar(select(SignInCounter.window_start).where(SignInCounter.key == key))


def charge(session: Session, email: str, address: str) -> Charge:
    """Charge one sign-in attempt to every key, all or none, and commit it at once (the session
    must hold no change of its own: whatever it read is kept). Raises TooManyRequests (with
    Retry-After) past a limit, ServiceUnavailable when the charge cannot be saved: in both cases
    before anything about the password is known. Keys are always taken in the same order, so two
    attempts never wait for each other in a ring."""
    now = utcnow()
    try:
        # One writing transaction, then the session goes back to reading: on SQLite the charge
        # waits its turn among writers, and the password check after it holds no write turn.
        with one_writing_transaction(session):
            _ensure_row(session, f"account-address:{email}|{address}", now)
            taken: list[tuple[str, datetime]] = []
            for key, limit in _keys(session, email, address):
                _ensure_row(session, key, now)
                started = _take(session, key, limit, now)
                if started is None:
                    raise _refusal(session, key, now)
                taken.append((key, started))
            session.commit()
    except SQLAlchemyError:
        session.rollback()
        raise ServiceUnavailable(
            "Sign-in is unavailable for a moment; try again.", headers={"Retry-After": "5"}
        ) from None
    return Charge(email, address, tuple(taken))


def _refusal(session: Session, key: str, now: datetime) -> TooManyRequests:
    metrics.SIGN_IN_REFUSALS.labels("throttled").inc()
    started = session.scalar(select(SignInCounter.window_start).where(SignInCounter.key == key)) or now
    session.rollback()
    retry_after = max(1, int((started + WINDOW - now).total_seconds()) + 1)
    return TooManyRequests(
        "Too many sign-in attempts (failed ones, and ones still being checked at this moment); "
        "wait before trying again.",
        headers={"Retry-After": str(retry_after)},
    )


def give_back(session: Session, charged: Charge) -> None:
    """A successful sign-in: return its charge, forget this account's failures at this address,
    and remember the address as one the account uses. Committed at once and best effort: if it
    cannot be saved the charge simply stays, and the answer (the token) is the same either way,
    so no failure here can tell a right password from a wrong one."""
    try:
        with one_writing_transaction(session):
            _give_back(session, charged)
    except SQLAlchemyError:
        session.rollback()
        log.warning("could not give back the sign-in charge of %s; it stays counted", charged.email, exc_info=True)


def _give_back(session: Session, charged: Charge) -> None:
    for key, started in charged.counters:
        session.execute(
            update(SignInCounter)
            .where(SignInCounter.key == key, SignInCounter.window_start == started, SignInCounter.count > 0)
            .values(count=SignInCounter.count - 1)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        delete(SignInCounter)
        .where(SignInCounter.key == f"account-address:{charged.email}|{charged.address}")
        .execution_options(synchronize_session=False)
    )
    known = session.get(SignInAddress, (charged.email, charged.address))
    if known is None:
        session.add(SignInAddress(email=charged.email, address=charged.address, last_success_at=utcnow()))
    else:
        known.last_success_at = utcnow()
    session.commit()


def record_failure(session: Session, email: str) -> None:
    """The audit record of a refused sign-in, committed at once (the request's transaction is
    rolled back with its refusal). Best effort: the attempt is counted already, and the answer
    must not depend on whether this could be saved."""
    metrics.SIGN_IN_REFUSALS.labels("bad_credentials").inc()
    try:
        session.rollback()  # nothing of the request's own is kept, only the record
        with one_writing_transaction(session):
            audit_service.record(session, Anonymous(email), SIGN_IN_FAILED, "user", None)
            session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.warning("could not audit a refused sign-in for %s", email, exc_info=True)
