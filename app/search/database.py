"""The built-in search backend: the documents live in the application's own database.

Used when ELASTICSEARCH_URL is unset. Tables (migration 0002):
- `search_documents`: one narrow row per material (plain filters, sort keys); the text lives
  apart so that scanning these rows in `newest` order stays cheap;
- `search_document_texts`: original and folded text; on SQLite the content of the FTS5 index
  `search_fts`, on PostgreSQL the source of two generated tsvector columns;
- `search_document_tags`: every (facet, value) of a document, status and classification too;
- `search_postings`: per (facet, value) a bitmap of the documents (by `doc_id`) that have it.
  Totals and disjunctive facet counts are AND/OR/popcount over these: milliseconds for
  100,000 documents, where GROUP BY over the tags takes hundreds;
- `search_tombstones`: the version of every delete, so a late stale upsert cannot resurrect.

Every folded query word must occur in the folded text; the original words, diacritics kept,
add to the score, so exact spellings rank first.
"""

import heapq
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import reduce
from operator import and_
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from app.db import UTCDateTime, UUIDStr
from app.search import bitmaps as bm
from app.search.backend import (
    FACETS,
    PLAIN_FILTERS,
    FacetCount,
    ProgressCallback,
    SearchDocument,
    SearchHit,
    SearchPage,
    SearchQuery,
)
from app.search.database_tables import (
    _FTS_DELETE,
    _FTS_INSERT,
    POSTINGS,
    TAGS,
    TEXTS,
    TOMBSTONES,
    D,
)
from app.search.documents import (
    aware_datetime,
    chunks,
    decode_cursor,
    effective_sort,
    encode_cursor,
    facet_values,
    folded_text,
    number,
    uuid_text,
)
from app.text import folded_words, words

# Sorts a missing published_at after every real date, with no NULL handling in the keyset.
NEVER_PUBLISHED = datetime(1, 1, 1, tzinfo=UTC)
# bm25 column weights in TEXT_COLUMNS order: title over summary over body.
BM25_WEIGHTS = (3.0, 2.0, 1.0, 3.0, 2.0, 1.0)
WRITE_CHUNK = 500
# Up to this many candidates, fetch them by id and sort; beyond, walk the `newest` index and
# keep candidates as they come (about (limit + 1) * documents / candidates rows are read).
DIRECT_LOOKUP_MAX = 2000


