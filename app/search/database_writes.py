"""The database backend's write path: documents, their text, tags and postings, tombstones, claims.

Every function runs in the caller's writing session and flushes; the backend commits. A write
never replaces a newer copy: versions are compared with the stored document and its tombstone.
"""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.search import bitmaps as bm
from app.search.backend import (
    ClaimDocument,
    SearchDocument,
)
from app.search.database_tables import (
    _CLAIM_FTS_DELETE,
    _CLAIM_FTS_INSERT,
    _FTS_DELETE,
    _FTS_INSERT,
    CLAIMS,
    POSTINGS,
    TAGS,
    TEXTS,
    TOMBSTONES,
    D,
    fts_row,
)
from app.search.documents import chunks, facet_values, folded_fields
from app.text import folded_text

# Sorts a missing published_at after every real date, with no NULL handling in the keyset.
NEVER_PUBLISHED = datetime(1, 1, 1, tzinfo=UTC)
WRITE_CHUNK = 500


def store(session: Session, dialect: str, docs: list[SearchDocument], *, force: bool) -> None:
    """Upsert `docs` (one per id); unless `force`, a copy no newer than the stored one or its delete is skipped."""
    ids = [doc.id for doc in docs]
    current = {row.material_id: row for row in session.execute(sa.select(D).where(D.c.material_id.in_(ids)))}
    deleted = {} if force else _tombstones(session, ids)
    fresh = [
        doc
        for doc in docs
        if force
        or (deleted.get(doc.id, -1) < doc.version and (doc.id not in current or current[doc.id].version < doc.version))
    ]
    updates = [doc for doc in fresh if doc.id in current]
    inserts = [doc for doc in fresh if doc.id not in current]
    doc_ids = {doc.id: current[doc.id].doc_id for doc in updates}
    if updates:
        values = [{**_row_for(doc), "_doc_id": doc_ids[doc.id]} for doc in updates]
        session.execute(_UPDATE_DOCUMENT, values)
    if inserts:
        inserted = session.execute(sa.insert(D).returning(D.c.doc_id, D.c.material_id), [_row_for(d) for d in inserts])
        doc_ids.update({row.material_id: row.doc_id for row in inserted})
    by_doc_id = {doc_ids[doc.id]: doc for doc in fresh}
    _write_texts(session, dialect, dict(zip(by_doc_id, _texts_for(list(by_doc_id.values())), strict=True)))
    _write_tags(session, {doc_id: _tags_for(doc) for doc_id, doc in by_doc_id.items()})


def delete(session: Session, dialect: str, latest: dict[uuid.UUID, int]) -> None:
    """Remove each material's document older than its delete, and remember the delete's version."""
    rows = session.execute(sa.select(D.c.doc_id, D.c.material_id, D.c.version).where(D.c.material_id.in_(latest)))
    remove(session, dialect, [row.doc_id for row in rows if row.version < latest[row.material_id]])
    deleted = _tombstones(session, list(latest))
    for material_id, version in latest.items():
        if material_id not in deleted:
            session.execute(TOMBSTONES.insert().values(material_id=material_id, version=version))
        elif deleted[material_id] < version:
            where = TOMBSTONES.c.material_id == material_id
            session.execute(TOMBSTONES.update().where(where).values(version=version))


def remove(session: Session, dialect: str, doc_ids: list[int]) -> None:
    for chunk in chunks(doc_ids, WRITE_CHUNK):
        _write_texts(session, dialect, dict.fromkeys(chunk))
        _write_tags(session, {doc_id: set() for doc_id in chunk})
        session.execute(D.delete().where(D.c.doc_id.in_(chunk)))


