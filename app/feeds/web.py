"""The unit's feed as pages for a person with a browser: the list of bundles (urgent first, as
in every feed) and one page per bundle, its materials rendered as in the package."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bundles import changelog, publications
from app.bundles import delivery as bundles_delivery
from app.bundles.models import Delivery
from app.feeds import labels, pages
from app.feeds import service as feeds_service

API_PREFIX = "/api/v1"


def page_url(bundle_id: uuid.UUID | str) -> str:
    return f"{API_PREFIX}/feed/bundles/{bundle_id}.html"


def _deliveries(session: Session, unit_id: uuid.UUID, bundle_ids: list[uuid.UUID]) -> dict[uuid.UUID, Delivery]:
    if not bundle_ids:
        return {}
    rows = session.scalars(select(Delivery).where(Delivery.unit_id == unit_id, Delivery.bundle_id.in_(bundle_ids)))
    return {row.bundle_id: row for row in rows}


def _entry(item: Any, delivery: Delivery | None) -> dict[str, Any]:
    recalled = item.status != "published"
    acknowledged = delivery is not None and delivery.acknowledged_version == item.version
    status = "acknowledged" if acknowledged else (delivery.status if delivery else "pending")
    urgent = item.priority == "urgent"
    return {
        "title": item.title,
        "urgent": urgent,
        "recalled": recalled,
        "acknowledged": acknowledged,
        "css": " ".join(c for c, on in (("urgent", urgent), ("recalled", recalled)) if on),
        "status": labels.label(labels.STATUSES, item.change if recalled else "published"),
        "version": item.version,
        "published": labels.vn_datetime(item.published_at),
        "updated": labels.vn_datetime(item.updated_at),
        "delivery": labels.label(labels.DELIVERIES, status),
        "page_url": page_url(item.bundle_id),
        "package_url": item.package_url,
    }


def feed_page(session: Session, unit_id: uuid.UUID, unit_label: str) -> str:
    """The unit's bundles, newest state of each: urgent first, then newest; tombstones stay."""
    seq, _ = changelog.feed_version(session, unit_id)
    entries = feeds_service.syndication_entries(session, unit_id, seq)
    found = _deliveries(session, unit_id, [e.item.bundle_id for e in entries])
    views = [_entry(e.item, found.get(e.item.bundle_id)) for e in entries]
    urgent = sum(1 for v in views if v["urgent"] and not v["recalled"] and not v["acknowledged"])
    return pages.render_page(
        "web_feed.html", lang="vi", title=f"Bản tin · {unit_label}", offline=False, unit=unit_label,
        entries=views, urgent_count=urgent,
    )  # fmt: skip


def bundle_page(
    session: Session, unit_id: uuid.UUID, unit_label: str, bundle_id: uuid.UUID, token_for: Any, flash: bool
) -> str:
    """One bundle as sent to the unit (404 if not addressed to it, 410 once recalled), with its
    materials, the package link and the acknowledge form; reading it marks it fetched."""
    publication = feeds_service.visible_publication(session, unit_id, bundle_id)
    bundles_delivery.mark_fetched(session, unit_id, publication)
    items = publications.published_items(session, publication)
    names = labels.Names.load(session)
    views = [
        pages.material_view(i, names, publication.release_at, _attachment_urls(bundle_id, i.material))
        for i in items
        if i.material
    ]
    delivery = session.get(Delivery, (bundle_id, unit_id))
    acknowledged = (
        labels.vn_datetime(delivery.acknowledged_at)
        if delivery is not None and delivery.acknowledged_version == publication.version
        else ""
    )
    return pages.render_page(
        "web_bundle.html",
        lang="vi",
        title=publication.title,
        offline=False,
        unit=unit_label,
        bundle=pages.bundle_view(publication),
        materials=views,
        acknowledged=acknowledged,
        flash="Đã ghi nhận: đơn vị đã xác nhận nhận gói này." if flash and acknowledged else "",
        token=token_for(publication.version) if not acknowledged else "",
        feed_url=f"{API_PREFIX}/feed.html",
        ack_url=page_url(bundle_id),
        package_url=f"{API_PREFIX}/feed/bundles/{bundle_id}/package",
    )


def _attachment_urls(bundle_id: uuid.UUID, material: dict[str, Any]) -> dict[str, str]:
    """Each attachment's own feed route: the page shows images and media, and links the rest."""
    return {a["id"]: feeds_service.attachment_url(bundle_id, a["id"]) for a in material.get("attachments", [])}