class DatabaseBackend:
    name = "database"

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        bind = session_factory.kw.get("bind")
        self._dialect = bind.dialect.name if bind is not None else "sqlite"
        if self._dialect not in ("sqlite", "postgresql"):
            raise RuntimeError(f"the database search backend runs on SQLite or PostgreSQL, not {self._dialect}")

    def ensure_ready(self) -> None:
        """The tables come with the migrations (`ttdn migrate`); this checks they are there."""
        with self._session_factory() as session:
            session.execute(sa.select(D.c.doc_id).limit(1))

    def ping(self) -> bool:
        try:
            self.ensure_ready()
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def refresh(self) -> None:
        """Writes are searchable once committed; nothing to do."""

    # -- writes -----------------------------------------------------------------------------

    def index_many(self, docs: list[SearchDocument]) -> None:
        for chunk in chunks(_newest_per_id(docs), WRITE_CHUNK):
            with self._writing() as session:
                self._store(session, chunk, force=False)

    def delete_many(self, items: list[tuple[uuid.UUID, int]]) -> None:
        latest: dict[uuid.UUID, int] = {}
        for material_id, version in items:
            latest[material_id] = max(version, latest.get(material_id, version))
        for chunk in chunks(latest.items(), WRITE_CHUNK):
            with self._writing() as session:
                self._delete(session, dict(chunk))

    def rebuild(self, docs: Iterable[SearchDocument], on_progress: ProgressCallback | None = None) -> int:
        """Rewrite every document in short transactions, then remove those not in `docs`.

        Searches keep working throughout (each document is its old or its new copy), and
        writers never wait long, which one big SQLite transaction would make them do.
        """
        seen: set[uuid.UUID] = set()
        for chunk in chunks(docs, 1000):
            with self._writing() as session:
                self._store(session, _newest_per_id(chunk), force=True)
            seen.update(doc.id for doc in chunk)
            if on_progress:
                on_progress(len(seen))
        with self._writing() as session:
            rows = session.execute(sa.select(D.c.doc_id, D.c.material_id)).all()
            self._remove(session, [row.doc_id for row in rows if row.material_id not in seen])
        return len(seen)

    def drop(self) -> None:
        with self._writing() as session:
            if self._dialect == "sqlite":
                session.execute(sa.text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')"))
            for table in (TAGS, TEXTS, POSTINGS, D, TOMBSTONES):
                session.execute(table.delete())

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        with self._session_factory() as session:
            if self._dialect == "sqlite":
                # Take SQLite's write lock before reading: a transaction that reads first and
                # writes later fails at once (SQLITE_BUSY, no waiting) if another connection
                # committed in between; a write statement first waits its turn instead.
                session.execute(sa.text("UPDATE search_tombstones SET version = version WHERE 0"))
            yield session
            session.commit()

    def _store(self, session: Session, docs: list[SearchDocument], *, force: bool) -> None:
        ids = [doc.id for doc in docs]
        current = {row.material_id: row for row in session.execute(sa.select(D).where(D.c.material_id.in_(ids)))}
        deleted = {} if force else _tombstones(session, ids)
        fresh = [
            doc
            for doc in docs
            if force
            or (
                deleted.get(doc.id, -1) < doc.version
                and (doc.id not in current or current[doc.id].version < doc.version)
            )
        ]
        updates = [doc for doc in fresh if doc.id in current]
        inserts = [doc for doc in fresh if doc.id not in current]
        doc_ids = {doc.id: current[doc.id].doc_id for doc in updates}
        if updates:
            values = [{**_row_for(doc), "_doc_id": doc_ids[doc.id]} for doc in updates]
            session.execute(_UPDATE_DOCUMENT, values)
        if inserts:
            inserted = session.execute(
                sa.insert(D).returning(D.c.doc_id, D.c.material_id), [_row_for(d) for d in inserts]
            )
            doc_ids.update({row.material_id: row.doc_id for row in inserted})
        by_doc_id = {doc_ids[doc.id]: doc for doc in fresh}
        self._write_texts(session, {doc_id: _texts_for(doc) for doc_id, doc in by_doc_id.items()})
        self._write_tags(session, {doc_id: _tags_for(doc) for doc_id, doc in by_doc_id.items()})

    def _delete(self, session: Session, latest: dict[uuid.UUID, int]) -> None:
        rows = session.execute(sa.select(D.c.doc_id, D.c.material_id, D.c.version).where(D.c.material_id.in_(latest)))
        self._remove(session, [row.doc_id for row in rows if row.version < latest[row.material_id]])
        deleted = _tombstones(session, list(latest))
        for material_id, version in latest.items():
            if material_id not in deleted:
                session.execute(TOMBSTONES.insert().values(material_id=material_id, version=version))
            elif deleted[material_id] < version:
                where = TOMBSTONES.c.material_id == material_id
                session.execute(TOMBSTONES.update().where(where).values(version=version))

    def _remove(self, session: Session, doc_ids: list[int]) -> None:
        for chunk in chunks(doc_ids, WRITE_CHUNK):
            self._write_texts(session, dict.fromkeys(chunk))
            self._write_tags(session, {doc_id: set() for doc_id in chunk})
            session.execute(D.delete().where(D.c.doc_id.in_(chunk)))

    def _write_texts(self, session: Session, texts: dict[int, dict[str, str] | None]) -> None:
        """Set (or, for None, delete) the text of each document, keeping the FTS5 index in step."""
        rows = session.execute(sa.select(TEXTS).where(TEXTS.c.doc_id.in_(texts))).mappings()
        old = {row["doc_id"]: dict(row) for row in rows}
        changed = [
            doc_id for doc_id, new in texts.items() if old.get(doc_id) != ({"doc_id": doc_id, **new} if new else None)
        ]
        stale = [old[doc_id] for doc_id in changed if doc_id in old]
        fresh = [{"doc_id": doc_id, **texts[doc_id]} for doc_id in changed if texts[doc_id] is not None]
        if stale:
            if self._dialect == "sqlite":
                # External-content FTS5 forgets a row only when told the text it indexed.
                session.execute(_FTS_DELETE, stale)
            session.execute(TEXTS.delete().where(TEXTS.c.doc_id.in_([row["doc_id"] for row in stale])))
        if fresh:
            session.execute(TEXTS.insert(), fresh)
            if self._dialect == "sqlite":
                session.execute(_FTS_INSERT, fresh)

    def _write_tags(self, session: Session, tags: dict[int, set[tuple[str, str]]]) -> None:
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

    def search(self, query: SearchQuery) -> SearchPage:
        sort = effective_sort(query)
        parsers = (number, uuid_text) if sort == "relevance" else (aware_datetime, aware_datetime, uuid_text)
        after = decode_cursor(query.cursor, sort, parsers) if query.cursor else None
        with self._session_factory() as session:
            bitmaps = _load_postings(session)
            chosen = {
                f: bm.union(bitmaps.get(f, {}).get(v, 0) for v in query.filters[f])
                for f in FACETS
                if query.filters.get(f)
            }
            # The filters are known before the text is searched: only documents passing them
            # can be shown, so only they need a score.
            filtered = _base_set(session, query, bitmaps)
            universe = bm.union(bitmaps.get("kind", {}).values())
            shown = reduce(and_, chosen.values(), filtered)
            matches = self._text_matches(
                session, query.text or "", scored=sort == "relevance", only=None if shown == universe else shown
            )
            base = filtered if matches is None else filtered & bm.bitmap(doc_id for doc_id, _ in matches)
            final = reduce(and_, chosen.values(), base)
            facets = _facet_counts(bitmaps, base, chosen) if query.with_facets else {}
            if sort == "relevance":
                rows = _top_scored(session, matches or [], bm.members(final), after, query.limit)
            else:
                rows = _top_newest(session, final, after, query.limit)
        hits = [SearchHit(row[1], row[0] if sort == "relevance" else None) for row in rows[: query.limit]]
        next_cursor = None
        if len(rows) > query.limit:
            last = rows[query.limit - 1]
            values = (
                [last[0], str(last[1])] if sort == "relevance" else [*(v.isoformat() for v in last[2:]), str(last[1])]
            )
            next_cursor = encode_cursor(sort, values)
        return SearchPage(hits=hits, total=final.bit_count(), facets=facets, next_cursor=next_cursor)

    def _text_matches(
        self, session: Session, text: str, *, scored: bool, only: int | None = None
    ) -> list[tuple[int, float | None]] | None:
        """(doc_id, score) of every document holding all the folded words; None without words.

        With `only` (a bitmap), documents outside it get no score (None): scoring is most of the
        cost of a search over a common word, and such documents are never shown.

        Plain SQL text, no ORM types: with tens of thousands of matches, per-row processing
        would cost more than the full-text search itself.
        """
        folded = folded_words(text)
        if not folded:
            return None
        if self._dialect == "sqlite":
            return _sqlite_matches(session, folded, words(text), scored=scored, only=only)
        score = "ts_rank(t.folded_vector, q.folded) + ts_rank(t.exact_vector, q.exact)" if scored else "0.0"
        sql = (
            f"SELECT t.doc_id, {score} FROM search_document_texts t, (SELECT plainto_tsquery('simple', :folded)"
            " AS folded, to_tsquery('simple', :exact) AS exact) q WHERE t.folded_vector @@ q.folded"
        )
        params = {"folded": " ".join(folded), "exact": " | ".join(words(text))}
        return [(row[0], row[1]) for row in session.execute(sa.text(sql), params)]


def _sqlite_matches(
    session: Session, folded: list[str], original: list[str], *, scored: bool, only: int | None
) -> list[tuple[int, float | None]]:
    """FTS5 matches, read through the driver's own cursor (SQLAlchemy rows cost more per row).

    Unscored, the bare folded expression finds the same rows as the scoring one, for less.
    """
    driver = session.connection().connection.driver_connection
    if not scored:
        sql, expression = "SELECT rowid, 0.0 FROM search_fts WHERE search_fts MATCH ?", _fts_required(folded)
    else:
        score = f"-bm25(search_fts, {', '.join(map(str, BM25_WEIGHTS))})"
        expression = _fts_expression(folded, original)
        if only is not None:
            members = bm.members(only)
            driver.create_function("ttdn_shown", 1, lambda doc_id: bm.has(members, doc_id), deterministic=True)
            score = f"CASE WHEN ttdn_shown(rowid) THEN {score} END"
        sql = f"SELECT rowid, {score} FROM search_fts WHERE search_fts MATCH ?"
    return driver.execute(sql, (expression,)).fetchall()


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
            )
        }
    )
)
_DELETE_TAG = TAGS.delete().where(
    TAGS.c.doc_id == sa.bindparam("_doc_id"),
    TAGS.c.facet == sa.bindparam("_facet"),
    TAGS.c.value == sa.bindparam("_value"),
)


