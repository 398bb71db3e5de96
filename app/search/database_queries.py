"""The database backend's query path: full-text matches, filters and facets as bitmaps, pages.

Every folded query word must occur in the folded text; the original words, diacritics kept,
add to the score, so exact spellings rank first. Claims are matched by any shared word.
"""

import heapq
import math
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from functools import reduce
from operator import and_
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import UTCDateTime, UUIDStr
from app.search import bitmaps as bm
from app.search.backend import (
    FACETS,
    PLAIN_FILTERS,
    FacetCount,
    FacetGroups,
    Form,
    SearchHit,
    SearchPage,
    SearchQuery,
)
from app.search.database_tables import (
    CLAIMS,
    POSTINGS,
    D,
    marked,
)
from app.search.documents import (
    PHRASE_BOOST,
    QueryWords,
    as_phrase,
    aware_datetime,
    chunks,
    decode_cursor,
    effective_sort,
    encode_cursor,
    integer,
    number,
    search_words,
    uuid_text,
)
from app.text import folded_words

# bm25 column weights in TEXT_COLUMNS order: title over summary over body.
BM25_WEIGHTS = (3.0, 2.0, 1.0, 3.0, 2.0, 1.0)
# Up to this many candidates, fetch them by id and sort; beyond, walk the `newest` index and
# keep candidates as they come (about (limit + 1) * documents / candidates rows are read).
DIRECT_LOOKUP_MAX = 2000
# Ids per lookup statement (below every database's bound on parameters).
LOOKUP_CHUNK = 500
# More words than this add little to finding claim candidates and slow the query down.
MAX_QUERY_WORDS = 40
# From this many documents (the highest document number), a page by relevance on SQLite is
# scored in two halves at once when another thread is offered; below, one statement is quicker.
SPLIT_FROM = 20_000

# Runs a function with a session of its own in another thread; its result comes as a Future.
OtherThread = Callable[[Callable[[Session], Any]], "Future[Any]"]


def search(session: Session, dialect: str, query: SearchQuery, other_thread: OtherThread | None = None) -> SearchPage:
    """One page of hits, the total and the facet counts for `query`; with `other_thread`, SQLite
    may score the matches in two halves at once (`_sqlite_best`)."""
    sort = effective_sort(query)
    parsers = (number, uuid_text) if sort == "relevance" else (aware_datetime, aware_datetime, uuid_text)
    after = decode_cursor(query, sort, parsers) if query.cursor and not query.collapse else None
    bitmaps = _load_postings(session)
    chosen = {
        f: bm.union(bitmaps.get(f, {}).get(v, 0) for v in query.filters[f]) for f in FACETS if query.filters.get(f)
    }
    # The filters are known before the text is searched: only documents passing them
    # can be shown, so only they need a score.
    filtered = _base_set(session, query, bitmaps)
    universe = bm.union(bitmaps.get("kind", {}).values())
    shown = reduce(and_, chosen.values(), filtered)
    words, only = search_words(query), None if shown == universe else shown
    matches: list[tuple[int, float | None]] | None
    if dialect == "sqlite" and sort == "relevance" and words.folded and not query.collapse:
        # A page by relevance: of the matches, only those that can reach it need a score.
        last_score = after[0] if after else None  # `number` made it a float
        matched, matches = _sqlite_best(
            session, words, only, query.limit + 1, last_score, universe.bit_length(), other_thread
        )
    else:
        matches = _text_matches(session, dialect, words, scored=sort == "relevance", only=only)
        matched = None if matches is None else bm.bitmap(doc_id for doc_id, _ in matches)
    base = filtered if matched is None else filtered & matched
    final = reduce(and_, chosen.values(), base)
    facets = _facet_counts(bitmaps, base, chosen, query.facet_groups) if query.with_facets else {}
    if query.collapse:
        return _collapsed_page(session, query, sort, matches, final, facets)
    if sort == "relevance":
        # A scored match is in `final` when every match passes the filters (`final` is all of
        # them) or when SQLite scored only the filters' documents (`final` is those matched):
        # then no match needs testing one by one.
        scored_are_final = (dialect == "sqlite" and shown != universe) or final == matched
        members = None if scored_are_final else bm.members(final)
        rows = _top_scored(session, matches or [], members, after, query.limit)
    else:
        rows = _top_newest(session, final, after, query.limit)
    hits = [SearchHit(row[1], row[0] if sort == "relevance" else None) for row in rows[: query.limit]]
    next_cursor = None
    if len(rows) > query.limit:
        last = rows[query.limit - 1]
        values = [last[0], str(last[1])] if sort == "relevance" else [*(v.isoformat() for v in last[2:]), str(last[1])]
        next_cursor = encode_cursor(query, sort, values)
    return SearchPage(hits=hits, total=final.bit_count(), facets=facets, next_cursor=next_cursor)


