"""Publishing and recalling bundles: four eyes, freezing what is sent, and telling the units.

Publishing freezes the bundle's text, its targets and, for every item, the material's current
version (whose whole text material_revisions keeps), so what a unit received can be shown again
exactly however the materials change later. A published bundle may be edited; the edit is a new
version that units receive only when it is published again (a new publication). Recall is final.
"""

import uuid
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app import concurrency
from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.bundles import changelog, delivery
from app.bundles import service as bundles_service
from app.bundles.models import Bundle, BundlePublication, PublicationTarget
from app.db import utcnow
from app.errors import Conflict, Forbidden
from app.materials import translations as translations_service
from app.materials.models import Material
from app.webhooks import service as webhooks_service

# The audit trail is the bundle's history of writes (recorded in each write's own transaction).
WRITES = ("bundle.created", "bundle.updated")
PUBLISHED = "bundle.published"


def writers_since_publication(session: Session, bundle_id: uuid.UUID) -> set[str]:
    """Everyone who wrote any part of the bundle since it was last published (publishing is a
    bundle's approval), from its audit history."""
    writers: set[str] = set()
    for action, actor_id in audit_service.actions_on(session, "bundle", bundle_id, (*WRITES, PUBLISHED)):
        if action == PUBLISHED:
            writers.clear()
        elif actor_id is not None:
            writers.add(actor_id)
    return writers


def _check_four_eyes(
    bundle: Bundle, actor: Principal, what: str, writers: frozenset[str] | set[str] = frozenset()
) -> None:
    if actor.id in {bundle.created_by, bundle.last_edited_by} or str(actor.id) in writers:
        raise Forbidden(
            f"Four eyes: you wrote part of this bundle since it was last published, so someone else must {what} it."
        )


def _check_publishable(session: Session, bundle: Bundle, now: datetime) -> datetime:
    """The moment units may see it; raises Conflict when the bundle cannot be published now."""
    if bundle.status == "recalled":
        raise Conflict(
            "A recalled bundle cannot be published again; create a new one.", extra={"status_now": "recalled"}
        )
    if bundle.status == "published" and bundle.published_version == bundle.version:
        raise Conflict("This version is published already; edit the bundle to publish a new version.")
    if not bundle.items:
        raise Conflict("The bundle has no items; add approved materials first.")
    if not any(bundle.targets.get(field) for field in delivery.TARGET_FACETS):
        raise Conflict("The bundle has no targets; name units, border routes, provinces or unit types.")
    problems = bundles_service.item_problems(session, bundle.items, ["items"])
    if problems:
        raise Conflict("Some items can no longer be sent.", errors=problems)
    release_at = max(bundle.publish_at or now, now)
    if bundle.expires_at is not None and bundle.expires_at <= release_at:
        raise Conflict("expires_at has passed (or comes before publish_at); change it before publishing.")
    return release_at


def _with_translations(session: Session, items: list[dict]) -> list[dict]:
    """The bundle's items, each asking for translations followed by its published translations
    (those not listed in the bundle already), so every unit gets each of them."""
    asked = [item["material_id"] for item in items if item.get("include_translations")]
    found = translations_service.published_translations(session, asked)
    listed = {item["material_id"] for item in items}
    expanded: list[dict] = []
    for item in items:
        expanded.append(item)
        for translation_id, _ in found.get(item["material_id"], []) if item.get("include_translations") else []:
            if translation_id not in listed:
                listed.add(translation_id)
                expanded.append({"material_id": translation_id, "note": item["note"]})
    return expanded


def _freeze(
    session: Session, bundle: Bundle, actor: Principal, now: datetime, release_at: datetime
) -> BundlePublication:
    items = _with_translations(session, bundle.items)
    ids = [item["material_id"] for item in items]
    versions = {
        str(k): v for k, v in session.execute(select(Material.id, Material.version).where(Material.id.in_(ids)))
    }
    publication = BundlePublication(
        bundle_id=bundle.id,
        version=bundle.version,
        title=bundle.title,
        description=bundle.description,
        priority=bundle.priority,
        items=[
            {"material_id": m, "material_version": versions[m], "note": item["note"]}
            for item in items
            for m in [item["material_id"]]
        ],
        targets=bundle.targets,
        published_by=actor.id,
        published_at=now,
        release_at=release_at,
        expires_at=bundle.expires_at,
        due_at=release_at,
    )
    session.add(publication)
    session.flush()
    rows = delivery.target_rows(publication)
    if rows:
        session.execute(insert(PublicationTarget), rows)
    return publication


def publish_bundle(session: Session, bundle_id: uuid.UUID, actor: Principal, if_match: str | None) -> Bundle:
    """Freeze the current version and deliver it to every unit its targets address (reviewer or
    admin, not its author or last editor). Released at once, or at `publish_at` by the releaser."""
    bundle = bundles_service.get_bundle(session, bundle_id, lock=True)
    if if_match is not None:
        concurrency.check_if_match(bundle, if_match, "bundle")
    _check_four_eyes(bundle, actor, "publish", writers_since_publication(session, bundle.id))
    status_before = bundle.status
    changelog.lock_feed(session)
    now = utcnow()
    release_at = _check_publishable(session, bundle, now)
    publication = _freeze(session, bundle, actor, now, release_at)
    units = delivery.addressed_units(session, bundle.targets)
    delivery.address(session, publication, units)
    delivery.withdraw_others(session, publication, units)
    session.execute(
        update(BundlePublication)
        .where(
            BundlePublication.bundle_id == bundle.id,
            BundlePublication.version != bundle.version,
            BundlePublication.released_at.is_(None),
            BundlePublication.superseded_at.is_(None),
        )
        .values(superseded_at=now, due_at=None)
        .execution_options(synchronize_session="fetch")
    )
    bundle.status, bundle.published_version, bundle.published_at = "published", bundle.version, release_at
    if release_at <= now:
        delivery.release(session, publication, now)
    session.flush()
    changes = {"status": [status_before, "published"], "version": [None, bundle.version], "units": [None, len(units)]}
    changes["release_at"] = [None, release_at.isoformat()]
    audit_service.record(session, actor, "bundle.published", "bundle", bundle.id, changes)
    return bundle


def recall_bundle(session: Session, bundle_id: uuid.UUID, actor: Principal, if_match: str | None) -> Bundle:
    """Withdraw a published bundle for good: units that have it get a `recalled` tombstone and
    its content and package answer 410; a scheduled release is cancelled."""
    bundle = bundles_service.get_bundle(session, bundle_id, lock=True)
    if if_match is not None:
        concurrency.check_if_match(bundle, if_match, "bundle")
    if bundle.status != "published":
        raise Conflict(
            f"Only a published bundle can be recalled; this one is {bundle.status}.",
            extra={"status_now": bundle.status},
        )
    _check_four_eyes(bundle, actor, "recall")
    changelog.lock_feed(session)
    now = utcnow()
    session.execute(
        update(BundlePublication)
        .where(BundlePublication.bundle_id == bundle.id)
        .values(due_at=None)
        .execution_options(synchronize_session="fetch")
    )
    told = delivery.tombstone_units(session, bundle.id, "recalled")
    bundle.status, bundle.recalled_at = "recalled", now
    session.flush()
    changes = {"status": ["published", "recalled"], "units_told": [None, len(told)]}
    audit_service.record(session, actor, "bundle.recalled", "bundle", bundle.id, changes)
    event = {"bundle_id": bundle.id, "version": bundle.published_version, "title": bundle.title, "recalled_at": now}
    webhooks_service.emit(session, "bundle.recalled", event, unit_ids=told)
    return bundle
