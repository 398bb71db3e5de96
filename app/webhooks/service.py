"""Webhook subscriptions (admin) and `emit`, which every domain calls when something happens.

`emit` writes the event and one pending delivery per receiving subscription in the caller's
transaction: an event is never sent for a change that rolled back, and never lost for one that
committed. The sender (sender.py) delivers them later, from another transaction.
"""

import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from pydantic_core import to_jsonable_python
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, contains_eager

from app import concurrency
from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.config import Settings
from app.db import get_row, new_id, utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.organisations import service as organisations_service
from app.organisations.models import Organisation
from app.pagination import decode_id_cursor, id_page, page_size
from app.units.models import Unit
from app.webhooks import secrets, targets
from app.webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookEvent, WebhookSubscription
from app.webhooks.schemas import DeliveryRead, WebhookCreate, WebhookUpdate

AUDITED = ("url", "events", "organisation_id", "unit_id", "active")


def emit(
    session: Session,
    event: str,
    data: dict[str, Any],
    *,
    organisation_ids: Iterable[uuid.UUID | str] = (),
    unit_ids: Iterable[uuid.UUID | str] = (),
) -> None:
    """Record that `event` happened, in the caller's transaction. It goes to the active
    subscriptions for this event type of the given organisations and units, and to those of
    neither (global). Three statements at most, however many units are named."""
    if event not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event!r}; known: {', '.join(EVENT_TYPES)}")
    organisations = {str(o) for o in organisation_ids}
    units = {str(u) for u in unit_ids}
    rows = session.execute(
        select(
            WebhookSubscription.id,
            WebhookSubscription.events,
            WebhookSubscription.organisation_id,
            WebhookSubscription.unit_id,
        ).where(WebhookSubscription.active.is_(True))
    ).all()
    receivers = [
        row.id
        for row in rows
        if event in row.events
        and (
            (row.organisation_id is None and row.unit_id is None)
            or (row.organisation_id is not None and str(row.organisation_id) in organisations)
            or (row.unit_id is not None and str(row.unit_id) in units)
        )
    ]
    if not receivers:
        return
    now = utcnow()
    event_id = new_id()
    session.execute(
        insert(WebhookEvent), [{"id": event_id, "type": event, "data": to_jsonable_python(data), "created_at": now}]
    )
    session.execute(
        insert(WebhookDelivery),
        [
            {
                "id": new_id(),
                "webhook_id": receiver,
                "event_id": event_id,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for receiver in receivers
        ],
    )


def on_event(session: Session, event: str, payload: dict[str, Any]) -> None:
    """`emit` as a listener for a domain that announces its events through a registry of
    listeners, called with (session, event, payload): the payload's `lead_organisation_id`,
    `organisation_ids` and `unit_ids` say whose subscriptions receive it."""
    organisations = [payload.get("lead_organisation_id"), *(payload.get("organisation_ids") or [])]
    emit(
        session,
        event,
        payload,
        organisation_ids=[o for o in organisations if o],
        unit_ids=payload.get("unit_ids") or [],
    )


def _check_url(url: str, settings: Settings) -> None:
    try:
        targets.check(url, production=settings.is_production)
    except targets.TargetRefused as exc:
        raise ValidationFailed(["body", "url"], f"The webhook URL {exc}.") from None


def snapshot(subscription: WebhookSubscription) -> dict[str, Any]:
    """What the audit log keeps of a subscription. Its URL only as far as the host: paths and
    queries often carry the receiver's token, analysts read the audit log, and no route can
    ever remove a record from it (admins read the whole URL on the webhook itself)."""
    kept = {name: to_jsonable_python(getattr(subscription, name)) for name in AUDITED}
    if "url" in kept:
        kept["url"] = url_origin(kept["url"])
    return kept


def url_origin(url: str) -> str:
    """'https://hooks.example.org/services/T0/B0/abc?token=y' -> 'https://hooks.example.org/…'."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 address, bracketed as in the URL
    origin = f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"  # no user or password
    return origin + ("/…" if parts.path.strip("/") or parts.query or parts.fragment else "/")


def create_webhook(
    session: Session, data: WebhookCreate, actor: Principal, settings: Settings
) -> tuple[WebhookSubscription, str]:
    """A subscription and its signing secret (returned this once; stored encrypted)."""
    _check_url(data.url, settings)
    if data.unit_id and session.get(Unit, data.unit_id) is None:
        raise ValidationFailed(["body", "unit_id"], f"No unit with id {data.unit_id}.")
    if data.organisation_id:
        organisations_service.check_exists(session, [data.organisation_id], ["body", "organisation_id"])
    secret = secrets.new_secret()
    subscription = WebhookSubscription(
        id=new_id(),
        url=data.url,
        events=list(dict.fromkeys(data.events)),
        organisation_id=data.organisation_id,
        unit_id=data.unit_id,
        active=data.active,
        secret_encrypted=secrets.encrypt(secret, settings.secret_key),
        consecutive_failures=0,
        created_by=actor.id,
        version=1,
    )
    session.add(subscription)
    session.flush()
    audit_service.record(
        session, actor, "webhook.created", "webhook", subscription.id, audit_service.diff({}, snapshot(subscription))
    )
    return subscription, secret


def refuse_deleting_subscribed_organisation(session: Session, organisation: Organisation) -> None:
    """Registered by app/wiring.py: an organisation with webhook subscriptions is not deleted."""
    count = session.scalar(
        select(func.count())
        .select_from(WebhookSubscription)
        .where(WebhookSubscription.organisation_id == organisation.id)
    )
    if count:
        raise Conflict(f"Organisation {organisation.code} has {count} webhook subscription(s); it is kept for them.")


def get_webhook(session: Session, webhook_id: uuid.UUID, *, lock: bool = False) -> WebhookSubscription:
    subscription = get_row(session, WebhookSubscription, webhook_id, lock=lock)  # lock: for a write (see db.get_row)
    if subscription is None:
        raise NotFound(f"No webhook with id {webhook_id}.")
    return subscription


def update_webhook(
    session: Session,
    webhook_id: uuid.UUID,
    data: WebhookUpdate,
    actor: Principal,
    settings: Settings,
    if_match: str | None,
) -> WebhookSubscription:
    """Change a subscription (If-Match). Re-activating one clears its failure count."""
    subscription = get_webhook(session, webhook_id, lock=True)
    concurrency.check_if_match(subscription, if_match, "webhook")
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise ValidationFailed(["body", name], f"{name} cannot be null.")
    if "url" in changes:
        _check_url(changes["url"], settings)
    before = snapshot(subscription)
    if changes.get("active") and not subscription.active:
        subscription.consecutive_failures = 0
        subscription.failing_since = subscription.disabled_at = subscription.disabled_reason = None
    for name, value in changes.items():
        setattr(subscription, name, list(dict.fromkeys(value)) if name == "events" else value)
    subscription.version += 1
    subscription.updated_at = utcnow()
    session.flush()
    audit_service.record(
        session,
        actor,
        "webhook.updated",
        "webhook",
        subscription.id,
        audit_service.diff(before, snapshot(subscription)),
    )
    return subscription


def delete_webhook(session: Session, webhook_id: uuid.UUID, actor: Principal, if_match: str | None) -> None:
    """Unsubscribe (If-Match): the subscription and its delivery log go; the audit trail keeps
    what it was. A delivery being sent meanwhile finds its row gone and records nothing."""
    subscription = get_webhook(session, webhook_id, lock=True)
    concurrency.check_if_match(subscription, if_match, "webhook")
    before = snapshot(subscription)
    session.execute(
        delete(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == subscription.id)
        .execution_options(synchronize_session=False)
    )
    session.delete(subscription)
    session.flush()
    audit_service.record(
        session, actor, "webhook.deleted", "webhook", webhook_id, audit_service.diff(before, dict.fromkeys(before))
    )


def list_webhooks(session: Session, *, limit: int, cursor: str | None) -> tuple[list[WebhookSubscription], str | None]:
    query = select(WebhookSubscription).order_by(WebhookSubscription.id).limit(page_size(limit))
    if cursor:
        query = query.where(WebhookSubscription.id > decode_id_cursor(cursor, WebhookSubscription))
    return id_page(list(session.scalars(query)), limit)


def list_deliveries(
    session: Session, webhook_id: uuid.UUID, *, status: str | None, limit: int, cursor: str | None
) -> tuple[list[DeliveryRead], str | None]:
    """The delivery log of one subscription, newest first."""
    get_webhook(session, webhook_id)
    query = (
        select(WebhookDelivery)
        .join(WebhookDelivery.event)
        .options(contains_eager(WebhookDelivery.event))
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(page_size(limit))
    )
    if status:
        query = query.where(WebhookDelivery.status == status)
    if cursor:
        query = query.where(WebhookDelivery.id < decode_id_cursor(cursor, WebhookDelivery))
    rows, next_cursor = id_page(list(session.scalars(query)), limit)
    return [DeliveryRead.model_validate(delivery) for delivery in rows], next_cursor
