"""Sign-in throttling, read from the audit trail's record of refused sign-ins.

Using the audit trail as the counter keeps one record of failures (no second store to keep in
step) and works across server processes. Past the limits, sign-in is refused with 429 and a
Retry-After that says when the oldest counted failure leaves the window.
"""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditRecord
from app.db import utcnow
from app.errors import TooManyRequests

SIGN_IN_FAILED = "auth.sign_in_failed"
WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 20


def _failures(session: Session, condition: ColumnElement[bool], since: datetime) -> tuple[int, datetime | None]:
    count, oldest = session.execute(
        select(func.count(), func.min(AuditRecord.at)).where(
            AuditRecord.action == SIGN_IN_FAILED, AuditRecord.at >= since, condition
        )
    ).one()
    return count, oldest


def check_sign_in_allowed(session: Session, email: str, ip: str | None) -> None:
    now = utcnow()
    since = now - WINDOW
    checks = [(AuditRecord.actor_label == email, MAX_PER_ACCOUNT)]
    if ip:
        checks.append((AuditRecord.ip == ip, MAX_PER_ADDRESS))
    for condition, limit in checks:
        count, oldest = _failures(session, condition, since)
        if count >= limit and oldest is not None:
            retry_after = max(1, int((oldest + WINDOW - now).total_seconds()) + 1)
            raise TooManyRequests(
                "Too many failed sign-ins; wait before trying again.",
                headers={"Retry-After": str(retry_after)},
            )
