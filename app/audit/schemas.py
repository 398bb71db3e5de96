import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditActor(BaseModel):
    type: str
    id: str | None
    label: str


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: datetime
    actor: AuditActor
    action: str
    entity_type: str
    entity_id: str | None
    changes: dict[str, Any]
    request_id: str | None
    ip: str | None


class AuditPage(BaseModel):
    items: list[AuditRead]
    next_cursor: str | None
