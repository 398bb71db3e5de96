"""The rules for materials: writes, concurrency, workflow, revisions and the search outbox.

Every write here happens in the caller's transaction (services flush, never commit) and, in
that same transaction, saves the new version whole as a revision and queues the material for
the search indexer.
"""

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from app import concurrency
from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.db import get_row, new_id, utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.materials import translations, workflow
from app.materials.filters import MaterialFilters
from app.materials.models import (
    TAG_FIELDS,
    Material,
    MaterialRebut,
    MaterialRevision,
    MaterialTag,
    SearchOutbox,
)
from app.materials.schemas import MaterialCreate, MaterialRead, MaterialUpdate, RebutItem
from app.pagination import decode_id_cursor, decode_int_cursor, encode_values, id_page, page_size, split_page
from app.schemas import INT32_MAX
from app.taxonomy import service as taxonomy_service

PLAIN_FIELDS = ("title", "summary", "body", "kind", "language", "classification", "publish_at", "expires_at", "source")


# --- reading -----------------------------------------------------------------------------------


def get_material(session: Session, material_id: uuid.UUID, *, lock: bool = False) -> Material:
    material = get_row(session, Material, material_id, lock=lock)  # lock: for a write (see db.get_row)
    if material is None:
        raise NotFound(f"No material with id {material_id}.")
    return material


# The ETag a write on the material must send as If-Match.
etag = concurrency.etag


def apply_filters(query: Select[Any], filters: MaterialFilters) -> Select[Any]:
    """Restrict a SELECT over Material by the resolved filters (OR within, AND across)."""
    tag_filters = {
        "ethnic_group": filters.ethnic_group,
        "border_route": filters.border_route,
        "province": filters.province,
        "topic": filters.topic,
    }
    for facet, values in tag_filters.items():
        if values:
            query = query.where(
                exists().where(
                    MaterialTag.material_id == Material.id,
                    MaterialTag.facet == facet,
                    MaterialTag.value.in_(values),
                )
            )
    for column, values in (
        (Material.kind, filters.kind),
        (Material.language, filters.language),
        (Material.status, filters.status),
        (Material.classification, filters.classification),
    ):
        if values:
            query = query.where(column.in_(values))
    if filters.published_from:
        query = query.where(Material.published_at >= filters.published_from)
    if filters.published_to:
        query = query.where(Material.published_at <= filters.published_to)
    return query


def list_materials(
    session: Session, filters: MaterialFilters, limit: int, cursor: str | None
) -> tuple[list[Material], str | None]:
    """Newest first (ids are time-ordered); the cursor is the last id seen."""
    query = apply_filters(select(Material), filters).order_by(Material.id.desc()).limit(page_size(limit))
    if cursor:
        query = query.where(Material.id < decode_id_cursor(cursor, Material))
    return id_page(list(session.scalars(query)), limit)


# --- writing -----------------------------------------------------------------------------------


def resolve_tags(session: Session, values: dict[str, list[str]]) -> dict[str, list[str]]:
    """Codes, names and other names -> the codes and ids stored; unknown values are 422s."""
    resolved: dict[str, list[str]] = {}
    for field, given in values.items():
        loc = ["body", field]
        if field == "ethnic_groups":
            resolved[field] = taxonomy_service.resolve_ethnic_groups(session, given, loc)
        elif field == "border_routes":
            resolved[field] = taxonomy_service.resolve_border_routes(session, given, loc)
        elif field == "provinces":
            resolved[field] = [str(i) for i in taxonomy_service.resolve_provinces(session, given, loc)]
        else:
            resolved[field] = taxonomy_service.resolve_topics(session, given, loc)
    return resolved


def _set_tags(material: Material, field: str, values: list[str]) -> None:
    facet = TAG_FIELDS[field]
    keep = [t for t in material.tags if t.facet != facet]
    new = [MaterialTag(facet=facet, value=v, position=i) for i, v in enumerate(dict.fromkeys(values))]
    material.tags = keep + new


# Called before a material is deleted; a check raises Conflict to refuse. Domains that keep
# references to materials are registered here by app/wiring.py, so materials never import them.
# A source with translations is the materials domain's own rule.
deletion_checks: list[Callable[[Session, Material], None]] = [translations.refuse_deleting_a_source]

# Called with the claim ids a rebuttal names (and where they were given); a check raises a 4xx
# for an unknown claim. app/wiring.py registers the claims domain's, so materials never import it.
rebuts_checks: list[Callable[[Session, list[uuid.UUID], list[str | int]], None]] = []
# Called after a material changed status, in the same transaction: (session, material, before,
# actor). app/wiring.py registers the claims domain's, which acts when a rebuttal is published.
transition_hooks: list[Callable[[Session, Material, str, Principal], None]] = []

