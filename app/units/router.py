import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app import concurrency
from app.accounts.deps import AdminUser, StaffUser
from app.concurrency import IfMatch
from app.db import DbSession
from app.errors import NotFound
from app.pagination import Limit
from app.taxonomy import service as taxonomy_service
from app.units import keys
from app.units import service as units_service
from app.units.schemas import KeyCreated, KeyPage, KeyRead, UnitCreate, UnitPage, UnitRead, UnitType, UnitUpdate

router = APIRouter(tags=["units"])


@router.post("/units", status_code=201, response_model=UnitRead, operation_id="create_unit")
def create_unit(data: UnitCreate, session: DbSession, actor: AdminUser, response: Response) -> UnitRead:
    """Register a receiving unit (admins). Province and routes may be given by name."""
    unit = units_service.create_unit(session, data, actor)
    return concurrency.created(response, f"/units/{unit.id}", unit, UnitRead)


@router.get("/units", response_model=UnitPage, operation_id="list_units")
def list_units(
    session: DbSession,
    _: StaffUser,
    active: bool | None = None,
    type: Annotated[list[UnitType], Query()] = [],
    border_route: Annotated[list[str], Query()] = [],
    province: Annotated[list[str], Query()] = [],
    limit: Limit = 20,
    cursor: str | None = None,
) -> UnitPage:
    """Units, oldest first; a province filter matches its whole line of succession."""
    province_ids = taxonomy_service.resolve_provinces(session, province, ["query", "province"])
    items, next_cursor = units_service.list_units(
        session,
        active=active,
        unit_type=list(type),
        border_route=taxonomy_service.resolve_border_routes(session, border_route, ["query", "border_route"]),
        province_line=taxonomy_service.province_line_ids(session, province_ids) if province_ids else [],
        limit=limit,
        cursor=cursor,
    )
    return UnitPage(items=[UnitRead.model_validate(u) for u in items], next_cursor=next_cursor)


@router.get("/units/{unit_id}", response_model=UnitRead, operation_id="get_unit")
def get_unit(unit_id: uuid.UUID, session: DbSession, _: StaffUser, response: Response) -> UnitRead:
    """One unit, with its ETag."""
    return concurrency.tagged(response, units_service.get_unit(session, unit_id), UnitRead)


@router.patch("/units/{unit_id}", response_model=UnitRead, operation_id="update_unit")
def update_unit(
    unit_id: uuid.UUID,
    data: UnitUpdate,
    session: DbSession,
    actor: AdminUser,
    response: Response,
    if_match: IfMatch = None,
) -> UnitRead:
    """Change a unit (admins); needs If-Match. Setting `active` to false stops its keys at once."""
    return concurrency.tagged(response, units_service.update_unit(session, unit_id, data, actor, if_match), UnitRead)


@router.delete("/units/{unit_id}", response_model=UnitRead, operation_id="deactivate_unit")
def deactivate_unit(
    unit_id: uuid.UUID,
    session: DbSession,
    actor: AdminUser,
    response: Response,
    if_match: IfMatch = None,
) -> UnitRead:
    """Deactivate (admins; units are never deleted: what they received stays on record). Needs If-Match."""
    return concurrency.tagged(response, units_service.deactivate_unit(session, unit_id, actor, if_match), UnitRead)


@router.post("/units/{unit_id}/keys", status_code=201, response_model=KeyCreated, operation_id="issue_unit_key")
def issue_unit_key(unit_id: uuid.UUID, session: DbSession, actor: AdminUser, response: Response) -> KeyCreated:
    """A new API key for the unit (admins). The key is shown in this answer only; keep it safe.
    A unit may hold several keys, so a new one can be rolled out before the old is revoked."""
    unit = units_service.get_unit(session, unit_id)
    api_key, plain = units_service.issue_key(session, unit, actor)
    concurrency.located(response, f"/units/{unit.id}/keys/{api_key.id}")
    response.headers["Cache-Control"] = "no-store"
    return KeyCreated(id=api_key.id, prefix=api_key.prefix, key=plain, created_at=api_key.created_at)


@router.get("/units/{unit_id}/keys", response_model=KeyPage, operation_id="list_unit_keys")
def list_unit_keys(
    unit_id: uuid.UUID, session: DbSession, _: AdminUser, limit: Limit = 20, cursor: str | None = None
) -> KeyPage:
    """The unit's keys, oldest first: prefixes and dates, never the secrets."""
    units_service.get_unit(session, unit_id)
    shown, next_cursor = keys.list_keys(session, unit_id, limit, cursor)
    return KeyPage(items=[KeyRead.model_validate(k) for k in shown], next_cursor=next_cursor)


@router.get("/units/{unit_id}/keys/{key_id}", response_model=KeyRead, operation_id="read_unit_key")
def read_unit_key(unit_id: uuid.UUID, key_id: uuid.UUID, session: DbSession, _: AdminUser) -> KeyRead:
    """One of the unit's keys (where a new key's `Location` points): its prefix and dates, never the secret."""
    units_service.get_unit(session, unit_id)
    api_key = keys.get_key(session, unit_id, key_id)
    if api_key is None:
        raise NotFound(f"Unit {unit_id} has no key {key_id}.")
    return KeyRead.model_validate(api_key)


@router.delete("/units/{unit_id}/keys/{key_id}", status_code=204, operation_id="revoke_unit_key")
def revoke_unit_key(unit_id: uuid.UUID, key_id: uuid.UUID, session: DbSession, actor: AdminUser) -> Response:
    """Revoke a key; it stops working at once (within seconds on other server processes)."""
    if keys.revoke_key(session, unit_id, key_id, actor) is None:
        raise NotFound(f"Unit {unit_id} has no key {key_id}.")
    return Response(status_code=204)
