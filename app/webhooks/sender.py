"""The background sender: claims due deliveries, sends them signed, records what happened.

Several server processes may run it at once. A delivery is claimed by pushing its
`next_attempt_at` past the send's timeout (a lease) under a fresh claim token, with
`FOR UPDATE SKIP LOCKED` on PostgreSQL and a conditional UPDATE everywhere, in a short
transaction that commits before anything is sent: no lock is held across the network, no two
workers send one delivery at once, and a delivery whose worker died is retried once the lease
has passed. The `webhook-id` is the delivery's id, the same on every retry, so a receiver can
drop a repeat. Signatures follow the Standard Webhooks specification (`standardwebhooks`).
"""

import json
import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client import Counter
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from app.audit import service as audit_service
from app.config import Settings
from app.db import get_row, utcnow
from app.webhooks import secrets, targets
from app.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from app.worker import PeriodicWorker

log = logging.getLogger("ttdn.webhooks")

DELIVERY_FAILURES = Counter(
    "ttdn_webhook_delivery_failures",
    "Webhook delivery attempts that failed: a refused target, a network error, or an answer other than 2xx.",
)
BATCH = 20
ERROR_CHARS = 500


@dataclass(frozen=True)
class Claimed:
    delivery_id: uuid.UUID
    token: str
    url: str
    secret_encrypted: str
    event_type: str
    event_data: dict
    event_at: datetime


@dataclass(frozen=True)
class Outcome:
    status_code: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class SendReport:
    delivered: int = 0
    failed: int = 0
    disabled: list[uuid.UUID] = field(default_factory=list)


def claim_due(session: Session, now: datetime, lease: timedelta, limit: int = BATCH) -> list[Claimed]:
    """Take up to `limit` due deliveries of active subscriptions for this worker (caller commits).

    One UPDATE whose subquery locks with SKIP LOCKED on PostgreSQL; on SQLite the statement
    itself takes the write lock, and a write first avoids upgrading a read transaction (which
    SQLite refuses at once when another connection wrote meanwhile)."""
    due = (
        select(WebhookDelivery.id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            WebhookSubscription.active.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    token = str(uuid.uuid4())
    claimed = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id.in_(due.scalar_subquery()),
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(claim_token=token, next_attempt_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        return []
    rows = session.execute(
        select(WebhookDelivery.id, WebhookSubscription.url, WebhookSubscription.secret_encrypted, WebhookEvent)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.webhook_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.claim_token == token)
    ).all()
    return [Claimed(row[0], token, row[1], row[2], row[3].type, row[3].data, row[3].created_at) for row in rows]


def payload(claimed: Claimed) -> str:
    """The body, the same bytes on every attempt: `{type, timestamp, data}` as the spec suggests."""
    body = {"type": claimed.event_type, "timestamp": claimed.event_at.isoformat(), "data": claimed.event_data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def signed_headers(msg_id: str, secret: str, body: str, at: datetime) -> dict[str, str]:
    at = at.astimezone(UTC).replace(microsecond=0)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
        "content-type": "application/json",
        "user-agent": "ttdn-hub-webhooks/1",
    }


def send(client: httpx.Client, claimed: Claimed, settings: Settings) -> Outcome:
    """One attempt, signed at the current time. Never raises: every failure is an Outcome."""
    try:
        target = targets.resolve(claimed.url, production=settings.is_production)
        secret = secrets.decrypt(claimed.secret_encrypted, settings.secret_key)
    except targets.TargetRefused as exc:
        return Outcome(error=f"the URL {exc}"[:ERROR_CHARS])
    except secrets.SecretUnreadable as exc:
        return Outcome(error=str(exc)[:ERROR_CHARS])
    body = payload(claimed)
    headers = signed_headers(str(claimed.delivery_id), secret, body, utcnow())
    extensions = {}
    if target.pinned:
        headers["host"] = target.host_header
        extensions["sni_hostname"] = target.server_name
    try:
        # Streamed and closed unread: a receiver's answer body is not wanted, whatever its size.
        with client.stream(
            "POST",
            target.url,
            content=body.encode(),
            headers=headers,
            extensions=extensions,
            timeout=settings.webhook_timeout_seconds,
        ) as response:
            status = response.status_code
    except httpx.HTTPError as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}"[:ERROR_CHARS])
    if 200 <= status < 300:
        return Outcome(status_code=status)
    return Outcome(status_code=status, error=f"answered HTTP {status}")


def retry_delay(attempts: int, settings: Settings) -> timedelta:
    """Exponential backoff, capped, with jitter (between half and all of the step) so that
    subscriptions failing together do not retry in lockstep."""
    step = min(settings.webhook_retry_max_seconds, settings.webhook_retry_base_seconds * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=step * random.uniform(0.5, 1.0))


def record(session: Session, claimed: Claimed, outcome: Outcome, settings: Settings, now: datetime) -> bool | None:
    """Write the attempt's result (caller commits). Returns whether the subscription was just
    disabled, or None when the claim had been lost (another worker took the delivery over)."""
    still_ours = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == claimed.delivery_id, WebhookDelivery.claim_token == claimed.token)
        .values(
            claim_token=None,
            attempts=WebhookDelivery.attempts + 1,
            last_attempt_at=now,
            last_status_code=outcome.status_code,
            last_error=outcome.error,
        )
        .execution_options(synchronize_session=False)
    )
    if still_ours.rowcount != 1:
        return None
    delivery = session.get(WebhookDelivery, claimed.delivery_id, populate_existing=True)
    subscription = get_row(session, WebhookSubscription, delivery.webhook_id, lock=True)
    if outcome.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        subscription.consecutive_failures, subscription.failing_since = 0, None
        return False
    DELIVERY_FAILURES.inc()
    if delivery.attempts >= settings.webhook_max_attempts:
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts, settings)
    log.warning(
        "webhook %s delivery %s attempt %d failed (%s); %s",
        subscription.id,
        delivery.id,
        delivery.attempts,
        f"HTTP {outcome.status_code}" if outcome.status_code else outcome.error or "no answer",
        "given up" if delivery.status == "failed" else f"next try at {delivery.next_attempt_at:%Y-%m-%dT%H:%M:%SZ}",
    )
    subscription.consecutive_failures += 1
    subscription.failing_since = subscription.failing_since or now
    if subscription.active and _gone(subscription, settings, now):
        _disable(session, subscription, outcome, now)
        return True
    return False