# Bookkeeping that changes on every write; the audit trail records what the writer changed.
UNAUDITED = frozenset({"version", "updated_at"})


def history_for(
    material: Material, actor: Principal | None, change: str, before: dict[str, Any] | None = None
) -> list[object]:
    """The revision that keeps this version whole, the outbox row that queues it for search,
    and, when `before` is given, the audit record of what changed."""
    saved = snapshot(material)
    rows: list[object] = [
        MaterialRevision(**revision_values(material, actor, change, saved)),
        SearchOutbox(material_id=material.id, version=material.version),
    ]
    if before is not None:
        changes = audit_service.diff(before, saved, UNAUDITED)
        rows.append(audit_service.entry(actor, f"material.{change}", "material", material.id, changes))
    return rows


def revision_values(material: Any, actor: Principal | None, change: str, snapshot: dict[str, Any]) -> dict[str, Any]:
    """The columns of the revision that keeps `material`'s current version whole."""
    return {
        "material_id": material.id,
        "version": material.version,
        "snapshot": snapshot,
        "saved_at": material.updated_at,
        "saved_by": actor.id if actor and actor.is_staff else None,
        "change": change,
    }


def snapshot(material: Material) -> dict[str, Any]:
    return MaterialRead.model_validate(material).model_dump(mode="json")


def record_version(
    session: Session, material: Material, actor: Principal | None, change: str, before: dict[str, Any]
) -> None:
    """Save this version whole, queue it for indexing and audit it, in the caller's transaction."""
    session.add_all(history_for(material, actor, change, before))
    session.flush()


def queue_for_index(session: Session, material_id: uuid.UUID, version: int) -> None:
    session.add(SearchOutbox(material_id=material_id, version=version))


def build_material(
    data: MaterialCreate,
    tags: dict[str, list[str]],
    actor: Principal | None,
    *,
    status: str = "draft",
    is_demo: bool = False,
) -> Material:
    """A new material built whole in memory (tags resolved already), so bulk loads can add many at once."""
    material = Material(**new_material_values(data, actor, status=status, is_demo=is_demo), attachments=[])
    material.tags = [
        MaterialTag(material_id=material.id, facet=facet, value=value, position=position)
        for facet, value, position in tag_rows(tags)
    ]
    material.rebuts = _rebut_rows(material.id, data.rebuts)
    return material


def new_material_values(data: MaterialCreate, actor: Principal | None, *, status: str, is_demo: bool) -> dict[str, Any]:
    """The columns of a new material (version 1, written now by `actor`) in `status`."""
    now = utcnow()
    actor_id = actor.id if actor and actor.is_staff else None
    return {
        "id": new_id(),
        **{name: getattr(data, name) for name in PLAIN_FIELDS},
        "status": status,
        "published_at": max(data.publish_at or now, now) if status in ("published", "archived") else None,
        "is_demo": is_demo,
        "created_at": now,
        "updated_at": now,
        "created_by": actor_id,
        "updated_by": actor_id,
        "last_edited_by": actor_id,
        "version": 1,
        "translation_of": data.translation_of,
    }


def tag_rows(tags: dict[str, list[str]]) -> list[tuple[str, str, int]]:
    """(facet, value, position) of resolved tags: values de-duplicated, position in input order per facet."""
    return [
        (TAG_FIELDS[field], value, position)
        for field, values in tags.items()
        for position, value in enumerate(dict.fromkeys(values))
    ]


def _rebut_rows(material_id: uuid.UUID, items: list[RebutItem]) -> list[MaterialRebut]:
    return [
        MaterialRebut(material_id=material_id, claim_id=item.claim_id, verdict=item.verdict, position=i)
        for i, item in enumerate(items)
    ]


def _check_rebuts(session: Session, items: list[RebutItem]) -> None:
    for check in rebuts_checks:
        check(session, [item.claim_id for item in items], ["body", "rebuts"])


def check_references(session: Session, data: MaterialCreate) -> None:
    """422 for what a new material names that cannot be: a source it cannot translate, a claim
    that does not exist (or was merged away)."""
    translations.check_translation(session, None, data.translation_of, data.language)
    if data.rebuts:
        _check_rebuts(session, data.rebuts)


def create_material(session: Session, data: MaterialCreate, actor: Principal | None) -> Material:
    """A new draft, its first revision and its outbox row."""
    check_references(session, data)
    tags = resolve_tags(session, {f: getattr(data, f) for f in TAG_FIELDS})
    material = build_material(data, tags, actor)
    session.add(material)
    record_version(session, material, actor, "created", before={})
    return material


def check_if_match(material: Material, if_match: str | None) -> None:
    concurrency.check_if_match(material, if_match, "material")


