from typing import Annotated

from fastapi import APIRouter, Query

from app.audit import service as audit_service
from app.audit.schemas import AuditPage, AuditRead
from app.db import DbSession
from app.pagination import Limit
from app.schemas import BeforeTime, FromTime

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=AuditPage, operation_id="list_audit_records")
def list_audit_records(
    session: DbSession,
    actor: Annotated[str | None, Query(description="Actor id")] = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    since: Annotated[FromTime | None, Query(description="A timestamp, or a date: from its start")] = None,
    until: Annotated[
        BeforeTime | None, Query(description="Before this timestamp, or up to the end of this date")
    ] = None,
    limit: Limit = 20,
    cursor: str | None = None,
) -> AuditPage:
    """The audit trail, newest first (admins and analysts). Nothing can change or delete it.

    Who may read it is declared where the router is mounted (app/main.py): audit imports no
    other domain."""
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
    return AuditPage(items=[AuditRead.model_validate(r) for r in records], next_cursor=next_cursor)
