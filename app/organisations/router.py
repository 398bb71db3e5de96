import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app import concurrency
from app.accounts.deps import AdminUser, StaffUser
from app.concurrency import IfMatch
from app.db import DbSession
from app.organisations import service as organisations_service
from app.organisations.schemas import (
    OrganisationCreate,
    OrganisationKind,
    OrganisationPage,
    OrganisationRead,
    OrganisationUpdate,
)
from app.pagination import Limit

router = APIRouter(tags=["organisations"])


@router.post("/organisations", status_code=201, response_model=OrganisationRead, operation_id="create_organisation")
def create_organisation(
    data: OrganisationCreate, session: DbSession, actor: AdminUser, response: Response
) -> OrganisationRead:
    """Register an organisation: a ministry's focal unit, a provincial department, or other (admins)."""
    organisation = organisations_service.create_organisation(session, data, actor)
    return concurrency.created(response, f"/organisations/{organisation.id}", organisation, OrganisationRead)


@router.get("/organisations", response_model=OrganisationPage, operation_id="list_organisations")
def list_organisations(
    session: DbSession,
    _: StaffUser,
    kind: Annotated[list[OrganisationKind], Query()] = [],
    limit: Limit = 20,
    cursor: str | None = None,
) -> OrganisationPage:
    """Organisations, oldest first (any staff)."""
    items, next_cursor = organisations_service.list_organisations(session, list(kind), limit, cursor)
    return OrganisationPage(items=[OrganisationRead.model_validate(o) for o in items], next_cursor=next_cursor)


@router.get("/organisations/{organisation_id}", response_model=OrganisationRead, operation_id="get_organisation")
def get_organisation(
    organisation_id: uuid.UUID, session: DbSession, _: StaffUser, response: Response
) -> OrganisationRead:
    """One organisation, with its ETag."""
    organisation = organisations_service.get_organisation(session, organisation_id)
    return concurrency.tagged(response, organisation, OrganisationRead)


@router.patch("/organisations/{organisation_id}", response_model=OrganisationRead, operation_id="update_organisation")
def update_organisation(
    organisation_id: uuid.UUID,
    data: OrganisationUpdate,
    session: DbSession,
    actor: AdminUser,
    response: Response,
    if_match: IfMatch = None,
) -> OrganisationRead:
    """Rename or re-kind an organisation (admins; If-Match)."""
    organisation = organisations_service.update_organisation(session, organisation_id, data, actor, if_match)
    return concurrency.tagged(response, organisation, OrganisationRead)


@router.delete("/organisations/{organisation_id}", status_code=204, operation_id="delete_organisation")
def delete_organisation(
    organisation_id: uuid.UUID,
    session: DbSession,
    actor: AdminUser,
    if_match: IfMatch = None,
) -> Response:
    """Delete an organisation no staff user or claim refers to (admins; If-Match; 409 otherwise)."""
    organisations_service.delete_organisation(session, organisation_id, actor, if_match)
    return Response(status_code=204)
