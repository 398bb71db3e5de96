"""A unit's feed: delta sync over the change log, the bundles addressed to it, receipts.

A unit sees a bundle only through its own feed changes (app.bundles.changelog): no change, no
bundle (404, so it never learns that other bundles exist); a tombstone, 410. What it is shown is
the frozen publication the change names, never the editable bundle.
"""

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Row, and_, case, exists, func, or_, select, update
from sqlalchemy.orm import Session

from app.accounts.deps import Principal
from app.audit import service as audit_service
from app.bundles import changelog, publications
from app.bundles.models import VISIBLE_KINDS, BundlePublication, Delivery, FeedChange
from app.bundles.schemas import PublishedItem
from app.config import Settings
from app.db import start_writing, utcnow
from app.errors import Conflict, Gone, NotFound, ValidationFailed
from app.feeds import package
from app.feeds.schemas import AckRequest, FeedBundle, FeedItem, FeedPage
from app.feeds.syndication import FeedEntry

API_PREFIX = "/api/v1"
SYNDICATION_ENTRIES = 100
MAX_SEQ = 2**63 - 1


@dataclass(frozen=True)
class FeedCursor:
    """Opaque to clients. `checkpoint`: every change up to this seq has been delivered. While
    paging one delta: `watermark` (the last seq the delta covers) and the last (rank, seq) sent."""

    checkpoint: int
    watermark: int | None = None
    after: tuple[int, int] | None = None

    def encode(self) -> str:
        parts = [self.checkpoint, self.watermark, *(self.after or ())]
        return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "FeedCursor":
        try:
            parts = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
            if not all(
                isinstance(p, int) and not isinstance(p, bool) and 0 <= p <= MAX_SEQ for p in parts if p is not None
            ):
                raise ValueError
            checkpoint, watermark, *after = parts
            if checkpoint is None or (after and (watermark is None or len(after) != 2)):
                raise ValueError
            return cls(checkpoint, watermark, (after[0], after[1]) if after else None)
        except (ValueError, TypeError, binascii.Error):
            raise ValidationFailed(["query", "since"], "The cursor is not one this feed gave out.") from None


# Urgent first: rank 0, then everything else.
URGENCY_RANK = case((BundlePublication.priority == "urgent", 0), else_=1)


def _latest_rows(
    session: Session, unit_id: uuid.UUID, after_seq: int, upto: int, after: tuple[int, int] | None, limit: int
) -> Sequence[Row[tuple[FeedChange, BundlePublication, int]]]:
    """Each bundle's latest change in (after_seq, upto], with its publication: urgent first, then
    newest (the latest change first). `after` continues after a (rank, seq) already sent. One
    query on the (unit_id, seq) index; its cost follows the changes read, not the feed's size."""
    latest = (
        select(FeedChange.bundle_id, func.max(FeedChange.seq).label("seq"))
        .where(FeedChange.unit_id == unit_id, FeedChange.seq > after_seq, FeedChange.seq <= upto)
        .group_by(FeedChange.bundle_id)
        .subquery()
    )
    rank = URGENCY_RANK
    query = (
        select(FeedChange, BundlePublication, rank.label("rank"))
        .join(latest, FeedChange.seq == latest.c.seq)
        .join(
            BundlePublication,
            and_(
                BundlePublication.bundle_id == FeedChange.bundle_id,
                BundlePublication.version == FeedChange.bundle_version,
            ),
        )
        .order_by(rank, FeedChange.seq.desc())
        .limit(limit)
    )
    if after is not None:
        query = query.where(or_(rank > after[0], and_(rank == after[0], FeedChange.seq < after[1])))
    return session.execute(query).all()


def _item(change: FeedChange, publication: BundlePublication) -> FeedItem:
    url = f"{API_PREFIX}/feed/bundles/{change.bundle_id}"
    return FeedItem(
        bundle_id=change.bundle_id,
        title=publication.title,
        priority=publication.priority,
        status="published" if change.kind in VISIBLE_KINDS else "recalled",
        change=change.kind,
        version=change.bundle_version,
        published_at=publication.release_at,
        updated_at=change.at,
        url=url,
        package_url=f"{url}/package",
    )


