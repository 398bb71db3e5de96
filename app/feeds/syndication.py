"""The unit's feed for generic readers: Atom (RFC 4287, written by feedgen) and JSON Feed 1.1.

Both show the same entries as the JSON feed: each bundle's latest state, urgent first, then
newest; a recalled or expired bundle stays as a tombstone entry marked `recalled` so readers can
drop it. Output depends only on the rows given (timestamps come from the change log, never from
the clock), so the same feed version always renders the same bytes and its ETag stays strong.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedgen.entry import FeedEntry as FeedgenEntry
from feedgen.feed import FeedGenerator

from app.feeds.schemas import FeedItem

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
STATUS_SCHEME = "urn:ttdn:bundle-status"
PRIORITY_SCHEME = "urn:ttdn:priority"
TOMBSTONE_PREFIX = "[Thu hồi] "
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedEntry:
    item: FeedItem
    description: str


@dataclass(frozen=True)
class FeedHead:
    unit_id: str
    unit_label: str
    base_url: str  # scheme://host, no trailing slash
    self_path: str
    updated: datetime | None  # the latest change; None for an empty feed


class _AtomEntry(FeedgenEntry):
    """feedgen 1.0.0 writes only `href` on entry links, dropping rel and type (its issue #135,
    lkiesow/python-feedgen); two links would then both be `alternate`, which RFC 4287 forbids.
    This puts the attributes back on the element feedgen built."""

    def atom_entry(self, extensions: bool = True) -> Any:
        element = super().atom_entry(extensions)
        nodes = [child for child in element if str(child.tag).rsplit("}", 1)[-1] == "link"]
        for node, link in zip(nodes, self.link() or [], strict=True):
            for name in ("rel", "type", "hreflang", "title", "length"):
                if link.get(name):
                    node.attrib[name] = str(link[name])
        return element


def _title(entry: FeedEntry) -> str:
    return (TOMBSTONE_PREFIX if entry.item.status == "recalled" else "") + entry.item.title


def _summary(entry: FeedEntry) -> str:
    if entry.item.status == "recalled":
        return f"Gói tài liệu đã bị thu hồi ({entry.item.change}); hãy xoá bản đã tải."
    return entry.description or entry.item.title


def atom(head: FeedHead, entries: list[FeedEntry]) -> bytes:
    """An Atom feed; feed and entry ids are `urn:uuid:` IRIs that never change."""
    generator = FeedGenerator()
    generator.id(f"urn:uuid:{head.unit_id}")
    generator.title(f"Tài liệu thông tin đối ngoại — {head.unit_label}")
    generator.author({"name": "ttdn-hub"})
    generator.link(href=head.base_url + head.self_path, rel="self", type="application/atom+xml")
    generator.language("vi")
    generator.generator("ttdn-hub")
    generator.updated(head.updated or EPOCH)
    for entry in entries:
        item = entry.item
        feed_entry = generator.add_entry(_AtomEntry(), order="append")
        feed_entry.id(f"urn:uuid:{item.bundle_id}")
        feed_entry.title(_title(entry))
        feed_entry.updated(item.updated_at)
        feed_entry.published(item.published_at)
        feed_entry.summary(_summary(entry))
        feed_entry.link(href=head.base_url + item.url, rel="alternate", type="application/json")
        if item.status == "published":
            feed_entry.link(href=head.base_url + item.package_url, rel="enclosure", type="application/zip")
        feed_entry.category(term=item.status, scheme=STATUS_SCHEME)
        feed_entry.category(term=item.priority, scheme=PRIORITY_SCHEME)
    return generator.atom_str(pretty=False)


def json_feed(head: FeedHead, entries: list[FeedEntry]) -> bytes:
    """A JSON Feed 1.1 document; bundle state sits in the `_ttdn` extension object."""
    items = []
    for entry in entries:
        item = entry.item
        feed_item = {
            "id": f"urn:uuid:{item.bundle_id}",
            "url": head.base_url + item.url,
            "title": _title(entry),
            "content_text": _summary(entry),
            "date_published": item.published_at.isoformat(),
            "date_modified": item.updated_at.isoformat(),
            "tags": [item.priority, item.status],
            "_ttdn": {"status": item.status, "change": item.change, "priority": item.priority, "version": item.version},
        }
        if item.status == "published":
            feed_item["attachments"] = [
                {"url": head.base_url + item.package_url, "mime_type": "application/zip", "title": "Gói tài liệu"}
            ]
        items.append(feed_item)
    document = {
        "version": JSON_FEED_VERSION,
        "title": f"Tài liệu thông tin đối ngoại — {head.unit_label}",
        "feed_url": head.base_url + head.self_path,
        "language": "vi",
        "authors": [{"name": "ttdn-hub"}],
        "items": items,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
