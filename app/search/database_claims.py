"""The claim index of the database backend: upserts by version, and matching by shared words.

Matching asks for any of the folded words (OR) and ranks by the database's own full-text score
(bm25 on SQLite, ts_rank on PostgreSQL); app.claims.matching then scores the candidates itself.
"""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.search.backend import ClaimDocument, SearchHit
from app.search.database_tables import _CLAIM_FTS_DELETE, _CLAIM_FTS_INSERT, CLAIMS
from app.search.documents import folded_text
from app.text import folded_words

# More words than this add little to finding candidates and slow the query down.
MAX_QUERY_WORDS = 40


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


def clear_claims(session: Session, dialect: str) -> None:
    if dialect == "sqlite":
        session.execute(sa.text("INSERT INTO search_claims_fts(search_claims_fts) VALUES ('delete-all')"))
    session.execute(CLAIMS.delete())