def update_material(
    session: Session, material_id: uuid.UUID, data: MaterialUpdate, actor: Principal, if_match: str | None
) -> Material:
    material = get_material(session, material_id, lock=True)
    check_if_match(material, if_match)
    workflow.check_editable(material)
    before = snapshot(material)
    changes = data.model_dump(exclude_unset=True)
    tag_changes = resolve_tags(session, {f: changes.pop(f) for f in list(changes) if f in TAG_FIELDS})
    rebuts = data.rebuts if changes.pop("rebuts", None) is not None else None
    if (rebuts if rebuts is not None else material.rebuts) and changes.get("kind", material.kind) != "rebuttal":
        raise ValidationFailed(["body", "rebuts"], "rebuts is for materials of kind rebuttal.")
    if rebuts is not None:
        _check_rebuts(session, rebuts)
        # Replaced whole: flush the removals first, as the new rows may reuse their keys.
        material.rebuts = []
        session.flush()
        material.rebuts = _rebut_rows(material.id, rebuts)
    publish_at = changes.get("publish_at", material.publish_at)
    expires_at = changes.get("expires_at", material.expires_at)
    if publish_at and expires_at and expires_at <= publish_at:
        raise ValidationFailed(["body", "expires_at"], "expires_at must be after publish_at.")
    if "translation_of" in changes or "language" in changes:
        source_id = changes.get("translation_of", material.translation_of)
        changed = "translation_of" if "translation_of" in changes else "language"
        translations.check_translation(
            session, material, source_id, changes.get("language", material.language), changed
        )
    for name, value in changes.items():
        setattr(material, name, value)
    for field, values in tag_changes.items():
        _set_tags(material, field, values)
    if snapshot(material) == before:
        # Nothing changed (an empty body, or the values it already has): no new version, so
        # nobody else's ETag goes stale for it, and no revision that records nothing.
        return material
    bump(material, actor, content_edit=True)
    record_version(session, material, actor, "updated", before)
    return material


def bump(material: Material, actor: Principal, *, content_edit: bool) -> None:
    material.version += 1
    material.updated_at = utcnow()
    material.updated_by = actor.id
    if content_edit:
        material.last_edited_by = actor.id


def delete_material(session: Session, material_id: uuid.UUID, actor: Principal, if_match: str | None) -> None:
    material = get_material(session, material_id, lock=True)
    check_if_match(material, if_match)
    if material.status != "draft":
        raise Conflict(
            f"Only drafts can be deleted; this material is {material.status} (archive it instead).",
            extra={"status_now": material.status},
        )
    for check in deletion_checks:
        check(session, material)
    # The deletion outranks every version the material had, so no stale update can revive it.
    queue_for_index(session, material.id, material.version + 1)
    audit_service.record(session, actor, "material.deleted", "material", material.id, {"title": [material.title, None]})
    session.delete(material)
    session.flush()


def transition(
    session: Session, material_id: uuid.UUID, to: str, actor: Principal, if_match: str | None = None
) -> Material:
    material = get_material(session, material_id, lock=True)
    if if_match is not None:
        check_if_match(material, if_match)
    workflow.check_move(material, to, actor, content_contributors(session, material.id))
    before = snapshot(material)
    material.status = to
    if to == "published":
        material.published_at = max(material.publish_at or utcnow(), utcnow())
    bump(material, actor, content_edit=False)
    record_version(session, material, actor, f"transition:{to}", before)
    for hook in transition_hooks:
        hook(session, material, before["status"], actor)
    return material


def content_contributors(session: Session, material_id: uuid.UUID) -> set[uuid.UUID]:
    """Who wrote the content now under review, read from the revisions (see workflow)."""
    history = session.execute(
        select(MaterialRevision.version, MaterialRevision.change, MaterialRevision.saved_by).where(
            MaterialRevision.material_id == material_id
        )
    )
    return workflow.content_contributors([tuple(row) for row in history])


def list_revisions(
    session: Session, material_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[MaterialRevision], str | None]:
    """A page of the material's revisions, oldest first; the cursor carries the last version shown."""
    get_material(session, material_id)
    query = select(MaterialRevision).where(MaterialRevision.material_id == material_id)
    if cursor is not None:
        query = query.where(MaterialRevision.version > decode_int_cursor(cursor, INT32_MAX))
    rows = session.scalars(query.order_by(MaterialRevision.version).limit(page_size(limit))).all()
    return split_page(rows, limit, lambda revision: encode_values(revision.version))


def get_revision(session: Session, material_id: uuid.UUID, version: int) -> MaterialRevision:
    revision = session.get(MaterialRevision, (material_id, version))
    if revision is None:
        get_material(session, material_id)
        raise NotFound(f"Material {material_id} has no version {version}.")
    return revision
