from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.audit import service as audit_service
from app.audit.models import AuditRecord
from app.audit.schemas import AuditActor, AuditPage, AuditRead
from app.db import DbSession
from app.errors import ValidationFailed

router = APIRouter(tags=["audit"])


def _read(record: AuditRecord) -> AuditRead:
    return AuditRead(
        id=record.id,
        at=record.at,
        actor=AuditActor(type=record.actor_type, id=record.actor_id, label=record.actor_label),
        action=record.action,
        entity_type=record.entity_type,
        entity_id=record.entity_id,
        changes=record.changes,
        request_id=record.request_id,
        ip=record.ip,
    )


@router.get("/audit", response_model=AuditPage, operation_id="list_audit_records")
def list_audit_records(
    session: DbSession,
    actor: Annotated[str | None, Query(description="Actor id")] = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> AuditPage:
    """The audit trail, newest first (admins and analysts). Nothing can change or delete it.

    Who may read it is declared where the router is mounted (app/main.py): audit imports no
    other domain."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(["query", name], "Timestamps need a time zone (RFC 3339).")
    records, next_cursor = audit_service.list_records(
        session,
        actor=actor,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return AuditPage(items=[_read(r) for r in records], next_cursor=next_cursor)
