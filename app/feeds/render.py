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


def material_json(item: PublishedItem, attachment_paths: dict[str, str]) -> bytes:
    """The material exactly as published; each attachment also says where it is in the package."""
    material = dict(item.material or {})
    material["attachments"] = [
        {**a, "url": None, "path": attachment_paths.get(a["id"])} for a in material.get("attachments", [])
    ]
    return stable_json(
        {
            "position": item.position,
            "material_id": str(item.material_id),
            "material_version": item.material_version,
            "note": item.note,
            "material": material,
        }
    )