def _gone(subscription: WebhookSubscription, settings: Settings, now: datetime) -> bool:
    """Failing often enough and long enough to stop trying: a burst of failed attempts during a
    short outage is not enough (the deliveries keep their own retries meanwhile)."""
    failing_for = now - (subscription.failing_since or now)
    return subscription.consecutive_failures >= settings.webhook_disable_after_failures and failing_for >= timedelta(
        seconds=settings.webhook_disable_after_seconds
    )


def _disable(session: Session, subscription: WebhookSubscription, outcome: Outcome, now: datetime) -> None:
    since = subscription.failing_since or now
    reason = (
        f"{subscription.consecutive_failures} failed attempts in a row since {since:%Y-%m-%dT%H:%M:%SZ};"
        f" last: {outcome.error}"
    )[:ERROR_CHARS]
    subscription.active, subscription.disabled_at, subscription.disabled_reason = False, now, reason
    subscription.version += 1
    subscription.updated_at = now
    changes = {"active": [True, False], "consecutive_failures": [None, subscription.consecutive_failures]}
    changes["reason"] = [None, reason]
    audit_service.record(session, None, "webhook.disabled", "webhook", subscription.id, changes)
    log.warning("webhook %s disabled: %s", subscription.id, reason)


class WebhookSender(PeriodicWorker):
    """A daemon thread delivering due webhooks every `webhook_interval_seconds` (0: never)."""

    def __init__(self, session_factory: sessionmaker[Session], settings: Settings) -> None:
        super().__init__("webhook-sender", settings.webhook_interval_seconds)
        self._session_factory = session_factory
        self._settings = settings
        # Redirects are not followed: a redirect could lead to an address the checks refused.
        self._client = httpx.Client(follow_redirects=False, trust_env=False)

    def tick(self) -> float:
        report = self.run_once()
        busy = report is not None and report.delivered + report.failed >= BATCH
        return 0.0 if busy else self._interval

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        self._client.close()

    def run_once(self, now: datetime | None = None) -> SendReport | None:
        """One batch: claim, send, record. A failure of the database is logged and retried."""
        try:
            return self._deliver_batch(now)
        except Exception:
            log.exception("sending webhooks failed; retrying in %.0f s", self._interval)
            return None

    def _deliver_batch(self, now: datetime | None) -> SendReport:
        report = SendReport()
        started = now or utcnow()
        lease = timedelta(seconds=self._settings.webhook_timeout_seconds * 3 + 30)
        with self._session_factory() as session:
            claimed = claim_due(session, started, lease)
            session.commit()
        for item in claimed:
            at = now or utcnow()
            outcome = send(self._client, item, self._settings)
            with self._session_factory() as session:
                disabled = record(session, item, outcome, self._settings, at)
                session.commit()
            if outcome.ok:
                report.delivered += 1
            else:
                report.failed += 1
            if disabled:
                report.disabled.append(item.delivery_id)
        return report