def _text_matches(
    session: Session, dialect: str, words: QueryWords, *, scored: bool, only: int | None = None
) -> list[tuple[int, float | None]] | None:
    """(doc_id, score) of every document holding all the folded words; None without words.

    With `only` (a bitmap), documents outside it get no score (None): scoring is most of the
    cost of a search over a common word, and such documents are never shown.

    Plain SQL text, no ORM types: with tens of thousands of matches, per-row processing
    would cost more than the full-text search itself.
    """
    folded, exact = words.folded, words.exact
    if not folded:
        return None
    if dialect == "sqlite":
        return _sqlite_matches(session, words, scored=scored, only=only)
    score = "ts_rank(t.folded_vector, q.folded) + ts_rank(t.exact_vector, q.exact)" if scored else "0.0"
    params = {"folded": _ts_required(words), "exact": " | ".join(exact)}
    if scored and as_phrase(folded):
        # The words found together, in the order typed, score again (documents.PHRASE_BOOST).
        # ts_rank ignores the distance `<->` asks for, so only rows that match the phrase get it.
        score += (
            " + CASE WHEN t.folded_vector @@ to_tsquery('simple', :phrase)"
            f" THEN {PHRASE_BOOST} * ts_rank(t.folded_vector, to_tsquery('simple', :phrase)) ELSE 0 END"
        )
        params["phrase"] = " <-> ".join(folded)
    sql = (
        f"SELECT t.doc_id, {score} FROM search_document_texts t, (SELECT to_tsquery('simple', :folded)"
        " AS folded, to_tsquery('simple', :exact) AS exact) q WHERE t.folded_vector @@ q.folded"
    )
    return [(row[0], row[1]) for row in session.execute(sa.text(sql), params)]


def _ts_required(words: QueryWords) -> str:
    """Every folded word (a word that spells a name as one word, or the name's words together),
    as a tsquery: the words are whole runs of word characters, quoted all the same."""
    return " & ".join(
        "(" + " | ".join(" <-> ".join(f"'{w}'" for w in form) for form in forms) + ")" for forms in words.required
    )


def _sqlite_matches(
    session: Session, words: QueryWords, *, scored: bool, only: int | None
) -> list[tuple[int, float | None]]:
    """FTS5 matches, read through the driver's own cursor (SQLAlchemy rows cost more per row).

    Unscored, the bare folded expression finds the same rows as the scoring one, for less.
    """
    driver = session.connection().connection.driver_connection
    if not scored:
        sql, expression = "SELECT rowid, 0.0 FROM search_fts WHERE search_fts MATCH ?", _fts_required(words)
    else:
        score = f"-bm25(search_fts, {', '.join(map(str, BM25_WEIGHTS))})"
        expression = _fts_expression(words)
        if only is not None:
            # One byte per document, 1 where it is shown: tested by SQLite itself, where a Python
            # function called for every match cost as much as scoring the shown ones.
            score = f"CASE WHEN substr(?2, rowid + 1, 1) = x'01' THEN {score} END"
            sql = f"SELECT rowid, {score} FROM search_fts WHERE search_fts MATCH ?1"
            return driver.execute(sql, (expression, bm.flags(only))).fetchall()
        sql = f"SELECT rowid, {score} FROM search_fts WHERE search_fts MATCH ?"
    return driver.execute(sql, (expression,)).fetchall()


def _sqlite_best(
    session: Session,
    words: QueryWords,
    only: int | None,
    keep: int,
    last_score: float | None,
    end: int,
    other_thread: OtherThread | None,
) -> tuple[int, list[tuple[int, float | None]]]:
    """The documents holding every folded word (a bitmap), and those of them that can reach the
    first `keep` places with their score: the `keep` best and every match tied with the last.
    After a cursor's `last_score`, the places after it: every match scored `last_score` (which
    of them the cursor's page showed, material ids decide: `_top_scored`), then the `keep` best
    of those scored lower and every match tied with the last of them.

    Scoring (bm25 of every match) is most of a search's cost on a common word; SQLite sorts the
    scores itself, and returns every match's number in one string (as rows they would cost
    Python more than the sorting). With `other_thread` and at least SPLIT_FROM documents, the
    documents are split in two halves by number, each scored by its own statement in its own
    thread and connection, so that two cores share the scoring. A half's statement computes the
    phrases' IDF and the average lengths over the whole index, as one statement does, so the
    scores are the same; that pass is paid twice, which is why the backend offers the other
    thread only to a search that runs alone in its process while a core is idle.
    """
    statement, params = _sqlite_best_statement(words, only, keep, last_score)
    if other_thread is None or end < SPLIT_FROM:
        return _sqlite_best_part(session, statement, {**params, "low": _ROWIDS[0], "high": _ROWIDS[1]})
    middle = end // 2
    second = other_thread(lambda own: _sqlite_best_part(own, statement, {**params, "low": middle, "high": _ROWIDS[1]}))
    matched, best = _sqlite_best_part(session, statement, {**params, "low": _ROWIDS[0], "high": middle - 1})
    other_matched, other_best = second.result()
    return matched | other_matched, best + other_best


