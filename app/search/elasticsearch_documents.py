"""A material as Elasticsearch stores it: the mapping, the `_source` of a document, and back.

The source holds every field a result item shows, so a search answers from its hits without
reading the materials back; `*_folded` are for matching only and are never fetched.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from app.search.backend import SearchDocument
from app.search.documents import folded_fields

# Filter name -> field.
FIELDS = {
    "ethnic_group": "ethnic_groups",
    "border_route": "border_routes",
    "province": "provinces",
    "topic": "topics",
    "kind": "kind",
    "language": "language",
    "status": "status",
    "classification": "classification",
}
KEYWORD = {"type": "keyword"}
_TEXT = {"type": "text", "analyzer": "standard"}
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": KEYWORD,
        "family": KEYWORD,
        **{field: KEYWORD for field in FIELDS.values()},
        **{name: _TEXT for name in ("title", "summary", "body", "title_folded", "summary_folded", "body_folded")},
        "published_at": {"type": "date"},
        "updated_at": {"type": "date"},
    },
}
# Stored for matching only: never fetched.
MATCH_ONLY = ("title_folded", "summary_folded", "body_folded")


def source_for(doc: SearchDocument, folded: Sequence[str]) -> dict[str, Any]:
    """The `_source` of `doc`, given its title, summary and body folded (`folded_fields`, which
    folds a batch's at once)."""
    title, summary, body = folded
    return {
        "id": str(doc.id),
        "title": doc.title,
        "summary": doc.summary,
        "body": doc.body,
        "title_folded": title,
        "summary_folded": summary,
        "body_folded": body,
        "kind": doc.kind,
        "language": doc.language,
        "classification": doc.classification,
        "status": doc.status,
        "ethnic_groups": doc.ethnic_groups,
        "border_routes": doc.border_routes,
        "provinces": doc.provinces,
        "topics": doc.topics,
        "published_at": doc.published_at.isoformat() if doc.published_at else None,
        "updated_at": doc.updated_at.isoformat(),
        "family": str(doc.family or doc.id),
    }


def document_from_hit(hit: dict[str, Any]) -> SearchDocument:
    """The stored copy of a hit (without the body when it was not fetched: then "")."""
    source = hit["_source"]
    published = source.get("published_at")
    id_ = uuid.UUID(source["id"])
    family = source.get("family")
    return SearchDocument(
        id=id_,
        version=hit["_version"],
        title=source["title"],
        summary=source["summary"],
        body=source.get("body", ""),
        kind=source["kind"],
        language=source["language"],
        classification=source["classification"],
        status=source["status"],
        ethnic_groups=source["ethnic_groups"],
        border_routes=source["border_routes"],
        provinces=source["provinces"],
        topics=source["topics"],
        published_at=datetime.fromisoformat(published) if published else None,
        updated_at=datetime.fromisoformat(source["updated_at"]),
        # Most documents are their own family: the id is parsed once, not twice.
        family=(id_ if family == source["id"] else uuid.UUID(family)) if family else None,
    )


def index_operations(index: str, docs: list[SearchDocument]) -> list[dict[str, Any]]:
    operations: list[dict[str, Any]] = []
    for doc, folded in zip(docs, folded_fields(docs), strict=True):
        operations.append(
            {"index": {"_index": index, "_id": str(doc.id), "version": doc.version, "version_type": "external"}}
        )
        operations.append(source_for(doc, folded))
    return operations


def bulk_body(index: str, docs: list[SearchDocument]) -> bytes:
    """The NDJSON body of `index_operations(index, docs)`: each line compact, UTF-8 as written.

    Built by whoever prepares the documents, so that the thread that sends a request does not
    spend its time serialising while Elasticsearch waits; the action line is the same template
    for every document, only the id and version change. orjson, as the client itself uses."""
    head = b'{"index":{"_index":' + orjson.dumps(index) + b',"_id":"'
    lines = []
    for doc, folded in zip(docs, folded_fields(docs), strict=True):
        lines.append(b'%s%s","version":%d,"version_type":"external"}}' % (head, str(doc.id).encode(), int(doc.version)))
        lines.append(orjson.dumps(source_for(doc, folded)))
    lines.append(b"")
    return b"\n".join(lines)


def source_excludes(with_body: bool) -> list[str]:
    """What a search leaves out of each hit's `_source`: the body is shown only through its
    highlights, so it is fetched only when there are words to highlight."""
    return [*MATCH_ONLY] if with_body else [*MATCH_ONLY, "body"]
