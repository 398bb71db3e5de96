"""Reading publications back: the bundle as it was sent, with its materials whole at the frozen
versions (from material_revisions), however the materials changed since."""

import uuid
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.bundles.models import BundlePublication
from app.bundles.schemas import PublicationHead, PublicationRead, PublishedItem
from app.errors import NotFound
from app.materials.models import MaterialRevision
from app.pagination import decode_int_cursor, encode_values, page_size, split_page
from app.schemas import INT32_MAX


def get_publication(session: Session, bundle_id: uuid.UUID, version: int) -> BundlePublication:
    publication = session.get(BundlePublication, (bundle_id, version))
    if publication is None:
        raise NotFound(f"Bundle {bundle_id} has no publication of version {version}.")
    return publication


def list_publications(
    session: Session, bundle_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[BundlePublication], str | None]:
    """A page of the bundle's publications, oldest first; the cursor carries the last version shown."""
    query = select(BundlePublication).where(BundlePublication.bundle_id == bundle_id)
    if cursor is not None:
        query = query.where(BundlePublication.version > decode_int_cursor(cursor, INT32_MAX))
    rows = session.scalars(query.order_by(BundlePublication.version).limit(page_size(limit))).all()
    return split_page(rows, limit, lambda publication: encode_values(publication.version))


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
    head = PublicationHead.model_validate(publication)
    return PublicationRead(**dict(head), items=published_items(session, publication))