# Every rowid SQLite can hold.
_ROWIDS = (-(2**63), 2**63 - 1)


def _sqlite_best_statement(
    words: QueryWords, only: int | None, keep: int, last_score: float | None
) -> tuple[str, dict[str, Any]]:
    score = f"-bm25(search_fts, {', '.join(map(str, BM25_WEIGHTS))})"
    last = math.inf if last_score is None else last_score  # a first page: every score is below
    params: dict[str, Any] = {"expression": _fts_expression(words), "place": keep - 1, "last": last}
    if only is not None:
        # Documents outside `only` are matched but never shown: no score (see `_sqlite_matches`).
        score = f"CASE WHEN substr(:shown, rowid + 1, 1) = x'01' THEN {score} END"
        params["shown"] = bm.flags(only)
    # The first row (its number NULL) lists every match; then each match scored `last` (after a
    # cursor), and each scored below it and at least as high as the keep-th best score below it
    # (every such match when there are fewer).
    statement = (
        f"WITH m AS MATERIALIZED (SELECT rowid AS r, {score} AS s FROM search_fts"
        " WHERE search_fts MATCH :expression AND rowid BETWEEN :low AND :high)"
        " SELECT NULL, NULL, (SELECT group_concat(r) FROM m)"
        " UNION ALL SELECT r, s, NULL FROM m WHERE s = :last"
        " UNION ALL SELECT r, s, NULL FROM m WHERE s < :last AND s >= coalesce("
        "(SELECT s FROM m WHERE s < :last ORDER BY s DESC LIMIT 1 OFFSET :place), -1e308)"
    )
    return statement, params


def _sqlite_best_part(
    session: Session, statement: str, params: dict[str, Any]
) -> tuple[int, list[tuple[int, float | None]]]:
    driver = session.connection().connection.driver_connection
    listed, best = None, []
    for doc_id, score, every in driver.execute(statement, params):
        if doc_id is None:
            listed = every
        else:
            best.append((doc_id, score))
    return (bm.bitmap(list(map(int, listed.split(",")))) if listed else 0), best


def _fts_required(words: QueryWords) -> str:
    """Every folded word; a word that spells a name as one word, or the name's words as a phrase.
    No column filter: only the folded columns hold unmarked words (`database_tables.marked`)."""
    return " AND ".join(map(_fts_forms, words.required))


def _fts_forms(forms: tuple[Form, ...]) -> str:
    """One folded word: any of its forms."""
    return "(" + " OR ".join(f'"{" ".join(form)}"' for form in forms) + ")"


def _fts_expression(words: QueryWords) -> str:
    folded, required = words.folded, _fts_required(words)
    # The words as typed, in the original columns (their words are marked there).
    groups = [f'"{marked(word)}"' for word in words.exact]
    if as_phrase(folded):
        # The words found together, in the order typed, score again (bm25 adds up every phrase
        # of the expression found in the row). Once: each copy is another pass over positions.
        groups.append(f'"{" ".join(folded)}"')
    # `required AND (scoring OR last)`, `last` the last word's forms, matches exactly the rows
    # `required` matches: a row without an exact word or the phrase still scores by its folded
    # words. One word, not all of them again: each phrase of the expression costs bm25 a pass
    # over its whole document list (its IDF) and a look at its positions in every row.
    return f"({required}) AND ({' OR '.join(groups)} OR {_fts_forms(words.required[-1])})"


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


def _facet_counts(
    bitmaps: dict[str, dict[str, int]],
    base: int,
    chosen: dict[str, int],
    groups: FacetGroups,
) -> dict[str, list[FacetCount]]:
    """Each facet counted over the documents that pass every filter but its own (disjunctive),
    by value or by the value's group (`SearchQuery.facet_groups`)."""
    facets = {}
    for facet in FACETS:
        scope = reduce(and_, (bits for other, bits in chosen.items() if other != facet), base)
        counts = [
            FacetCount(value, (bits & scope).bit_count()) for value, bits in _facet_values(bitmaps, facet, groups)
        ]
        facets[facet] = sorted((c for c in counts if c.count), key=lambda c: (-c.count, c.value))
    return facets


