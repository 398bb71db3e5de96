"""Subscriptions, the events written in the same transaction as the change, and their deliveries."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, JSONType, UTCDateTime, UUIDStr, new_id, utcnow

EVENT_TYPES = ("claim.created", "claim.updated", "rebuttal.published", "bundle.published", "bundle.recalled")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookSubscription(Base):
    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Whose events it receives; neither: every event of its types (an admin's global subscription).
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("organisations.id"), index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Fernet token of the signing secret, under a key derived from SECRET_KEY (see secrets.py).
    secret_encrypted: Mapped[str] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # When the current run of failures began (None while deliveries succeed).
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUIDStr)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class WebhookEvent(Base):
    """One thing that happened, written by `emit` in the transaction of the change."""

    __tablename__ = "webhook_events"

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one subscription. Its id is the `webhook-id` header, the same on every retry."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    webhook_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, ForeignKey("webhooks.id"), index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, ForeignKey("webhook_events.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # While a worker sends, this is pushed past the send's timeout (a lease): no other worker
    # takes the delivery meanwhile, and a worker that died mid-send is retried after it.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Loaded only where asked for (the delivery log's join): the sender locks deliveries alone.
    event: Mapped[WebhookEvent] = relationship(viewonly=True)
