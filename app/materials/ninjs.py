"""A material as IPTC ninjs 3.1 (News in JSON), for news agencies' and broadcasters' systems.

What maps where: title -> headlines, summary -> descriptions, body (Markdown) -> bodies, the
language tag -> language, ethnic groups, topics, provinces and border routes -> subjects with
URIs of this service's `urn:ttdn:` scheme, attachments -> renditions, the version -> version,
and the other members of the translation family -> associations (rel `translation` or
`source`). Only properties the specification defines are written.
"""

from typing import Any

from sqlalchemy.orm import Session

from app.materials import translations
from app.materials.models import Material, tag_lists
from app.taxonomy import service as taxonomy_service

STANDARD = {"name": "ninjs", "version": "3.1", "schema": "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json#"}
NATURE = {"audio": "audio", "video": "video", "image": "picture", "infographic": "graphic"}  # others: text
PUB_STATUS = {"published": "usable", "archived": "canceled"}  # drafts and reviews: withheld
SUBJECT_SCHEMES = {
    "ethnic_groups": ("ethnic-group", "ethnicGroup"),
    "topics": ("topic", "topic"),
    "provinces": ("province", "province"),
    "border_routes": ("border-route", "borderRoute"),
}


def material_uri(material_id: object) -> str:
    return f"urn:ttdn:material:{material_id}"


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _subjects(session: Session, material: Material) -> list[dict[str, str]]:
    names = {
        "ethnic_groups": taxonomy_service.ethnic_group_names(session),
        "topics": taxonomy_service.topic_names(session),
        "provinces": taxonomy_service.province_names(session),
        "border_routes": taxonomy_service.border_route_names(session),
    }
    return [
        {"name": names[field].get(value, value), "rel": rel, "uri": f"urn:ttdn:{scheme}:{value}", "literal": value}
        for field, values in tag_lists(material).items()
        for scheme, rel in [SUBJECT_SCHEMES[field]]
        for value in values
    ]


def _renditions(material: Material, base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "name": f"attachment-{n}",
            "href": f"{base_url}/api/v1/attachments/{a.id}/content",
            "contentType": a.media_type,
            "title": a.filename,
            "sizeInBytes": a.size,
        }
        for n, a in enumerate(material.attachments, start=1)
    ]


def _associations(session: Session, material: Material) -> list[dict[str, Any]]:
    family = translations.get_family(session, material.id)
    return [
        {
            "name": f"{'source' if member.is_source else 'translation'}-{member.language}",
            "rel": "source" if member.is_source else "translation",
            "uri": material_uri(member.id),
            "language": member.language,
            "headlines": [{"role": "main", "value": member.title}],
            "pubStatus": PUB_STATUS.get(member.status, "withheld"),
        }
        for member in family.items
        if member.id != material.id
    ]


def to_ninjs(session: Session, material: Material, base_url: str) -> dict[str, Any]:
    """The ninjs object of `material`; `base_url` (scheme and host) makes rendition links absolute."""
    document: dict[str, Any] = {
        "standard": STANDARD,
        "uri": material_uri(material.id),
        "type": NATURE.get(material.kind, "text"),
        "version": str(material.version),
        "firstCreated": _time(material.created_at),
        "versionCreated": _time(material.updated_at),
        "pubStatus": PUB_STATUS.get(material.status, "withheld"),
        "language": material.language,
        "title": material.title,
        "headlines": [{"role": "main", "value": material.title}],
        "descriptions": [{"role": "summary", "value": material.summary}] if material.summary else [],
        "bodies": [
            {
                "role": "main",
                "contentType": "text/markdown",
                "value": material.body,
                "charCount": len(material.body),
                "wordCount": len(material.body.split()),
            }
        ],
        "subjects": _subjects(session, material),
        "genres": [{"name": material.kind, "uri": f"urn:ttdn:kind:{material.kind}", "literal": material.kind}],
        "renditions": _renditions(material, base_url),
        "associations": _associations(session, material),
        "altIds": [{"role": "ttdn-id", "value": str(material.id)}],
        "embargoedUntil": _time(material.publish_at),
        "expires": _time(material.expires_at),
    }
    if material.source:
        document["infoSources"] = [{"name": material.source, "role": "source"}]
    return {key: value for key, value in document.items() if value not in (None, [])}