def _fts_required(folded: list[str]) -> str:
    return "{title_folded summary_folded body_folded} : (" + " AND ".join(f'"{w}"' for w in folded) + ")"


def _fts_expression(folded: list[str], original: list[str]) -> str:
    required = _fts_required(folded)
    exact = "{title summary body} : (" + " OR ".join(f'"{w}"' for w in original) + ")"
    # bm25 adds up every phrase of the expression found in the row, OR branches included;
    # `required AND (exact OR required)` matches exactly the rows `required` matches.
    return f"{required} AND ({exact} OR {required})"


def _base_set(session: Session, query: SearchQuery, bitmaps: dict[str, dict[str, int]]) -> int:
    """Documents passing the non-facet filters (which apply to facet counts too)."""
    base = bm.union(bitmaps.get("kind", {}).values())  # every document has exactly one kind
    for name in PLAIN_FILTERS:
        if query.filters.get(name):
            base &= bm.union(bitmaps.get(name, {}).get(value, 0) for value in query.filters[name])
    if query.published_from or query.published_to:
        stmt = sa.select(D.c.doc_id).where(D.c.published_at.is_not(None))
        if query.published_from:
            stmt = stmt.where(D.c.published_sort >= query.published_from)
        if query.published_to:
            stmt = stmt.where(D.c.published_sort <= query.published_to)
        base &= bm.bitmap(session.scalars(stmt))
    return base


