import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import AliasPath, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

EventType = Literal["claim.created", "claim.updated", "rebuttal.published", "bundle.published", "bundle.recalled"]


class WebhookCreate(BaseModel):
    """Either `organisation_id` or `unit_id` (or neither: every event of these types)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    events: list[EventType] = Field(min_length=1)
    organisation_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    active: bool = True

    @field_validator("unit_id")
    @classmethod
    def _one_owner(cls, unit_id: uuid.UUID | None, info: ValidationInfo) -> uuid.UUID | None:
        if unit_id and info.data.get("organisation_id"):
            raise ValueError("give organisation_id or unit_id, not both")
        return unit_id


class WebhookUpdate(BaseModel):
    """Setting `active` to true again re-enables a subscription disabled after failures."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2000)
    events: list[EventType] | None = Field(default=None, min_length=1)
    active: bool | None = None


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    events: list[str]
    organisation_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    active: bool
    consecutive_failures: int
    failing_since: datetime | None = Field(description="When the current run of failed attempts began")
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime
    version: int


class WebhookCreated(WebhookRead):
    secret: str = Field(description="The signing secret (Standard Webhooks `whsec_...`); shown this once only.")


class WebhookPage(BaseModel):
    items: list[WebhookRead]
    next_cursor: str | None


class DeliveryRead(BaseModel):
    """One event sent (or to be sent) to one subscription; `id` is its `webhook-id` header."""

    # Validated from a WebhookDelivery with its event loaded; by name when read back.
    model_config = ConfigDict(from_attributes=True, validate_by_name=True)

    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str = Field(validation_alias=AliasPath("event", "type"))
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime

    @model_validator(mode="after")
    def _next_only_while_pending(self) -> Self:
        # Outside `pending` the column holds a spent lease, not a planned attempt.
        if self.status != "pending":
            self.next_attempt_at = None
        return self


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None
