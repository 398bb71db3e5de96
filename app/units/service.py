"""The register of receiving units. Units are deactivated, never deleted: history keeps them."""

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import concurrency
from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.db import get_row, utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.pagination import decode_id_cursor, id_page
from app.taxonomy import service as taxonomy_service
from app.units import keys
from app.units.models import ApiKey, Unit
from app.units.schemas import UnitCreate, UnitRead, UnitUpdate

# Called (in the caller's transaction) when a unit starts receiving: created active, or
# re-activated. Domains that deliver to units are registered here by app/wiring.py, so that
# units never import them.
unit_activated_hooks: list[Callable[[Session, Unit], None]] = []


def _activated(session: Session, unit: Unit) -> None:
    for hook in unit_activated_hooks:
        hook(session, unit)


def get_unit(session: Session, unit_id: uuid.UUID, *, lock: bool = False) -> Unit:
    unit = get_row(session, Unit, unit_id, lock=lock)  # lock: for a write (see db.get_row)
    if unit is None:
        raise NotFound(f"No unit with id {unit_id}.")
    return unit


def get_unit_by_code(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(func.lower(Unit.code) == code.lower()))
    if unit is None:
        raise NotFound(f"No unit with code {code}.")
    return unit


def snapshot(unit: Unit) -> dict[str, Any]:
    return UnitRead.model_validate(unit).model_dump(mode="json", exclude={"created_at", "updated_at", "version"})


def _resolve_place(session: Session, province: str | None, routes: list[str]) -> tuple[uuid.UUID | None, list[str]]:
    # None: no province. Anything else must name one ("" and "  " are refused, not read as none).
    province_id = None
    if province is not None:
        province_id = taxonomy_service.resolve_province(session, province, ["body", "province"]).id
    return province_id, taxonomy_service.resolve_border_routes(session, routes, ["body", "border_routes"])


def _check_parent(session: Session, unit_id: uuid.UUID | None, parent_id: uuid.UUID | None) -> None:
    """The parent must exist, and following parents must never lead back to the unit."""
    seen = {unit_id}
    current = parent_id
    while current is not None:
        if current in seen:
            raise ValidationFailed(["body", "parent_id"], "A unit cannot be its own ancestor.")
        seen.add(current)
        parent = session.get(Unit, current)
        if parent is None:
            raise ValidationFailed(["body", "parent_id"], f"No unit with id {current}.")
        current = parent.parent_id


def create_unit(session: Session, data: UnitCreate, actor: Principal | None) -> Unit:
    if session.scalar(select(Unit.id).where(func.lower(Unit.code) == data.code.lower())):
        raise Conflict(f"A unit with the code {data.code} exists already.")
    province_id, routes = _resolve_place(session, data.province, data.border_routes)
    _check_parent(session, None, data.parent_id)
    unit = Unit(
        code=data.code,
        name=data.name,
        type=data.type,
        province=province_id,
        border_routes=routes,
        parent_id=data.parent_id,
        active=data.active,
    )
    session.add(unit)
    session.flush()
    audit_service.record(session, actor, "unit.created", "unit", unit.id, audit_service.diff({}, snapshot(unit)))
    if unit.active:
        _activated(session, unit)
    return unit


def update_unit(session: Session, unit_id: uuid.UUID, data: UnitUpdate, actor: Principal, if_match: str | None) -> Unit:
    unit = get_unit(session, unit_id, lock=True)
    concurrency.check_if_match(unit, if_match, "unit")
    before = snapshot(unit)
    was_active = unit.active
    changes = data.model_dump(exclude_unset=True)
    for name in ("name", "type", "active", "border_routes"):  # [] clears the routes; null means nothing
        if name in changes and changes[name] is None:
            raise ValidationFailed(["body", name], f"{name} cannot be null.")
    if "province" in changes or "border_routes" in changes:
        province_id, routes = _resolve_place(
            session, changes.pop("province", None), changes.pop("border_routes", None) or []
        )
        if "province" in data.model_fields_set:
            unit.province = province_id
        if data.border_routes is not None:
            unit.border_routes = routes
    if "parent_id" in changes:
        _check_parent(session, unit.id, changes["parent_id"])
    for name, value in changes.items():
        setattr(unit, name, value)
    unit.version += 1
    unit.updated_at = utcnow()
    session.flush()
    keys.forget_unit(unit.id)
    audit_service.record(session, actor, "unit.updated", "unit", unit.id, audit_service.diff(before, snapshot(unit)))
    if unit.active and not was_active:
        _activated(session, unit)
    return unit


def deactivate_unit(session: Session, unit_id: uuid.UUID, actor: Principal, if_match: str | None) -> Unit:
    """What DELETE does: the unit stops receiving and its keys stop working; its history stays."""
    return update_unit(session, unit_id, UnitUpdate(active=False), actor, if_match)


def list_units(
    session: Session,
    *,
    active: bool | None,
    unit_type: list[str],
    border_route: list[str],
    province_line: list[str],
    limit: int,
    cursor: str | None,
) -> tuple[list[Unit], str | None]:
    query = select(Unit).order_by(Unit.id)
    if active is not None:
        query = query.where(Unit.active == active)
    if unit_type:
        query = query.where(Unit.type.in_(unit_type))
    if province_line:
        query = query.where(Unit.province.in_(province_line))
    if cursor:
        query = query.where(Unit.id > decode_id_cursor(cursor, Unit))
    rows = list(session.scalars(query))
    if border_route:
        # Border routes are a small JSON list per unit; filter in Python to stay portable.
        rows = [u for u in rows if set(u.border_routes) & set(border_route)]
    return id_page(rows, limit)


def issue_key(session: Session, unit: Unit, actor: Principal | None) -> tuple[ApiKey, str]:
    """A new key for the unit, recorded in the audit log; the plain key is returned here only.
    A deactivated unit's keys are refused, so issuing one is a 409 until it is reactivated."""
    if not unit.active:
        raise Conflict(
            f"Unit {unit.code} is deactivated and its keys are refused; reactivate it (PATCH active: true) first."
        )
    api_key, plain = keys.issue_key(session, unit.id, actor.id if actor else None)
    audit_service.record(session, actor, "key.issued", "unit", unit.id, {"key_id": [None, str(api_key.id)]})
    return api_key, plain
