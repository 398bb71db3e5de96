"""Recording and reading the audit trail.

`record()` adds a row in the caller's transaction, so the record and the change it describes
commit or fail together.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditRecord
from app.context import current_request
from app.db import new_id, utcnow
from app.pagination import decode_id_cursor, id_page, page_size


class Actor(Protocol):
    type: str
    id: uuid.UUID | None
    label: str


@dataclass(frozen=True)
class Anonymous:
    """A caller who has not proved who they are (a refused sign-in): only the name they gave."""

    label: str
    type: str = "anonymous"
    id: None = None


def entry(actor: Actor | None, action: str, entity_type: str, entity_id: object, changes: dict) -> AuditRecord:
    info = current_request.get()
    return AuditRecord(
        id=new_id(),
        at=utcnow(),
        actor_type=actor.type if actor else "system",
        actor_id=str(actor.id) if actor and actor.id else None,
        actor_label=actor.label if actor else "",
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id) if entity_id is not None else None,
        changes=changes,
        request_id=info.request_id if info else None,
        ip=info.ip if info else None,
    )


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    entity_type: str,
    entity_id: object,
    changes: dict[str, Any] | None = None,
) -> None:
    session.add(entry(actor, action, entity_type, entity_id, changes or {}))


MAX_VALUE_CHARS = 1000


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + f"… ({len(value)} characters)"
    return value


def diff(before: dict[str, Any], after: dict[str, Any], ignore: frozenset[str] = frozenset()) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed; long texts are shortened."""
    return {
        k: [_short(before.get(k)), _short(after.get(k))]
        for k in after
        if k not in ignore and before.get(k) != after.get(k)
    }


def list_records(
    session: Session,
    *,
    actor: str | None,
    entity_type: str | None,
    entity_id: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[AuditRecord], str | None]:
    """Newest first; the cursor continues after the last record of the previous page."""
    query = select(AuditRecord)
    for column, value in (
        (AuditRecord.actor_id, actor),
        (AuditRecord.entity_type, entity_type),
        (AuditRecord.entity_id, entity_id),
        (AuditRecord.action, action),
    ):
        if value:
            query = query.where(column == value)
    if since:
        query = query.where(AuditRecord.at >= since)
    if until:
        query = query.where(AuditRecord.at < until)
    if cursor:
        query = query.where(AuditRecord.id < decode_id_cursor(cursor, AuditRecord))
    return id_page(list(session.scalars(query.order_by(AuditRecord.id.desc()).limit(page_size(limit)))), limit)


def actions_on(
    session: Session, entity_type: str, entity_id: object, actions: tuple[str, ...]
) -> list[tuple[str, str | None]]:
    """(action, actor id) of the given actions on one entity, oldest first: the history of who
    did what to it, for rules such as four eyes."""
    rows = session.execute(
        select(AuditRecord.action, AuditRecord.actor_id)
        .where(
            AuditRecord.entity_type == entity_type,
            AuditRecord.entity_id == str(entity_id),
            AuditRecord.action.in_(actions),
        )
        .order_by(AuditRecord.at, AuditRecord.id)
    )
    return [(action, actor_id) for action, actor_id in rows]
