"""Search: the backend finds the hits; what is shown is its copy of each (or, when that is
stale or the backend keeps none, the database's), highlighted here."""

import functools
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from app.db import one_of, read_alone
from app.errors import ServiceUnavailable, ValidationFailed
from app.materials.filters import KIND_NAMES, MaterialFilters
from app.materials.models import Material
from app.search import indexer
from app.search.backend import (
    FACETS,
    BackendUnavailable,
    FacetCount,
    Form,
    InvalidCursor,
    SearchBackend,
    SearchDocument,
    SearchHit,
    SearchQuery,
)
from app.search.documents import search_words
from app.search.highlight import highlight
from app.search.schemas import SearchItem, SearchResults
from app.taxonomy import service as taxonomy_service

HIGHLIGHTED_FIELDS = ("title", "summary", "body")
# Display names of the taxonomy facets' values, by facet (ethnic_group, border_route, province, topic).
FacetNames = Mapping[str, Mapping[str, str]]


def search_materials(
    session: Session,
    backend: SearchBackend,
    filters: MaterialFilters,
    *,
    text: str | None,
    sort: Literal["relevance", "newest"],
    limit: int,
    cursor: str | None,
    collapse: bool = False,
    reference: taxonomy_service.ReferenceData | None = None,
) -> SearchResults:
    """One page of materials matching `text` and `filters`, with totals and facet counts.

    Hits whose material is gone from the database (deleted, not yet unindexed) are left out, and
    not counted in the total.
    Facet values are named from `reference` (the taxonomy's reference data, usually from
    memory), read with `session` when not given; provinces are counted by line of succession
    (each today's province with its predecessors), as a filter on one matches them.
    """
    if reference is None:
        reference = taxonomy_service.reference_data(session)
    query = SearchQuery(
        text=text or None,
        filters=filters.keyword_filters(),
        published_from=filters.published_from,
        published_to=filters.published_to,
        sort=sort,
        limit=limit,
        cursor=cursor,
        collapse=collapse,
        facet_groups={"province": reference.province_lines},
        spellings=reference.spellings,
    )
    try:
        page = backend.search(query)
    except InvalidCursor as exc:
        raise ValidationFailed(["query", "cursor"], str(exc)) from exc
    except BackendUnavailable as exc:
        raise ServiceUnavailable(
            "Search is unavailable right now; try again shortly.", headers={"Retry-After": "5"}
        ) from exc
    shown = _shown_documents(session, page.hits)
    # A hit whose material is gone (deleted a moment ago, not yet unindexed) is no match: the
    # total leaves out those this page found. (Facet counts still hold them until the index does.)
    total = max(0, page.total - (len(page.hits) - len(shown)))
    spelled = search_words(query).extra_forms
    items = [_item(doc, _highlights(doc, text, spelled)) for doc in shown]
    if collapse:
        _add_family_languages(session, items, shown)
    # Plain data validated in one call: a model built per item and per facet value cost
    # 0.72-0.95 ms of CPU per page against 0.44-0.56 ms (`python -m bench.search_results_build`).
    return SearchResults.model_validate(
        {
            "total": total,
            "items": items,
            "facets": _named_facets(reference.names, page.facets),
            "next_cursor": page.next_cursor,
        }
    )


def _shown_documents(session: Session, hits: list[SearchHit]) -> list[SearchDocument]:
    """What each hit shows, in hit order: the backend's copy when its version is the material's
    current one, else the material as the database holds it now. Hits whose material is gone
    from the database (deleted, not yet unindexed) are left out."""
    copies = {hit.id: hit.document for hit in hits if hit.document is not None}
    if copies:
        current = _current_versions(session, list(copies))
        copies = {id_: doc for id_, doc in copies.items() if current.get(id_) == doc.version}
    missing = [hit.id for hit in hits if hit.id not in copies]
    documents: dict[uuid.UUID, SearchDocument] = {**copies, **_documents_by_id(session, missing)}
    return [documents[hit.id] for hit in hits if hit.id in documents]


def _current_versions(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The current version of each material of `ids` that still exists, read on every search: a
    statement built once per dialect, the ids in one array parameter on PostgreSQL, outside a
    transaction where the database allows (`read_alone`). `python -m bench.search_version_read`
    compares it with the ORM statement it replaced and with a read in the session's transaction."""
    statement = _versions_statement(session.get_bind().dialect.name)
    return dict(read_alone(session, statement, {"ids": [str(i) for i in ids]}))  # type: ignore[arg-type]


@functools.cache
def _versions_statement(dialect: str) -> Select[tuple[uuid.UUID, int]]:
    table = Material.__table__
    return select(table.c.id, table.c.version).where(one_of(dialect, table.c.id, "ids"))


def _documents_by_id(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, SearchDocument]:
    """The documents of the materials of `ids` that exist, projected from plain rows as the
    indexer builds them (every hit of the built-in backend comes this way: ORM objects and their
    tag collections cost several times more)."""
    if not ids:
        return {}
    return {doc.id: doc for doc in indexer.load_documents(session, Material.id.in_(ids))}


# What an item shows of its document; `languages` only with collapse (unset otherwise, so left
# out of the answer), `highlights` added by `_item`.
_ITEM_FIELDS = tuple(name for name in SearchItem.model_fields if name not in ("languages", "highlights"))


def _highlights(document: SearchDocument, text: str | None, spelled: tuple[Form, ...]) -> dict[str, list[str]]:
    found = {field: highlight(getattr(document, field), text, spelled) for field in HIGHLIGHTED_FIELDS}
    return {field: fragments for field, fragments in found.items() if fragments}


def _item(document: SearchDocument, highlights: dict[str, list[str]]) -> dict[str, Any]:
    """`SearchItem`'s fields, as plain data."""
    item = {name: getattr(document, name) for name in _ITEM_FIELDS}
    item["highlights"] = highlights
    return item


def _add_family_languages(session: Session, items: list[dict[str, Any]], shown: list[SearchDocument]) -> None:
    """Each collapsed hit lists the languages its family exists in (every member, any status)."""
    families = {doc.id: doc.family or doc.id for doc in shown}
    rows = session.execute(
        select(func.coalesce(Material.translation_of, Material.id), Material.language)
        .where(or_(Material.id.in_(set(families.values())), Material.translation_of.in_(set(families.values()))))
        .distinct()
    )
    languages: dict[uuid.UUID, set[str]] = {}
    for family, language in rows:
        languages.setdefault(family, set()).add(language)
    for item in items:
        item["languages"] = sorted(languages.get(families[item["id"]], ()))


def _named_facets(taxonomy: FacetNames, facets: dict[str, list[FacetCount]]) -> dict[str, list[dict[str, Any]]]:
    """Every facet's values with their names, as `FacetValue`'s fields."""
    names = {
        **taxonomy,
        "kind": KIND_NAMES,
        "language": {},  # BCP 47 tags name themselves; no language-name data is installed
    }
    return {
        facet: [
            {"value": c.value, "name": names[facet].get(c.value, c.value), "count": c.count}
            for c in facets.get(facet, [])
        ]
        for facet in FACETS
    }
