"""A unit's feed: delta sync over the change log, the bundles addressed to it, receipts.

A unit sees a bundle only through its own feed changes (app.bundles.changelog): no change, no
bundle (404, so it never learns that other bundles exist); a tombstone, 410. What it is shown is
the frozen publication the change names, never the editable bundle.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.bundles import changelog, publications
from app.bundles import delivery as bundles_delivery
from app.bundles.models import VISIBLE_KINDS, BundlePublication
from app.bundles.schemas import PublishedItem
from app.config import Settings
from app.errors import Conflict, Gone, NotFound, ValidationFailed
from app.feeds import package, render
from app.feeds.schemas import AckRequest, FeedBundle, FeedItem, FeedPage
from app.feeds.syndication import FeedEntry
from app.pagination import decode_values, encode_values, page_size, split_page
from app.urls import api_path

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
        return encode_values([self.checkpoint, self.watermark, *(self.after or ())])

    @classmethod
    def decode(cls, value: str) -> "FeedCursor":
        try:
            parts = decode_values(value)
            if not all(
                isinstance(p, int) and not isinstance(p, bool) and 0 <= p <= MAX_SEQ for p in parts if p is not None
            ):
                raise ValueError
            checkpoint, watermark, *after = parts
            if checkpoint is None or (after and (watermark is None or len(after) != 2)):
                raise ValueError
            return cls(checkpoint, watermark, (after[0], after[1]) if after else None)
        except (ValueError, TypeError):
            raise ValidationFailed(["query", "since"], "The cursor is not one this feed gave out.") from None


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
    after = since.after if since else None
    rows, next_cursor = split_page(
        changelog.unit_changes(session, unit_id, checkpoint, watermark, after, page_size(limit)),
        limit,
        lambda row: FeedCursor(checkpoint, watermark, (row.rank, row[0].seq)).encode(),
    )
    items = [FeedItem.model_validate(change) for change, _ in rows]
    if next_cursor:
        return FeedPage(items=items, next_cursor=next_cursor, cursor=FeedCursor(checkpoint).encode())
    return FeedPage(items=items, next_cursor=None, cursor=FeedCursor(watermark).encode())


def syndication_entries(session: Session, unit_id: uuid.UUID, upto: int) -> list[FeedEntry]:
    """The newest entries for Atom and JSON Feed readers, urgent first."""
    rows = changelog.unit_changes(session, unit_id, 0, upto, None, SYNDICATION_ENTRIES)
    return [
        FeedEntry(item=FeedItem.model_validate(change), description=change.publication.description)
        for change, _ in rows
    ]


def visible_publication(session: Session, unit_id: uuid.UUID, bundle_id: uuid.UUID) -> BundlePublication:
    """The publication the unit's feed names for this bundle; 404 if its feed never named the
    bundle (not addressed, or not released yet), 410 once it was recalled or expired."""
    change = changelog.unit_view(session, unit_id, bundle_id)
    if change is None:
        raise NotFound(f"No bundle with id {bundle_id} in your feed.")
    if change.kind not in VISIBLE_KINDS:
        raise Gone(f"Bundle {bundle_id} was {change.kind}; delete your copy.", extra={"change": change.kind})
    return publications.get_publication(session, bundle_id, change.bundle_version)


def bundle_for_unit(session: Session, unit_id: uuid.UUID, bundle_id: uuid.UUID) -> FeedBundle:
    """The bundle as it was sent to this unit, materials whole at the frozen versions."""
    publication = visible_publication(session, unit_id, bundle_id)
    bundles_delivery.mark_fetched(session, unit_id, publication)
    return FeedBundle(
        id=bundle_id,
        bundle_id=bundle_id,
        version=publication.version,
        title=publication.title,
        description=publication.description,
        priority=publication.priority,
        status="published",
        published_at=publication.release_at,
        expires_at=publication.expires_at,
        items=_for_units(publications.published_items(session, publication), bundle_id),
    )


def _for_units(items: list[PublishedItem], bundle_id: uuid.UUID) -> list[PublishedItem]:
    def shown(material: dict[str, Any] | None) -> dict[str, Any] | None:
        if not material:
            return None
        urls = {a["id"]: attachment_url(bundle_id, a["id"]) for a in material.get("attachments", [])}
        return render.material_for_units(material, urls=urls)

    return [item.model_copy(update={"material": shown(item.material)}) for item in items]


def attachment_url(bundle_id: uuid.UUID, attachment_id: str) -> str:
    """Where a unit fetches one file of a bundle by itself (the package holds them all)."""
    return api_path(f"/feed/bundles/{bundle_id}/attachments/{attachment_id}")


def published_attachment(
    session: Session, unit_id: uuid.UUID, bundle_id: uuid.UUID, attachment_id: uuid.UUID
) -> dict[str, Any]:
    """An attachment of one of the bundle's materials as they were sent to the unit: 404 if none
    of them had it then (or the bundle is not in its feed), 410 once the bundle was recalled."""
    publication = visible_publication(session, unit_id, bundle_id)
    for item in publications.published_items(session, publication):
        for attachment in (item.material or {}).get("attachments", []):
            if attachment.get("id") == str(attachment_id):
                return attachment
    raise NotFound(f"No attachment with id {attachment_id} in bundle {bundle_id}.")


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
    if not bundles_delivery.record_acknowledgement(session, unit.id, bundle_id, version, manifest):
        return
    changes = {"version": [None, version], "manifest_sha256": [None, manifest]}
    audit_service.record(session, unit, "delivery.acknowledged", "bundle", bundle_id, changes)
