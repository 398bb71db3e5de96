"""Who receives a publication, and what each unit is told when.

A publication is addressed to the active units its targets match (explicit units, and units
matching ANY selector); each gets one delivery row. Units are told through the feed change log
(app.bundles.changelog) when the publication is released: at once, or at `publish_at` by
app.bundles.release. Everything here runs in the caller's transaction and works in bulk, so
publishing to thousands of units is a handful of statements.
"""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.bundles import changelog
from app.bundles.models import VISIBLE_KINDS, Bundle, BundlePublication, Delivery, PublicationTarget
from app.db import get_row, start_writing, utcnow
from app.errors import NotFound
from app.taxonomy import service as taxonomy_service
from app.units.models import Unit
from app.webhooks import service as webhooks_service

CHUNK = 1000
NOTHING = ("", 0)
# A delivery that starts again for a new version: nothing of it has arrived yet.
RENEWED = {"status": "pending", "fetched_at": None, "acknowledged_at": None, "withdrawn_at": None}
TARGET_FACETS = {"units": "unit", "border_routes": "border_route", "provinces": "province", "unit_types": "unit_type"}


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def matches(unit: Any, targets: dict[str, list[str]], province_line: set[str]) -> bool:
    """Whether a unit (anything with id, type, province, border_routes) is addressed by targets."""
    return (
        str(unit.id) in targets.get("units", [])
        or unit.type in targets.get("unit_types", [])
        or (unit.province is not None and str(unit.province) in province_line)
        or bool(set(unit.border_routes or ()) & set(targets.get("border_routes", [])))
    )


def addressed_units(session: Session, targets: dict[str, list[str]]) -> list[uuid.UUID]:
    """Active units the targets address; a province selector covers its whole line of succession."""
    provinces = targets.get("provinces", [])
    line = set(taxonomy_service.province_line_ids(session, provinces)) if provinces else set()
    rows = session.execute(
        select(Unit.id, Unit.type, Unit.province, Unit.border_routes).where(Unit.active.is_(True)).order_by(Unit.id)
    )
    return [row.id for row in rows if matches(row, targets, line)]


def target_rows(publication: BundlePublication) -> list[dict[str, Any]]:
    return [
        {"bundle_id": publication.bundle_id, "version": publication.version, "facet": facet, "value": value}
        for field, facet in TARGET_FACETS.items()
        for value in dict.fromkeys(publication.targets.get(field, []))
    ]


def address(session: Session, publication: BundlePublication, unit_ids: Sequence[uuid.UUID]) -> None:
    """Deliveries of this version to these units: new rows pending; rows for another version (or
    withdrawn) start again as pending for this one."""
    existing = set(session.scalars(select(Delivery.unit_id).where(Delivery.bundle_id == publication.bundle_id)))
    now = utcnow()
    new = [
        {
            "bundle_id": publication.bundle_id,
            "unit_id": u,
            "status": "pending",
            "version": publication.version,
            "created_at": now,
        }
        for u in unit_ids
        if u not in existing
    ]
    for chunk in _chunks(new):
        session.execute(insert(Delivery), list(chunk))
    renewed = [unit_id for unit_id in unit_ids if unit_id in existing]
    for chunk in _chunks(renewed):
        session.execute(
            update(Delivery)
            .where(
                Delivery.bundle_id == publication.bundle_id,
                Delivery.unit_id.in_(chunk),
                or_(Delivery.version != publication.version, Delivery.withdrawn_at.isnot(None)),
            )
            .values(RENEWED | {"version": publication.version})
            .execution_options(synchronize_session=False)
        )


