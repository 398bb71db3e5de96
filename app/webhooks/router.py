import uuid
from typing import Literal

from fastapi import APIRouter, Response

from app import concurrency
from app.accounts.deps import AdminUser, AppSettings
from app.concurrency import IfMatch
from app.db import DbSession
from app.pagination import Limit
from app.webhooks import service as webhooks_service
from app.webhooks.schemas import DeliveryPage, WebhookCreate, WebhookCreated, WebhookPage, WebhookRead, WebhookUpdate

router = APIRouter(tags=["webhooks"])


@router.post("/webhooks", status_code=201, response_model=WebhookCreated, operation_id="create_webhook")
def create_webhook(
    data: WebhookCreate, session: DbSession, actor: AdminUser, settings: AppSettings, response: Response
) -> WebhookCreated:
    """Subscribe a URL to events (admins). The answer carries the signing secret, shown this once.
    With APP_ENV=production the URL must be https and resolve to a public address."""
    subscription, secret = webhooks_service.create_webhook(session, data, actor, settings)
    read = concurrency.created(response, f"/webhooks/{subscription.id}", subscription, WebhookRead)
    return WebhookCreated(**read.model_dump(), secret=secret)


@router.get("/webhooks", response_model=WebhookPage, operation_id="list_webhooks")
def list_webhooks(
    session: DbSession,
    _: AdminUser,
    limit: Limit = 20,
    cursor: str | None = None,
) -> WebhookPage:
    """Subscriptions, oldest first (never their secrets)."""
    items, next_cursor = webhooks_service.list_webhooks(session, limit=limit, cursor=cursor)
    return WebhookPage(items=[WebhookRead.model_validate(s) for s in items], next_cursor=next_cursor)


@router.get("/webhooks/{webhook_id}", response_model=WebhookRead, operation_id="get_webhook")
def get_webhook(webhook_id: uuid.UUID, session: DbSession, _: AdminUser, response: Response) -> WebhookRead:
    """One subscription, with its ETag; `disabled_reason` says why the sender gave up on it."""
    return concurrency.tagged(response, webhooks_service.get_webhook(session, webhook_id), WebhookRead)


@router.patch("/webhooks/{webhook_id}", response_model=WebhookRead, operation_id="update_webhook")
def update_webhook(
    webhook_id: uuid.UUID,
    data: WebhookUpdate,
    session: DbSession,
    actor: AdminUser,
    settings: AppSettings,
    response: Response,
    if_match: IfMatch = None,
) -> WebhookRead:
    """Change the URL, the events, or `active` (needs If-Match). `active: false` stops deliveries
    (the log is kept); `active: true` re-enables a subscription disabled after failures."""
    subscription = webhooks_service.update_webhook(session, webhook_id, data, actor, settings, if_match)
    return concurrency.tagged(response, subscription, WebhookRead)


@router.delete("/webhooks/{webhook_id}", status_code=204, operation_id="delete_webhook")
def delete_webhook(webhook_id: uuid.UUID, session: DbSession, actor: AdminUser, if_match: IfMatch = None) -> Response:
    """Unsubscribe (needs If-Match). Its delivery log goes with it; the audit trail keeps the
    subscription as it was. An organisation whose last subscription is gone can be deleted."""
    webhooks_service.delete_webhook(session, webhook_id, actor, if_match)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage, operation_id="list_webhook_deliveries")
def list_deliveries(
    webhook_id: uuid.UUID,
    session: DbSession,
    _: AdminUser,
    status: Literal["pending", "delivered", "failed"] | None = None,
    limit: Limit = 20,
    cursor: str | None = None,
) -> DeliveryPage:
    """The delivery log, newest first: attempts, last status code or error, next attempt."""
    items, next_cursor = webhooks_service.list_deliveries(
        session, webhook_id, status=status, limit=limit, cursor=cursor
    )
    return DeliveryPage(items=items, next_cursor=next_cursor)
