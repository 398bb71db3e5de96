"""Pages people read: the package's index, material pages and search index, and the unit's
feed pages in the browser. Jinja2 templates (app/feeds/templates), autoescaped; bodies go
through app.feeds.markup; names and dates through app.feeds.labels.

The package pages load nothing from outside the package (their own Content-Security-Policy
says so to the browser too); the search box reads `search.js`, an index built into the package.
"""

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from app.bundles.models import BundlePublication
from app.bundles.schemas import PublishedItem
from app.feeds import labels
from app.feeds.markup import plain_text, render_markdown
from app.text import SPECIAL_FOLDS, fold

TEMPLATES = Path(__file__).resolve().parent / "templates"
ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
CSS = (TEMPLATES / "style.css").read_text(encoding="utf-8").strip()
CSS_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode() + "'"
# Said inside every package page: nothing but the package's own files.
OFFLINE_CSP = (
    f"default-src 'none'; script-src 'self'; style-src {CSS_HASH}; img-src 'self'; media-src 'self'; "
    "base-uri 'none'; form-action 'none'"
)
# Sent with the unit's pages: no script at all, the page's own style, images and media (a
# bundle's attachments) and forms from this service only.
WEB_CSP = (
    f"default-src 'none'; style-src {CSS_HASH}; img-src 'self'; media-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SEARCH_SUMMARY_CHARS = 160
INLINE_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"}


def render_page(template: str, **context: Any) -> str:
    return ENV.get_template(template).render(css=Markup(CSS), offline_csp=OFFLINE_CSP, **context)


def _shown(media_type: str) -> str:
    if media_type in INLINE_IMAGES:
        return "image"
    if media_type.startswith(("audio/", "video/")):
        return media_type.split("/")[0]
    return "pdf" if media_type == "application/pdf" else "file"


@dataclass(frozen=True)
class AttachmentView:
    filename: str
    media_type: str
    size: str
    kind: str
    shown: str
    path: str | None


@dataclass(frozen=True)
class MaterialView:
    title: str
    lang: str
    note: str
    summary: str
    body: Markup
    facts: list[tuple[str, str]]
    groups: list[labels.Group]
    attachments: list[AttachmentView]
    search_text: str = field(repr=False)


def _day(value: Any, default: date) -> date:
    at = labels.local(value)
    return at.date() if at else default


def material_view(
    item: PublishedItem, names: labels.Names, released: datetime, paths: dict[str, str] | None
) -> MaterialView:
    """One material as read: names, labels, dates, rendered body; `paths` maps attachment ids to
    their place in the package, or on the web page to their feed route (None: no links)."""
    m = item.material or {}
    now = _day(released, released.date())
    on = _day(m.get("published_at"), now)
    provinces = names.province_names(m.get("provinces", []), on, now)
    facts = [
        ("Loại", labels.label(labels.KINDS, m.get("kind"))),
        ("Ngôn ngữ", labels.language_name(m.get("language"))),
        ("Ngày phát hành", labels.vn_date(m.get("published_at"))),
        ("Tuyến biên giới", ", ".join(names.route_names(m.get("border_routes", [])))),
        ("Tỉnh", ", ".join(provinces)),
        ("Chủ đề", ", ".join(names.topic_names(m.get("topics", [])))),
        ("Nguồn", m.get("source") or ""),
        ("Phiên bản", str(item.material_version)),
    ]
    groups = names.ethnic_groups(m.get("ethnic_groups", []))
    attachments = [
        AttachmentView(
            filename=a["filename"],
            media_type=a["media_type"],
            size=labels.vn_size(int(a["size"])),
            kind=a["media_type"],
            shown=_shown(a["media_type"]),
            path=quote(paths[a["id"]]) if paths and a["id"] in paths else None,
        )
        for a in m.get("attachments", [])
    ]
    body = render_markdown(m.get("body", ""))
    words = [m.get("title", ""), m.get("summary", ""), plain_text(body), item.note, facts[0][1], *provinces]
    words += [n for g in groups for n in (g.name, *g.other_names)] + [value for _, value in facts[3:6]]
    return MaterialView(
        title=m.get("title", str(item.material_id)),
        lang=m.get("language") or "vi",
        note=item.note,
        summary=m.get("summary", ""),
        body=Markup(body),
        facts=[(k, v) for k, v in facts if v],
        groups=groups,
        attachments=attachments,
        search_text=fold(" ".join(w for w in words if w)),
    )


def bundle_view(publication: BundlePublication) -> dict[str, Any]:
    return {
        "title": publication.title,
        "urgent": publication.priority == "urgent",
        "priority": labels.label(labels.PRIORITIES, publication.priority),
        "version": publication.version,
        "released": labels.vn_datetime(publication.release_at),
        "expires": labels.vn_datetime(publication.expires_at),
        "description": Markup(render_markdown(publication.description)),
    }


def package_material(item: PublishedItem, paths: dict[str, str], names: labels.Names, pub: BundlePublication) -> bytes:
    view = material_view(item, names, pub.release_at, paths)
    html = render_page(
        "package_material.html", lang=view.lang, title=view.title, offline=True, m=view, bundle_title=pub.title
    )
    return html.encode()


def _index_entries(
    pub: BundlePublication, items: list[PublishedItem], folders: dict[int, str], names: labels.Names
) -> list[tuple[dict[str, Any], MaterialView]]:
    out = []
    for item in items:
        if item.position not in folders:
            continue
        view = material_view(item, names, pub.release_at, None)
        m = item.material or {}
        entry = {
            "href": quote(folders[item.position] + "/material.html"),
            "title": view.title,
            "lang": view.lang,
            "note": item.note,
            "kind": labels.label(labels.KINDS, m.get("kind")),
            "published": labels.vn_date(m.get("published_at")),
            "attachment_count": len(m.get("attachments", [])),
        }
        out.append((entry, view))
    return out


def package_index(
    pub: BundlePublication, items: list[PublishedItem], folders: dict[int, str], names: labels.Names
) -> bytes:
    entries = [entry for entry, _ in _index_entries(pub, items, folders, names)]
    html = render_page(
        "package_index.html",
        lang="vi",
        title=pub.title,
        offline=True,
        bundle=bundle_view(pub),
        materials=entries,
        missing=len(items) - len(entries),
    )
    return html.encode()


def search_js(
    pub: BundlePublication, items: list[PublishedItem], folders: dict[int, str], names: labels.Names
) -> bytes:
    """The package's search index and the few lines that search it, in one local script."""
    records = [
        {"p": entry["href"], "t": entry["title"], "s": _short(view.summary), "f": view.search_text}
        for entry, view in _index_entries(pub, items, folders, names)
    ]
    data = {"items": records, "special": SPECIAL_FOLDS}
    encoded = json.dumps(data, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    return ENV.get_template("search.js").render(data=Markup(encoded)).encode()


def _short(text: str) -> str:
    return text if len(text) <= SEARCH_SUMMARY_CHARS else text[: SEARCH_SUMMARY_CHARS - 1].rstrip() + "…"