def _facet_counts(bitmaps: dict[str, dict[str, int]], base: int, chosen: dict[str, int]) -> dict[str, list[FacetCount]]:
    """Each facet counted over the documents that pass every filter but its own (disjunctive)."""
    facets = {}
    for facet in FACETS:
        scope = reduce(and_, (bits for other, bits in chosen.items() if other != facet), base)
        counts = [FacetCount(value, (bits & scope).bit_count()) for value, bits in bitmaps.get(facet, {}).items()]
        facets[facet] = sorted((c for c in counts if c.count), key=lambda c: (-c.count, c.value))
    return facets


def _top_scored(session: Session, matches: list, members: bytes, after: list[Any] | None, limit: int) -> list:
    """(score, material_id) of the next (limit + 1) matches: score desc, material id asc.

    Material ids are looked up only where they decide the order: among the matches tied
    with the cursor's score, and for the few best.
    """
    candidates = [(score, doc_id) for doc_id, score in matches if score is not None and bm.has(members, doc_id)]
    if after:
        last_score, last_id = after
        tied = [doc_id for score, doc_id in candidates if score == last_score]
        shown = {doc_id for doc_id, material_id in _material_ids(session, tied).items() if str(material_id) <= last_id}
        candidates = [c for c in candidates if c[0] < last_score or (c[0] == last_score and c[1] not in shown)]
    best = heapq.nlargest(limit + 1, candidates)
    if not best:
        return []
    cutoff = best[-1][0]
    best = [c for c in candidates if c[0] >= cutoff]  # every match tied at the cut-off, too
    ids = _material_ids(session, [doc_id for _, doc_id in best])
    ranked = sorted(((score, ids[doc_id]) for score, doc_id in best), key=lambda c: (-c[0], str(c[1])))
    return ranked[: limit + 1]


