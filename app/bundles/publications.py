"""Reading publications back: the bundle as it was sent, with its materials whole at the frozen
versions (from material_revisions), however the materials changed since."""

import uuid
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.bundles.models import BundlePublication
from app.bundles.schemas import PublicationRead, PublishedItem, TargetsRead
from app.bundles.service import EMPTY_TARGETS
from app.errors import NotFound
from app.materials.models import MaterialRevision


def get_publication(session: Session, bundle_id: uuid.UUID, version: int) -> BundlePublication:
    publication = session.get(BundlePublication, (bundle_id, version))
    if publication is None:
        raise NotFound(f"Bundle {bundle_id} has no publication of version {version}.")
    return publication


def list_publications(session: Session, bundle_id: uuid.UUID) -> list[BundlePublication]:
    return list(
        session.scalars(
            select(BundlePublication)
            .where(BundlePublication.bundle_id == bundle_id)
            .order_by(BundlePublication.version)
        )
    )


def snapshots(session: Session, publication: BundlePublication) -> dict[tuple[str, int], dict[str, Any]]:
    """{(material_id, version): snapshot} for every item, in one query."""
    keys = [(item["material_id"], item["material_version"]) for item in publication.items]
    if not keys:
        return {}
    wanted = or_(*(and_(MaterialRevision.material_id == m, MaterialRevision.version == v) for m, v in keys))
    rows = session.execute(
        select(MaterialRevision.material_id, MaterialRevision.version, MaterialRevision.snapshot).where(wanted)
    )
    return {(str(material_id), version): snapshot for material_id, version, snapshot in rows}


def published_items(session: Session, publication: BundlePublication) -> list[PublishedItem]:
    """The items as sent. `material` is None only if the material was deleted since (its
    revisions go with it): the item still says which material and version were sent."""
    found = snapshots(session, publication)
    return [
        PublishedItem(
            position=position,
            material_id=item["material_id"],
            material_version=item["material_version"],
            note=item["note"],
            material=found.get((item["material_id"], item["material_version"])),
        )
        for position, item in enumerate(publication.items, start=1)
    ]


def to_read(session: Session, publication: BundlePublication) -> PublicationRead:
    return PublicationRead(
        bundle_id=publication.bundle_id,
        version=publication.version,
        title=publication.title,
        description=publication.description,
        priority=publication.priority,
        targets=TargetsRead.model_validate({**EMPTY_TARGETS, **publication.targets}),
        published_at=publication.published_at,
        release_at=publication.release_at,
        released_at=publication.released_at,
        expires_at=publication.expires_at,
        superseded_at=publication.superseded_at,
        expired_at=publication.expired_at,
        items=published_items(session, publication),
    )