def _facet_values(bitmaps: dict[str, dict[str, int]], facet: str, groups: FacetGroups) -> list[tuple[str, int]]:
    """(value shown, its documents) of one facet: a group's documents are its members' union."""
    stored = bitmaps.get(facet, {})
    grouped = groups.get(facet, {})
    members = {member for group in grouped.values() for member in group}
    return [(value, bm.union(stored.get(m, 0) for m in group)) for value, group in grouped.items()] + [
        (value, bits) for value, bits in stored.items() if value not in members
    ]


def _top_scored(session: Session, matches: list, members: bytes | None, after: list[Any] | None, limit: int) -> list:
    """(score, material_id) of the next (limit + 1) matches: score desc, material id asc.

    Only scored matches in `members` count (all the scored ones when `members` is None).
    Material ids are looked up only where they decide the order: among the matches tied
    with the cursor's score, and for the few best.
    """
    if members is None:
        candidates = [(score, doc_id) for doc_id, score in matches if score is not None]
    else:
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
    for chunk in chunks(doc_ids, LOOKUP_CHUNK):
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


def _collapsed_page(
    session: Session, query: SearchQuery, sort: str, matches: list | None, final: int, facets: dict
) -> SearchPage:
    """One hit per translation family, its best-ranked member, paged by offset."""
    offset = decode_cursor(query, f"collapse-{sort}", (integer,))[0] if query.cursor else 0
    members = bm.members(final)
    if sort == "relevance":
        scored = {doc_id: score for doc_id, score in matches or [] if score is not None and bm.has(members, doc_id)}
        rows = session.execute(sa.select(D.c.doc_id, D.c.material_id, D.c.family).where(D.c.doc_id.in_(list(scored))))
        ranked = sorted(
            ((scored[row.doc_id], row.material_id, row.family or row.material_id) for row in rows),
            key=lambda r: (-r[0], str(r[1])),
        )
    else:
        key = (D.c.published_sort.desc(), D.c.updated_at.desc(), D.c.material_id.desc())
        stmt = sa.select(D.c.doc_id, D.c.material_id, D.c.family).order_by(*key).execution_options(yield_per=1024)
        ranked = [
            (None, row.material_id, row.family or row.material_id)
            for row in session.execute(stmt)
            if bm.has(members, row.doc_id)
        ]
    seen: set[uuid.UUID] = set()
    best = [row for row in ranked if row[2] not in seen and not seen.add(row[2])]
    page = best[offset : offset + query.limit]
    more = len(best) > offset + query.limit
    return SearchPage(
        hits=[SearchHit(material_id, score) for score, material_id, _ in page],
        total=len(best),
        facets=facets,
        next_cursor=encode_cursor(query, f"collapse-{sort}", [offset + query.limit]) if more else None,
    )


def _load_postings(session: Session) -> dict[str, dict[str, int]]:
    bitmaps: dict[str, dict[str, int]] = {}
    for facet, value, bits in session.execute(sa.select(POSTINGS.c.facet, POSTINGS.c.value, POSTINGS.c.bits)):
        bitmaps.setdefault(facet, {})[value] = int.from_bytes(bits, "little")
    return bitmaps


def match_claims(session: Session, dialect: str, text: str, limit: int) -> list[SearchHit]:
    words = list(dict.fromkeys(folded_words(text)))[:MAX_QUERY_WORDS]
    if not words:
        return []
    if dialect == "sqlite":
        sql = (
            "SELECT c.claim_id, -bm25(search_claims_fts) AS score FROM search_claims_fts"
            " JOIN search_claims c ON c.doc_id = search_claims_fts.rowid"
            " WHERE search_claims_fts MATCH :q AND c.status <> 'merged' ORDER BY score DESC LIMIT :n"
        )
        query = " OR ".join(f'"{word}"' for word in words)
    else:
        sql = (
            "SELECT c.claim_id, ts_rank(c.folded_vector, q) AS score FROM search_claims c,"
            " to_tsquery('simple', :q) q WHERE c.folded_vector @@ q AND c.status <> 'merged'"
            " ORDER BY score DESC LIMIT :n"
        )
        query = " | ".join(words)
    rows = session.execute(
        sa.text(sql).columns(CLAIMS.c.claim_id, sa.column("score", sa.Float)), {"q": query, "n": limit}
    )
    return [SearchHit(row.claim_id, float(row.score)) for row in rows]
