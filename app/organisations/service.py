"""Organisations: admins write them (If-Match, audited); every staff user reads them."""

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import concurrency
from app.audit import service as audit_service
from app.audit.service import Actor
from app.db import get_row, utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.organisations.models import Organisation
from app.organisations.schemas import OrganisationCreate, OrganisationRead, OrganisationUpdate
from app.pagination import decode_id_cursor, id_page, page_size

# Called before an organisation is deleted; a check raises Conflict to refuse. app/wiring.py
# registers those of the domains that refer to organisations, so this package imports none of them.
deletion_checks: list[Callable[[Session, Organisation], None]] = []


def get_organisation(session: Session, organisation_id: uuid.UUID, *, lock: bool = False) -> Organisation:
    organisation = get_row(session, Organisation, organisation_id, lock=lock)  # lock: for a write (see db.get_row)
    if organisation is None:
        raise NotFound(f"No organisation with id {organisation_id}.")
    return organisation


def find_by_code(session: Session, code: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(func.lower(Organisation.code) == code.strip().lower()))


def check_exists(session: Session, organisation_ids: list[uuid.UUID], loc: list[str | int]) -> None:
    """422 naming the first id that is no organisation."""
    found = set(session.scalars(select(Organisation.id).where(Organisation.id.in_(organisation_ids))))
    for index, organisation_id in enumerate(organisation_ids):
        if organisation_id not in found:
            where = loc if len(organisation_ids) == 1 and loc[-1] != "organisation_ids" else [*loc, index]
            raise ValidationFailed(where, f"No organisation with id {organisation_id}.")


def snapshot(organisation: Organisation) -> dict[str, Any]:
    return OrganisationRead.model_validate(organisation).model_dump(
        mode="json", exclude={"created_at", "updated_at", "version"}
    )


def create_organisation(
    session: Session, data: OrganisationCreate, actor: Actor | None, *, is_demo: bool = False
) -> Organisation:
    if find_by_code(session, data.code) is not None:
        raise Conflict(f"An organisation with the code {data.code} exists already.")
    now = utcnow()
    organisation = Organisation(
        code=data.code, name=data.name, kind=data.kind, is_demo=is_demo, created_at=now, updated_at=now, version=1
    )
    session.add(organisation)
    session.flush()
    changes = audit_service.diff({}, snapshot(organisation))
    audit_service.record(session, actor, "organisation.created", "organisation", organisation.id, changes)
    return organisation


def update_organisation(
    session: Session, organisation_id: uuid.UUID, data: OrganisationUpdate, actor: Actor, if_match: str | None
) -> Organisation:
    organisation = get_organisation(session, organisation_id, lock=True)
    concurrency.check_if_match(organisation, if_match, "organisation")
    before = snapshot(organisation)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None:
            raise ValidationFailed(["body", name], f"{name} cannot be null.")
        setattr(organisation, name, value)
    organisation.version += 1
    organisation.updated_at = utcnow()
    session.flush()
    changes = audit_service.diff(before, snapshot(organisation))
    audit_service.record(session, actor, "organisation.updated", "organisation", organisation.id, changes)
    return organisation


def delete_organisation(session: Session, organisation_id: uuid.UUID, actor: Actor, if_match: str | None) -> None:
    """Only an organisation nothing refers to (no staff, no claims) can be deleted (else 409)."""
    organisation = get_organisation(session, organisation_id, lock=True)
    concurrency.check_if_match(organisation, if_match, "organisation")
    for check in deletion_checks:
        check(session, organisation)
    audit_service.record(
        session, actor, "organisation.deleted", "organisation", organisation.id, {"code": [organisation.code, None]}
    )
    session.delete(organisation)
    session.flush()


def list_organisations(
    session: Session, kind: list[str], limit: int, cursor: str | None
) -> tuple[list[Organisation], str | None]:
    query = select(Organisation).order_by(Organisation.id).limit(page_size(limit))
    if kind:
        query = query.where(Organisation.kind.in_(kind))
    if cursor:
        query = query.where(Organisation.id > decode_id_cursor(cursor, Organisation))
    return id_page(list(session.scalars(query)), limit)