def _material_ids(session: Session, doc_ids: list[int]) -> dict[int, uuid.UUID]:
    ids: dict[int, uuid.UUID] = {}
    for chunk in chunks(doc_ids, WRITE_CHUNK):
        rows = session.execute(sa.select(D.c.doc_id, D.c.material_id).where(D.c.doc_id.in_(chunk)))
        ids.update((row.doc_id, row.material_id) for row in rows)
    return ids


def _top_newest(session: Session, final: int, after: list[Any] | None, limit: int) -> list[tuple[Any, ...]]:
    """(None, material_id, published_sort, updated_at) of the next (limit + 1) documents, newest first."""
    key = (D.c.published_sort, D.c.updated_at, D.c.material_id)
    stmt = sa.select(D.c.doc_id, D.c.material_id, D.c.published_sort, D.c.updated_at)
    if after:
        published, updated, last_id = after
        bound = (
            sa.literal(published, UTCDateTime),
            sa.literal(updated, UTCDateTime),
            sa.literal(uuid.UUID(last_id), UUIDStr),
        )
        stmt = stmt.where(sa.tuple_(*key) < sa.tuple_(*bound))
    stmt = stmt.order_by(*(column.desc() for column in key))
    count = final.bit_count()
    if count <= DIRECT_LOOKUP_MAX:
        ids = bm.members_list(final)
        rows = session.execute(stmt.where(D.c.doc_id.in_(ids)).limit(limit + 1)) if ids else []
        return [(None, *row[1:]) for row in rows]
    members, found = bm.members(final), []
    for row in session.execute(stmt.execution_options(yield_per=256)):
        if bm.has(members, row.doc_id):
            found.append((None, *row[1:]))
            if len(found) > limit:
                break
    return found


def _load_postings(session: Session) -> dict[str, dict[str, int]]:
    bitmaps: dict[str, dict[str, int]] = {}
    for facet, value, bits in session.execute(sa.select(POSTINGS.c.facet, POSTINGS.c.value, POSTINGS.c.bits)):
        bitmaps.setdefault(facet, {})[value] = int.from_bytes(bits, "little")
    return bitmaps


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
    }


def _texts_for(doc: SearchDocument) -> dict[str, str]:
    originals = {"title": doc.title, "summary": doc.summary, "body": doc.body}
    return {**originals, **{f"{name}_folded": folded_text(value) for name, value in originals.items()}}


def _tags_for(doc: SearchDocument) -> set[tuple[str, str]]:
    pairs = {(facet, value) for facet, values in facet_values(doc).items() for value in values}
    return pairs | {("status", doc.status), ("classification", doc.classification)}


def _newest_per_id(docs: Iterable[SearchDocument]) -> list[SearchDocument]:
    newest: dict[uuid.UUID, SearchDocument] = {}
    for doc in docs:
        if doc.id not in newest or newest[doc.id].version < doc.version:
            newest[doc.id] = doc
    return list(newest.values())
