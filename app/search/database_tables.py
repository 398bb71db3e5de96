"""The tables of the database search backend (created by migration 0002).

- `search_documents`: one narrow row per material (plain filters, sort keys);
- `search_document_texts`: original and folded text (the FTS5 index's content on SQLite);
- `search_document_tags`: every (facet, value) of a document;
- `search_postings`: per (facet, value) a bitmap of the documents that have it;
- `search_tombstones`: the version of every delete, so a stale upsert cannot resurrect.
"""

import sqlalchemy as sa

from app.db import Base, UTCDateTime, UUIDStr

TEXT_COLUMNS = ("title", "summary", "body", "title_folded", "summary_folded", "body_folded")
_DocId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

D = sa.Table(
    "search_documents",
    Base.metadata,
    # An integer key: FTS5 indexes rows by integer rowid, and bitmaps need small dense numbers.
    sa.Column("doc_id", _DocId, primary_key=True, autoincrement=True),
    sa.Column("material_id", UUIDStr, nullable=False, unique=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("language", sa.String(35), nullable=False),
    sa.Column("classification", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("published_at", UTCDateTime),
    sa.Column("published_sort", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("family", UUIDStr),
    sa.Index("ix_search_documents_newest", "published_sort", "updated_at", "material_id"),
)
TEXTS = sa.Table(
    "search_document_texts",
    Base.metadata,
    sa.Column("doc_id", _DocId, primary_key=True, autoincrement=False),
    *(sa.Column(name, sa.Text, nullable=False) for name in TEXT_COLUMNS),
)
TAGS = sa.Table(
    "search_document_tags",
    Base.metadata,
    sa.Column("doc_id", _DocId, primary_key=True, autoincrement=False),
    sa.Column("facet", sa.String(20), primary_key=True),
    sa.Column("value", sa.String(60), primary_key=True),
)
POSTINGS = sa.Table(
    "search_postings",
    Base.metadata,
    sa.Column("facet", sa.String(20), primary_key=True),
    sa.Column("value", sa.String(60), primary_key=True),
    sa.Column("bits", sa.LargeBinary, nullable=False),
)
TOMBSTONES = sa.Table(
    "search_tombstones",
    Base.metadata,
    sa.Column("material_id", UUIDStr, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)

_FTS_COLUMNS = ", ".join(TEXT_COLUMNS)
_FTS_VALUES = ", ".join(f":{name}" for name in TEXT_COLUMNS)
_FTS_INSERT = sa.text(f"INSERT INTO search_fts(rowid, {_FTS_COLUMNS}) VALUES (:doc_id, {_FTS_VALUES})")
_FTS_DELETE = sa.text(
    f"INSERT INTO search_fts(search_fts, rowid, {_FTS_COLUMNS}) VALUES ('delete', :doc_id, {_FTS_VALUES})"
)

# The claim index (migration 0008): one row per claim, its folded text indexed by FTS5 on
# SQLite (`search_claims_fts`, external content) and by a generated tsvector on PostgreSQL.
CLAIMS = sa.Table(
    "search_claims",
    Base.metadata,
    sa.Column("doc_id", _DocId, primary_key=True, autoincrement=True),
    sa.Column("claim_id", UUIDStr, nullable=False, unique=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("folded", sa.Text, nullable=False),
)
_CLAIM_FTS_INSERT = sa.text("INSERT INTO search_claims_fts(rowid, folded) VALUES (:doc_id, :folded)")
_CLAIM_FTS_DELETE = sa.text(
    "INSERT INTO search_claims_fts(search_claims_fts, rowid, folded) VALUES ('delete', :doc_id, :folded)"
)
