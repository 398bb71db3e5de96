"""Bundles: writes with If-Match, which materials may go in, and what targets mean.

Every write flushes in the caller's transaction and is audited. Publishing and recalling are in
app.bundles.publishing; deliveries and the feed change log in app.bundles.delivery.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from app import concurrency
from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.bundles.models import Bundle, BundlePublication
from app.bundles.schemas import BundleCreate, BundleItem, BundleRead, BundleTargets, BundleUpdate
from app.db import get_row, utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.materials.models import Material
from app.pagination import decode_id_cursor, id_page, page_size
from app.taxonomy import service as taxonomy_service
from app.units.models import Unit

SENDABLE_STATUSES = frozenset({"approved", "published"})
UNAUDITED = frozenset({"version", "updated_at"})


def get_bundle(session: Session, bundle_id: uuid.UUID, *, lock: bool = False) -> Bundle:
    bundle = get_row(session, Bundle, bundle_id, lock=lock)  # lock: for a write (see db.get_row)
    if bundle is None:
        raise NotFound(f"No bundle with id {bundle_id}.")
    return bundle


def snapshot(bundle: Bundle) -> dict[str, Any]:
    return BundleRead.model_validate(bundle).model_dump(mode="json")


def list_bundles(
    session: Session, *, status: Sequence[str], priority: Sequence[str], limit: int, cursor: str | None
) -> tuple[list[Bundle], str | None]:
    """Newest first (ids are time-ordered); the cursor is the last id seen."""
    query = select(Bundle).order_by(Bundle.id.desc()).limit(page_size(limit))
    if status:
        query = query.where(Bundle.status.in_(status))
    if priority:
        query = query.where(Bundle.priority.in_(priority))
    if cursor:
        query = query.where(Bundle.id < decode_id_cursor(cursor, Bundle))
    return id_page(list(session.scalars(query)), limit)


# --- what may go in ----------------------------------------------------------------------------


def item_problems(session: Session, items: Sequence[dict[str, Any]], loc: Sequence[str]) -> list[dict[str, Any]]:
    """Errors for items that are not approved or published materials, or are listed twice."""
    ids = [str(item["material_id"]) for item in items]
    rows = session.execute(select(Material.id, Material.status).where(Material.id.in_(ids)))
    statuses = {str(material_id): status for material_id, status in rows}
    problems, seen = [], set()
    for index, material_id in enumerate(ids):
        where = [*loc, index, "material_id"]
        status = statuses.get(material_id)
        if material_id in seen:
            problems.append({"loc": where, "msg": f"Material {material_id} is listed twice."})
        elif status is None:
            problems.append({"loc": where, "msg": f"No material with id {material_id}."})
        elif status not in SENDABLE_STATUSES:
            problems.append(
                {
                    "loc": where,
                    "msg": f"Material {material_id} is {status}; only approved or published ones may be sent.",
                }
            )
        seen.add(material_id)
    return problems


def _check_items(session: Session, items: Sequence[BundleItem]) -> list[dict[str, Any]]:
    stored = [
        {"material_id": str(item.material_id), "note": item.note, "include_translations": item.include_translations}
        for item in items
    ]
    problems = item_problems(session, stored, ["body", "items"])
    if problems:
        error = ValidationFailed(problems[0]["loc"], problems[0]["msg"])
        error.errors = problems
        raise error
    return stored


def _resolve_units(session: Session, values: Sequence[str], loc: Sequence[str]) -> list[str]:
    """Unit ids from ids or codes (case-insensitive), in input order, de-duplicated."""
    ids, codes = set(), set()
    for value in values:
        try:
            ids.add(str(uuid.UUID(value)))
        except ValueError:
            codes.add(value.strip().lower())
    rows = session.execute(
        select(Unit.id, Unit.code).where(or_(Unit.id.in_(ids), func.lower(Unit.code).in_(codes)))
    ).all()
    by_value = {str(unit_id): str(unit_id) for unit_id, _ in rows}
    by_value.update({code.lower(): str(unit_id) for unit_id, code in rows})
    resolved = []
    for index, value in enumerate(values):
        key = value.strip().lower()
        if key not in by_value:
            raise ValidationFailed([*loc, index], f"No unit with id or code '{value}'.")
        resolved.append(by_value[key])
    return list(dict.fromkeys(resolved))


def resolve_targets(session: Session, targets: BundleTargets) -> dict[str, list[str]]:
    """Targets as stored: unit ids, route codes, province ids, unit types."""
    loc = ["body", "targets"]
    provinces = taxonomy_service.resolve_provinces(session, targets.provinces, [*loc, "provinces"])
    return {
        "units": _resolve_units(session, targets.units, [*loc, "units"]),
        "border_routes": taxonomy_service.resolve_border_routes(
            session, targets.border_routes, [*loc, "border_routes"]
        ),
        "provinces": [str(province_id) for province_id in provinces],
        "unit_types": list(dict.fromkeys(targets.unit_types)),
    }


# --- writing -----------------------------------------------------------------------------------


def create_bundle(session: Session, data: BundleCreate, actor: Principal) -> Bundle:
    """A new draft, written by `actor`."""
    return _add_bundle(session, data, actor, actor.id, "bundle.created")


def draft_bundle(session: Session, data: BundleCreate, actor: Principal, author: uuid.UUID | None) -> Bundle:
    """A new draft that `actor` only set off, carrying `author`'s words (a rebuttal's bundle is
    its writer's; None: no one's). The actor wrote none of it, so the four-eyes rule does not
    keep them from publishing it; it keeps the author. Audited as `bundle.drafted`."""
    return _add_bundle(session, data, actor, author, "bundle.drafted")


def _add_bundle(
    session: Session, data: BundleCreate, actor: Principal, written_by: uuid.UUID | None, action: str
) -> Bundle:
    now = utcnow()
    bundle = Bundle(
        title=data.title,
        description=data.description,
        priority=data.priority,
        items=_check_items(session, data.items),
        targets=resolve_targets(session, data.targets),
        status="draft",
        publish_at=data.publish_at,
        expires_at=data.expires_at,
        created_at=now,
        updated_at=now,
        created_by=written_by,
        updated_by=actor.id,
        last_edited_by=written_by,
        version=1,
    )
    session.add(bundle)
    session.flush()
    audit_service.record(session, actor, action, "bundle", bundle.id, audit_service.diff({}, snapshot(bundle)))
    return bundle


def update_bundle(
    session: Session, bundle_id: uuid.UUID, data: BundleUpdate, actor: Principal, if_match: str | None
) -> Bundle:
    """Change the fields sent. A published bundle may be edited: the edit is a new version that
    units receive only when it is published again; a recalled bundle is final (409)."""
    bundle = get_bundle(session, bundle_id, lock=True)
    concurrency.check_if_match(bundle, if_match, "bundle")
    if bundle.status == "recalled":
        raise Conflict("A recalled bundle cannot be edited; create a new one.", extra={"status_now": bundle.status})
    before = snapshot(bundle)
    changes = data.model_dump(exclude_unset=True, exclude={"items", "targets"})
    publish_at = changes.get("publish_at", bundle.publish_at)
    expires_at = changes.get("expires_at", bundle.expires_at)
    if publish_at and expires_at and expires_at <= publish_at:
        raise ValidationFailed(["body", "expires_at"], "expires_at must be after publish_at.")
    if "items" in data.model_fields_set:
        bundle.items = _check_items(session, data.items or [])
    if "targets" in data.model_fields_set:
        bundle.targets = resolve_targets(session, data.targets or BundleTargets())
    for name, value in changes.items():
        setattr(bundle, name, value)
    if snapshot(bundle) == before:
        return bundle  # nothing changed: no new version (see materials_service.update_material)
    bundle.version += 1
    bundle.updated_at = utcnow()
    bundle.updated_by = bundle.last_edited_by = actor.id
    session.flush()
    changes_made = audit_service.diff(before, snapshot(bundle), UNAUDITED)
    audit_service.record(session, actor, "bundle.updated", "bundle", bundle.id, changes_made)
    return bundle


def delete_bundle(session: Session, bundle_id: uuid.UUID, actor: Principal, if_match: str | None) -> None:
    """Drafts only: a bundle that was ever published stays on record (recall it instead)."""
    bundle = get_bundle(session, bundle_id, lock=True)
    concurrency.check_if_match(bundle, if_match, "bundle")
    if bundle.status != "draft":
        raise Conflict(
            f"Only drafts can be deleted; this bundle is {bundle.status} (recall it instead).",
            extra={"status_now": bundle.status},
        )
    audit_service.record(session, actor, "bundle.deleted", "bundle", bundle.id, {"title": [bundle.title, None]})
    session.delete(bundle)
    session.flush()


def refuse_deleting_bundled_material(session: Session, material: Material) -> None:
    """A material named by a bundle (draft or sent) keeps its history: what a unit received must
    stay showable. Items are JSON lists, so the id is looked for in their text (ids are unique)."""
    needle = f"%{material.id}%"
    in_bundle = session.scalar(select(Bundle.id).where(cast(Bundle.items, String).like(needle)).limit(1))
    sent = session.scalar(
        select(BundlePublication.bundle_id).where(cast(BundlePublication.items, String).like(needle)).limit(1)
    )
    if in_bundle or sent:
        raise Conflict(
            f"Material {material.id} is in bundle {in_bundle or sent}; archive it instead of deleting it.",
            extra={"bundle_id": str(in_bundle or sent)},
        )