def _write_texts(session: Session, dialect: str, texts: dict[int, dict[str, str] | None]) -> None:
    """Set (or, for None, delete) the text of each document, keeping the FTS5 index in step."""
    rows = session.execute(sa.select(TEXTS).where(TEXTS.c.doc_id.in_(texts))).mappings()
    old = {row["doc_id"]: dict(row) for row in rows}
    changed = [
        doc_id for doc_id, new in texts.items() if old.get(doc_id) != ({"doc_id": doc_id, **new} if new else None)
    ]
    stale = [old[doc_id] for doc_id in changed if doc_id in old]
    fresh = [{"doc_id": doc_id, **texts[doc_id]} for doc_id in changed if texts[doc_id] is not None]
    if stale:
        if dialect == "sqlite":
            # External-content FTS5 forgets a row only when told the text it indexed.
            session.execute(_FTS_DELETE, [fts_row(row) for row in stale])
        session.execute(TEXTS.delete().where(TEXTS.c.doc_id.in_([row["doc_id"] for row in stale])))
    if fresh:
        session.execute(TEXTS.insert(), fresh)
        if dialect == "sqlite":
            session.execute(_FTS_INSERT, [fts_row(row) for row in fresh])


def _write_tags(session: Session, tags: dict[int, set[tuple[str, str]]]) -> None:
    """Replace each document's tags, and flip the bits of the postings that changed."""
    old: dict[int, set[tuple[str, str]]] = {doc_id: set() for doc_id in tags}
    for row in session.execute(sa.select(TAGS).where(TAGS.c.doc_id.in_(tags))):
        old[row.doc_id].add((row.facet, row.value))
    added: dict[tuple[str, str], list[int]] = {}
    removed: dict[tuple[str, str], list[int]] = {}
    for doc_id, new in tags.items():
        for pair in new - old[doc_id]:
            added.setdefault(pair, []).append(doc_id)
        for pair in old[doc_id] - new:
            removed.setdefault(pair, []).append(doc_id)
    if removed:
        gone = [{"_doc_id": d, "_facet": f, "_value": v} for (f, v), ids in removed.items() for d in ids]
        session.execute(_DELETE_TAG, gone)
    if added:
        session.execute(
            TAGS.insert(), [{"doc_id": d, "facet": f, "value": v} for (f, v), ids in added.items() for d in ids]
        )
    _flip_postings(session, added, removed)


# -- search -----------------------------------------------------------------------------


def remove_all_except(session: Session, dialect: str, kept: set[uuid.UUID]) -> None:
    """Remove every document whose material is not in `kept` (the end of a rebuild)."""
    rows = session.execute(sa.select(D.c.doc_id, D.c.material_id)).all()
    remove(session, dialect, [row.doc_id for row in rows if row.material_id not in kept])