def withdraw_others(session: Session, publication: BundlePublication, unit_ids: Sequence[uuid.UUID]) -> None:
    """Deliveries to units this publication no longer addresses are withdrawn (told at release)."""
    keep = set(unit_ids)
    rows = session.scalars(
        select(Delivery.unit_id).where(Delivery.bundle_id == publication.bundle_id, Delivery.withdrawn_at.is_(None))
    )
    gone = [unit_id for unit_id in rows if unit_id not in keep]
    for chunk in _chunks(gone):
        session.execute(
            update(Delivery)
            .where(Delivery.bundle_id == publication.bundle_id, Delivery.unit_id.in_(chunk))
            .values(withdrawn_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def release(session: Session, publication: BundlePublication, now: datetime) -> int:
    """Tell the addressed units: `published`, or `updated` for units that have an earlier version;
    units that saw it but are no longer addressed get a `recalled` tombstone for what they had.
    Earlier publications are superseded. Returns how many units were told."""
    changelog.lock_feed(session)
    bundle_id, version = publication.bundle_id, publication.version
    addressed = set(
        session.scalars(
            select(Delivery.unit_id).where(
                Delivery.bundle_id == bundle_id, Delivery.version == version, Delivery.withdrawn_at.is_(None)
            )
        )
    )
    latest = changelog.latest_for_bundle(session, bundle_id)
    rows = [
        (unit_id, bundle_id, version, "updated" if latest.get(unit_id, NOTHING)[0] in VISIBLE_KINDS else "published")
        for unit_id in addressed
    ]
    rows += [
        (unit_id, bundle_id, seen_version, "recalled")
        for unit_id, (kind, seen_version) in latest.items()
        if kind in VISIBLE_KINDS and unit_id not in addressed
    ]
    changelog.append(session, rows)
    session.execute(
        update(BundlePublication)
        .where(
            BundlePublication.bundle_id == bundle_id,
            BundlePublication.version != version,
            BundlePublication.superseded_at.is_(None),
        )
        .values(superseded_at=now, due_at=None)
        .execution_options(synchronize_session="fetch")
    )
    publication.released_at = now
    publication.due_at = publication.expires_at
    session.flush()
    webhooks_service.emit(session, "bundle.published", event_data(publication), unit_ids=addressed)
    return len(addressed)


def event_data(publication: BundlePublication) -> dict[str, Any]:
    """What a webhook receiver is told about a publication (it reads the rest from the API)."""
    return {
        "bundle_id": publication.bundle_id,
        "version": publication.version,
        "title": publication.title,
        "priority": publication.priority,
        "released_at": publication.released_at,
        "expires_at": publication.expires_at,
    }


def tombstone(session: Session, bundle_id: uuid.UUID, kind: str) -> int:
    """A `recalled` or `expired` change for every unit that sees the bundle; returns how many."""
    return len(tombstone_units(session, bundle_id, kind))


def tombstone_units(session: Session, bundle_id: uuid.UUID, kind: str) -> list[uuid.UUID]:
    """As `tombstone`, returning the units told."""
    changelog.lock_feed(session)
    latest = changelog.latest_for_bundle(session, bundle_id)
    rows = [(unit_id, bundle_id, version, kind) for unit_id, (seen, version) in latest.items() if seen in VISIBLE_KINDS]
    changelog.append(session, rows)
    return [row[0] for row in rows]


def expire(session: Session, publication: BundlePublication, now: datetime) -> int:
    """Past `expires_at`: units that see the bundle get an `expired` tombstone."""
    publication.expired_at = now
    publication.due_at = None
    session.flush()
    return tombstone(session, publication.bundle_id, "expired")


def _live_publications_for(session: Session, unit: Unit) -> list[BundlePublication]:
    """Current publications of published bundles, not expired, whose targets match the unit:
    one query on publication_targets, however many bundles are live."""
    line = taxonomy_service.province_line_ids(session, [unit.province]) if unit.province else []
    facet_matches = [
        and_(PublicationTarget.facet == "unit", PublicationTarget.value == str(unit.id)),
        and_(PublicationTarget.facet == "unit_type", PublicationTarget.value == unit.type),
        and_(PublicationTarget.facet == "border_route", PublicationTarget.value.in_(list(unit.border_routes or []))),
        and_(PublicationTarget.facet == "province", PublicationTarget.value.in_(line)),
    ]
    targeted = exists().where(
        PublicationTarget.bundle_id == BundlePublication.bundle_id,
        PublicationTarget.version == BundlePublication.version,
        or_(*facet_matches),
    )
    current = and_(Bundle.id == BundlePublication.bundle_id, Bundle.published_version == BundlePublication.version)
    not_expired = or_(BundlePublication.expires_at.is_(None), BundlePublication.expires_at > utcnow())
    query = (
        select(BundlePublication)
        .join(Bundle, current)
        .where(Bundle.status == "published", BundlePublication.expired_at.is_(None), not_expired, targeted)
        .order_by(BundlePublication.bundle_id)
    )
    return list(session.scalars(query))


def _address_unit(session: Session, unit_id: uuid.UUID, publications: Sequence[BundlePublication]) -> None:
    existing = {
        row.bundle_id: row
        for row in session.execute(
            select(Delivery.bundle_id, Delivery.version, Delivery.withdrawn_at).where(Delivery.unit_id == unit_id)
        )
    }
    now = utcnow()
    new = [
        {"bundle_id": p.bundle_id, "unit_id": unit_id, "status": "pending", "version": p.version, "created_at": now}
        for p in publications
        if p.bundle_id not in existing
    ]
    for chunk in _chunks(new):
        session.execute(insert(Delivery), list(chunk))
    for p in publications:
        row = existing.get(p.bundle_id)
        if row is not None and (row.version != p.version or row.withdrawn_at is not None):
            session.execute(
                update(Delivery)
                .where(Delivery.bundle_id == p.bundle_id, Delivery.unit_id == unit_id)
                .values(RENEWED | {"version": p.version})
                .execution_options(synchronize_session=False)
            )


def deliver_live_bundles(session: Session, unit: Unit) -> None:
    """Registered as a unit activation hook: a unit created or re-activated later receives the
    live bundles whose selectors (or explicit units) match it, as if it had been there. A few
    statements whatever the number of bundles."""
    if not unit.active:
        return
    publications = _live_publications_for(session, unit)
    if not publications:
        return
    changelog.lock_feed(session)
    _address_unit(session, unit.id, publications)
    seen = changelog.latest_for_unit(session, unit.id)
    rows = []
    for publication in publications:
        kind, version = seen.get(publication.bundle_id, NOTHING)
        if publication.released_at is None or (kind in VISIBLE_KINDS and version == publication.version):
            continue
        rows.append(
            (unit.id, publication.bundle_id, publication.version, "updated" if kind in VISIBLE_KINDS else "published")
        )
    changelog.append(session, rows)
    bundle_ids = [str(p.bundle_id) for p in publications]
    audit_service.record(session, None, "unit.bundles_delivered", "unit", unit.id, {"bundles": [None, bundle_ids]})


def add_unit(session: Session, bundle: Bundle, unit_id: uuid.UUID, actor: Any = None) -> None:
    """Address one more unit, by id, without a new version of the bundle: a draft sends to it
    when published; a published bundle's current publication reaches it now (its delivery and
    feed change, as for a unit registered late). A few statements, whatever the bundle's size."""
    units = [str(u) for u in bundle.targets.get("units", [])]
    if str(unit_id) not in units:
        bundle.targets = {**bundle.targets, "units": [*units, str(unit_id)]}
    if bundle.status == "published" and bundle.published_version is not None:
        publication = session.get(BundlePublication, (bundle.id, bundle.published_version))
        if publication is not None and str(unit_id) not in publication.targets.get("units", []):
            frozen = publication.targets.get("units", [])
            publication.targets = {**publication.targets, "units": [*frozen, str(unit_id)]}
            session.execute(
                insert(PublicationTarget),
                [{"bundle_id": bundle.id, "version": publication.version, "facet": "unit", "value": str(unit_id)}],
            )
        session.flush()
        unit = session.get(Unit, unit_id)
        if unit is not None:
            deliver_live_bundles(session, unit)
    session.flush()
    audit_service.record(session, actor, "bundle.unit_added", "bundle", bundle.id, {"units": [None, [str(unit_id)]]})


def mark_fetched(session: Session, unit_id: uuid.UUID, publication: BundlePublication) -> None:
    """The unit downloaded this version (entry or package): its delivery becomes `fetched`.
    Only the first download writes (it is a GET: see `start_writing`); later ones stay reads."""
    pending = (
        Delivery.bundle_id == publication.bundle_id,
        Delivery.unit_id == unit_id,
        Delivery.version == publication.version,
        Delivery.status == "pending",
    )
    if not session.scalar(select(exists().where(*pending))):
        return
    start_writing(session)
    session.execute(
        update(Delivery)
        .where(*pending)
        .values(status="fetched", fetched_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def record_acknowledgement(
    session: Session, unit_id: uuid.UUID, bundle_id: uuid.UUID, version: int, manifest: str | None
) -> bool:
    """The unit confirms it holds `version` (and, when given, the package with this manifest
    hash). False when exactly that was already recorded (acks are idempotent)."""
    # Locked: the same ack sent twice at once records (and audits) one acknowledgement.
    delivery = get_row(session, Delivery, (bundle_id, unit_id), lock=True)
    if delivery is None:
        raise NotFound(f"No bundle with id {bundle_id} in your feed.")
    same_version = delivery.acknowledged_at is not None and delivery.acknowledged_version == version
    if same_version and manifest in (None, delivery.manifest_sha256):
        return False
    now = utcnow()
    delivery.manifest_sha256 = manifest or (delivery.manifest_sha256 if same_version else None)
    delivery.acknowledged_at, delivery.acknowledged_version = now, version
    delivery.fetched_at = delivery.fetched_at or now
    if delivery.version == version:
        delivery.status = "acknowledged"
    session.flush()
    return True
