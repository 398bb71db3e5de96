"""What goes into a package besides attachments: JSON and readable HTML, byte-for-byte stable.

Every value is escaped (html.escape with quotes) and every link is percent-encoded: materials are
written by people and must never become markup. Output depends only on its input, so a package
built twice from one publication holds the same bytes.
"""

import json
from html import escape
from typing import Any
from urllib.parse import quote

from app.bundles.models import BundlePublication
from app.bundles.schemas import PublishedItem

STYLE = (
    "body{font-family:sans-serif;max-width:48em;margin:1em auto;padding:0 1em;line-height:1.5}"
    "dt{font-weight:bold}.note{background:#f4f4f4;padding:.5em}.urgent{color:#b00}"
)
PRIORITY_LABELS = {"normal": "Thường", "urgent": "Khẩn"}


def stable_json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _page(title: str, lang: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body>\n{body}</body></html>\n"
    ).encode()


def _paragraphs(text: str) -> str:
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return "".join(f"<p>{escape(block).replace(chr(10), '<br>')}</p>\n" for block in blocks)


def _definitions(pairs: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in pairs if v) + "</dl>\n"


def material_html(item: PublishedItem, attachment_paths: dict[str, str]) -> bytes:
    """One material as a page people can read offline; attachments link to their files."""
    material = item.material or {}
    facts = [
        ("Loại", material.get("kind", "")),
        ("Ngôn ngữ", material.get("language", "")),
        ("Phiên bản", str(item.material_version)),
        ("Ngày phát hành", material.get("published_at") or ""),
        ("Nguồn", material.get("source") or ""),
        ("Dân tộc", ", ".join(material.get("ethnic_groups", []))),
        ("Tuyến biên giới", ", ".join(material.get("border_routes", []))),
    ]
    links = "".join(
        f'<li><a href="{escape(quote(attachment_paths[a["id"]]))}">{escape(a["filename"])}</a>'
        f" ({escape(a['media_type'])}, {int(a['size'])} bytes)</li>"
        for a in material.get("attachments", [])
        if a["id"] in attachment_paths
    )
    body = (
        f"<article>\n<h1>{escape(material.get('title', ''))}</h1>\n"
        + (f'<p class="note">{escape(item.note)}</p>\n' if item.note else "")
        + f"<p><strong>{escape(material.get('summary', ''))}</strong></p>\n"
        + _definitions(facts)
        + _paragraphs(material.get("body", ""))
        + (f"<h2>Tệp đính kèm</h2>\n<ul>{links}</ul>\n" if links else "")
        + '<p><a href="../../index.html">Mục lục</a></p>\n</article>\n'
    )
    return _page(material.get("title", ""), material.get("language", "vi"), body)


def index_html(publication: BundlePublication, items: list[PublishedItem], folders: dict[int, str]) -> bytes:
    """The package's table of contents."""
    rows = "".join(
        f'<li><a href="{escape(quote(folders[item.position] + "/material.html"))}">'
        f"{escape((item.material or {}).get('title', str(item.material_id)))}</a>"
        + (f' <span class="note">{escape(item.note)}</span>' if item.note else "")
        + "</li>\n"
        for item in items
        if item.position in folders
    )
    priority = PRIORITY_LABELS.get(publication.priority, publication.priority)
    body = (
        f"<h1>{escape(publication.title)}</h1>\n"
        f'<p class="{escape(publication.priority)}">Mức độ: {escape(priority)} · '
        f"Phiên bản {publication.version} · {escape(publication.release_at.isoformat())}</p>\n"
        + _paragraphs(publication.description)
        + f"<ol>\n{rows}</ol>\n"
    )
    return _page(publication.title, "vi", body)


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