def feed_page(
    session: Session, unit_id: uuid.UUID, since: FeedCursor | None, limit: int, latest_seq: int | None = None
) -> FeedPage:
    """What changed for the unit after `since` (everything when absent), one entry per bundle in
    its latest state, tombstones included. `next_cursor` pages through this delta; `cursor` is
    the checkpoint to send next time (on the last page: all of this delta). `latest_seq` is the
    feed version the caller already read (for its ETag), so the body matches it exactly."""
    checkpoint = since.checkpoint if since else 0
    watermark = since.watermark if since and since.watermark is not None else None
    if watermark is None:
        latest = latest_seq if latest_seq is not None else changelog.feed_version(session, unit_id)[0]
        watermark = max(latest, checkpoint)
    rows = _latest_rows(session, unit_id, checkpoint, watermark, since.after if since else None, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [_item(change, publication) for change, publication, _ in rows]
    if more:
        last_change, _, last_rank = rows[-1]
        next_cursor = FeedCursor(checkpoint, watermark, (last_rank, last_change.seq)).encode()
        return FeedPage(items=items, next_cursor=next_cursor, cursor=FeedCursor(checkpoint).encode())
    return FeedPage(items=items, next_cursor=None, cursor=FeedCursor(watermark).encode())


def syndication_entries(session: Session, unit_id: uuid.UUID, upto: int) -> list[FeedEntry]:
    """The newest entries for Atom and JSON Feed readers, urgent first."""
    rows = _latest_rows(session, unit_id, 0, upto, None, SYNDICATION_ENTRIES)
    return [FeedEntry(item=_item(change, pub), description=pub.description) for change, pub, _ in rows]


def visible_publication(session: Session, unit_id: uuid.UUID, bundle_id: uuid.UUID) -> BundlePublication:
    """The publication the unit's feed names for this bundle; 404 if its feed never named the
    bundle (not addressed, or not released yet), 410 once it was recalled or expired."""
    change = changelog.unit_view(session, unit_id, bundle_id)
    if change is None:
        raise NotFound(f"No bundle with id {bundle_id} in your feed.")
    if change.kind not in VISIBLE_KINDS:
        raise Gone(f"Bundle {bundle_id} was {change.kind}; delete your copy.", extra={"change": change.kind})
    return publications.get_publication(session, bundle_id, change.bundle_version)


def mark_fetched(session: Session, unit_id: uuid.UUID, publication: BundlePublication) -> None:
    """The unit downloaded this version (entry or package): its delivery becomes `fetched`.
    Only the first download writes; later ones (most of them) stay reads."""
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


def bundle_for_unit(session: Session, unit_id: uuid.UUID, bundle_id: uuid.UUID) -> FeedBundle:
    """The bundle as it was sent to this unit, materials whole at the frozen versions."""
    publication = visible_publication(session, unit_id, bundle_id)
    mark_fetched(session, unit_id, publication)
    url = f"{API_PREFIX}/feed/bundles/{bundle_id}"
    return FeedBundle(
        bundle_id=bundle_id,
        version=publication.version,
        title=publication.title,
        description=publication.description,
        priority=publication.priority,
        status="published",
        published_at=publication.release_at,
        expires_at=publication.expires_at,
        url=url,
        package_url=f"{url}/package",
        items=_for_units(publications.published_items(session, publication)),
    )


def _for_units(items: list[PublishedItem]) -> list[PublishedItem]:
    """Attachment links in snapshots point at staff routes; units get files from the package."""
    out = []
    for item in items:
        material = item.material
        if material is not None:
            material = {**material, "attachments": [{**a, "url": None} for a in material.get("attachments", [])]}
        out.append(item.model_copy(update={"material": material}))
    return out


def acknowledge(
    session: Session, settings: Settings, unit: Principal, bundle_id: uuid.UUID, data: AckRequest | None
) -> None:
    """Record receipt of the version in the unit's feed (or the one named, which must be it) and,
    when given, the manifest hash, which must be that of this version's package. Idempotent."""
    publication = visible_publication(session, unit.id, bundle_id)
    data = data or AckRequest()
    version = data.version or publication.version
    if version != publication.version:
        raise Conflict(
            f"Version {version} is not the one in your feed ({publication.version}); fetch it again.",
            extra={"current_version": publication.version},
        )
    manifest = data.manifest_sha256.lower() if data.manifest_sha256 else None
    if manifest and manifest != package.manifest_sha256(session, settings, publication):
        raise Conflict("The manifest hash does not match this version's package; download it again.")
    delivery = session.get(Delivery, (bundle_id, unit.id))
    if delivery is None:
        raise NotFound(f"No bundle with id {bundle_id} in your feed.")
    same_version = delivery.acknowledged_at is not None and delivery.acknowledged_version == version
    if same_version and manifest in (None, delivery.manifest_sha256):
        return
    now = utcnow()
    delivery.manifest_sha256 = manifest or (delivery.manifest_sha256 if same_version else None)
    delivery.acknowledged_at, delivery.acknowledged_version = now, version
    delivery.fetched_at = delivery.fetched_at or now
    if delivery.version == version:
        delivery.status = "acknowledged"
    session.flush()
    changes = {"version": [None, version], "manifest_sha256": [None, manifest]}
    audit_service.record(session, unit, "delivery.acknowledged", "bundle", bundle_id, changes)
