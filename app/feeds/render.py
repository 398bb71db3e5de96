"""What goes into a package besides attachments: JSON and readable HTML, byte-for-byte stable.

The HTML comes from app.feeds.pages (Jinja2 templates, autoescaped; Markdown bodies sanitised).
Output depends only on its input, so a package built twice from one publication holds the same
bytes.
"""

import json
from typing import Any

from app.bundles.models import BundlePublication
from app.bundles.schemas import PublishedItem
from app.feeds import labels, pages


def stable_json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def material_html(
    item: PublishedItem, attachment_paths: dict[str, str], names: labels.Names, publication: BundlePublication
) -> bytes:
    """One material as a page people can read offline (app.feeds.pages)."""
    return pages.package_material(item, attachment_paths, names, publication)


def index_html(
    publication: BundlePublication, items: list[PublishedItem], folders: dict[int, str], names: labels.Names
) -> bytes:
    """The package's table of contents, with its offline search box."""
    return pages.package_index(publication, items, folders, names)


def search_js(
    publication: BundlePublication, items: list[PublishedItem], folders: dict[int, str], names: labels.Names
) -> bytes:
    """The search index of the package's materials, for the index page's search box."""
    return pages.search_js(publication, items, folders, names)


def bundle_json(publication: BundlePublication, items: list[PublishedItem]) -> bytes:
    return stable_json(
        {
            "bundle_id": str(publication.bundle_id),
            "version": publication.version,
            "title": publication.title,
            "description": publication.description,
            "priority": publication.priority,
            "published_at": publication.release_at.isoformat(),
            "expires_at": publication.expires_at.isoformat() if publication.expires_at else None,
            "items": [
                {
                    "position": item.position,
                    "material_id": str(item.material_id),
                    "material_version": item.material_version,
                    "note": item.note,
                    "included": item.material is not None,
                }
                for item in items
            ],
        }
    )


# Which staff account wrote or edited a material is the newsroom's business, not a unit's.
STAFF_ONLY = ("created_by", "updated_by", "last_edited_by")


def material_for_units(
    material: dict[str, Any], *, paths: dict[str, str] | None = None, urls: dict[str, str] | None = None
) -> dict[str, Any]:
    """A published material as a unit gets it (feed and package alike): without the staff
    accounts, and with attachment links a unit can follow: `urls` in the feed (the feed's own
    route for each file, never the staff route), `paths` in the package (where each file is in
    it; its `url` is null there, as a package links to nothing outside itself)."""
    shown = {key: value for key, value in material.items() if key not in STAFF_ONLY}
    shown["attachments"] = [
        {**a, "url": (urls or {}).get(a["id"]), **({"path": paths.get(a["id"])} if paths is not None else {})}
        for a in material.get("attachments", [])
    ]
    return shown


def material_json(item: PublishedItem, attachment_paths: dict[str, str]) -> bytes:
    """The material as published, as a unit gets it; each attachment also says where it is in the package."""
    material = material_for_units(item.material or {}, paths=attachment_paths)
    return stable_json(
        {
            "position": item.position,
            "material_id": str(item.material_id),
            "material_version": item.material_version,
            "note": item.note,
            "material": material,
        }
    )
