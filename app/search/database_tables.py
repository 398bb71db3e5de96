"""The tables of the database search backend (created by migration 0002).

- `search_documents`: one narrow row per material (plain filters, sort keys);
- `search_document_texts`: original and folded text (the FTS5 index's content on SQLite; the
  index holds the original columns' words marked, see `fts_row`);
- `search_document_tags`: every (facet, value) of a document;
- `search_postings`: per (facet, value) a bitmap of the documents that have it;
- `search_tombstones`: the version of every delete, so a stale upsert cannot resurrect.
"""

import re
from typing import Any

import sqlalchemy as sa

from app.db import Base, UTCDateTime, UUIDStr
from app.text import Remembered

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

# FTS5 (SQLite): every word of the original columns is indexed with this letter before it, so an
# original word ("ðgiả", "ðtin") is never the same term as a folded one ("gia", "tin"). A query
# then names its terms without a column filter: FTS5 reads a term's positions in place, where a
# filter made it copy every matching row's positions first, and computing a term's IDF scanned it
# the same way. With the filters, 'tin giả' over 100,000 materials: 185 ms, 40 of them for the
# IDFs; marked: 142 ms, 20 for the IDFs (bench/RESULTS.md). Folding never yields "ð" (it becomes
# "d"), so no folded text holds a marked word; the texts table keeps the words as written.
EXACT_MARK = "ð"
# unicode61's word characters are letters, numbers and private-use characters ("L* N* Co"); an
# underscore separates. Private-use characters are left unmarked here: a run of them in an
# original column could only add to a folded word's score, never change which rows match.
_FTS_WORD = re.compile(r"[^\W_]+")
ORIGINAL_COLUMNS = TEXT_COLUMNS[:3]


def _mark_words(run: str) -> str:
    return _FTS_WORD.sub(lambda word: EXACT_MARK + word[0], run)


# Space-separated runs of text -> marked, remembered as app.text does for folding: the texts
# repeat a few thousand words, and a dictionary hit is cheaper than the regular expression
# (an average body of the benchmark corpus: 40 against 138 µs).
_MARKED_RUNS = Remembered(_mark_words, limit=100_000, longest=64)


def marked(text: str) -> str:
    """Original text as the FTS5 index holds it: "Tin giả" -> "ðTin ðgiả"."""
    return " ".join(map(_MARKED_RUNS.__getitem__, text.split(" ")))


def fts_row(row: dict[str, Any]) -> dict[str, Any]:
    """The values of a texts row as FTS5 indexes them (to insert, and to delete: FTS5 with
    external content forgets a row only when given the values it indexed)."""
    return {**row, **{name: marked(row[name]) for name in ORIGINAL_COLUMNS}}


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