def clear(session: Session, dialect: str) -> None:
    """Remove every document, tombstone and claim."""
    if dialect == "sqlite":
        session.execute(sa.text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')"))
    for table in (TAGS, TEXTS, POSTINGS, D, TOMBSTONES):
        session.execute(table.delete())
    clear_claims(session, dialect)


_UPDATE_DOCUMENT = (
    D.update()
    .where(D.c.doc_id == sa.bindparam("_doc_id"))
    .values(
        {
            name: sa.bindparam(name)
            for name in (
                "material_id",
                "version",
                "kind",
                "language",
                "classification",
                "status",
                "published_at",
                "published_sort",
                "updated_at",
                "family",
            )
        }
    )
)
_DELETE_TAG = TAGS.delete().where(
    TAGS.c.doc_id == sa.bindparam("_doc_id"),
    TAGS.c.facet == sa.bindparam("_facet"),
    TAGS.c.value == sa.bindparam("_value"),
)


def _flip_postings(
    session: Session, added: dict[tuple[str, str], list[int]], removed: dict[tuple[str, str], list[int]]
) -> None:
    keys = set(added) | set(removed)
    if not keys:
        return
    where = sa.tuple_(POSTINGS.c.facet, POSTINGS.c.value).in_(list(keys))
    stmt = sa.select(POSTINGS.c.facet, POSTINGS.c.value, POSTINGS.c.bits).where(where).with_for_update()
    stored = {(row.facet, row.value): int.from_bytes(row.bits, "little") for row in session.execute(stmt)}
    for key in keys:
        bits = (stored.get(key, 0) | bm.bitmap(added.get(key, ()))) & ~bm.bitmap(removed.get(key, ()))
        where = (POSTINGS.c.facet == key[0]) & (POSTINGS.c.value == key[1])
        if key in stored:
            session.execute(
                POSTINGS.delete().where(where)
                if not bits
                else POSTINGS.update().where(where).values(bits=bm.to_bytes(bits))
            )
        elif bits:
            session.execute(POSTINGS.insert().values(facet=key[0], value=key[1], bits=bm.to_bytes(bits)))


def _tombstones(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    stmt = sa.select(TOMBSTONES.c.material_id, TOMBSTONES.c.version).where(TOMBSTONES.c.material_id.in_(ids))
    return {row.material_id: row.version for row in session.execute(stmt)}


def _row_for(doc: SearchDocument) -> dict[str, Any]:
    return {
        "material_id": doc.id,
        "version": doc.version,
        "kind": doc.kind,
        "language": doc.language,
        "classification": doc.classification,
        "status": doc.status,
        "published_at": doc.published_at,
        "published_sort": doc.published_at or NEVER_PUBLISHED,
        "updated_at": doc.updated_at,
        "family": doc.family or doc.id,
    }


def _texts_for(docs: list[SearchDocument]) -> list[dict[str, str]]:
    """Each document's texts and their folded copies (folded all at once)."""
    return [
        {"title": doc.title, "summary": doc.summary, "body": doc.body}
        | {"title_folded": title, "summary_folded": summary, "body_folded": body}
        for doc, (title, summary, body) in zip(docs, folded_fields(docs), strict=True)
    ]


def _tags_for(doc: SearchDocument) -> set[tuple[str, str]]:
    pairs = {(facet, value) for facet, values in facet_values(doc).items() for value in values}
    return pairs | {("status", doc.status), ("classification", doc.classification)}


def newest_per_id(docs: Iterable[SearchDocument]) -> list[SearchDocument]:
    newest: dict[uuid.UUID, SearchDocument] = {}
    for doc in docs:
        if doc.id not in newest or newest[doc.id].version < doc.version:
            newest[doc.id] = doc
    return list(newest.values())


def store_claims(session: Session, dialect: str, docs: list[ClaimDocument]) -> None:
    """Upsert each claim unless the stored copy is as new or newer."""
    newest: dict[Any, ClaimDocument] = {}
    for doc in docs:
        if doc.id not in newest or newest[doc.id].version < doc.version:
            newest[doc.id] = doc
    stored = {
        row.claim_id: row for row in session.execute(sa.select(CLAIMS).where(CLAIMS.c.claim_id.in_(list(newest))))
    }
    for doc in newest.values():
        old = stored.get(doc.id)
        if old is not None and old.version >= doc.version:
            continue
        values = {"version": doc.version, "status": doc.status, "text": doc.text, "folded": folded_text(doc.text)}
        if old is None:
            doc_id = session.execute(
                sa.insert(CLAIMS).values(claim_id=doc.id, **values).returning(CLAIMS.c.doc_id)
            ).scalar_one()
        else:
            doc_id = old.doc_id
            if dialect == "sqlite":
                session.execute(_CLAIM_FTS_DELETE, {"doc_id": doc_id, "folded": old.folded})
            session.execute(sa.update(CLAIMS).where(CLAIMS.c.doc_id == doc_id).values(**values))
        if dialect == "sqlite":
            session.execute(_CLAIM_FTS_INSERT, {"doc_id": doc_id, "folded": values["folded"]})


def clear_claims(session: Session, dialect: str) -> None:
    if dialect == "sqlite":
        session.execute(sa.text("INSERT INTO search_claims_fts(search_claims_fts) VALUES ('delete-all')"))
    session.execute(CLAIMS.delete())
