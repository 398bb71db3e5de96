"""search database backend

The tables of the built-in search backend (app/search/database.py). On SQLite an FTS5 index
over the text columns (external content: it stores only the index); on PostgreSQL two
generated tsvector columns ('simple' configuration: no stemming, the text is folded by the
application) with GIN indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_COLUMNS = ("title", "summary", "body", "title_folded", "summary_folded", "body_folded")


def _vector(columns: tuple[str, str, str]) -> str:
    weighted = [
        f"setweight(to_tsvector('simple'::regconfig, {column}), '{weight}')"
        for column, weight in zip(columns, "ABC", strict=True)
    ]
    return " || ".join(weighted)


def upgrade() -> None:
    doc_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "search_documents",
        sa.Column("doc_id", doc_id, autoincrement=True, nullable=False),
        sa.Column("material_id", app.db.UUIDStr(length=36), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("published_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_sort", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("doc_id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("material_id", name=op.f("uq_search_documents_material_id")),
    )
    op.create_index(
        "ix_search_documents_newest", "search_documents", ["published_sort", "updated_at", "material_id"]
    )
    op.create_table(
        "search_document_texts",
        sa.Column("doc_id", doc_id, autoincrement=False, nullable=False),
        *(sa.Column(name, sa.Text(), nullable=False) for name in TEXT_COLUMNS),
        sa.PrimaryKeyConstraint("doc_id", name=op.f("pk_search_document_texts")),
    )
    op.create_table(
        "search_document_tags",
        sa.Column("doc_id", doc_id, autoincrement=False, nullable=False),
        sa.Column("facet", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("doc_id", "facet", "value", name=op.f("pk_search_document_tags")),
    )
    op.create_table(
        "search_postings",
        sa.Column("facet", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=60), nullable=False),
        sa.Column("bits", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("facet", "value", name=op.f("pk_search_postings")),
    )
    op.create_table(
        "search_tombstones",
        sa.Column("material_id", app.db.UUIDStr(length=36), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("material_id", name=op.f("pk_search_tombstones")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5("
            + ", ".join(TEXT_COLUMNS)
            + ", content='search_document_texts', content_rowid='doc_id',"
            " tokenize='unicode61 remove_diacritics 0')"
        )
    elif dialect == "postgresql":
        folded = _vector(("title_folded", "summary_folded", "body_folded"))
        exact = _vector(("title", "summary", "body"))
        for name, expression in (("folded_vector", folded), ("exact_vector", exact)):
            op.execute(
                f"ALTER TABLE search_document_texts ADD COLUMN {name} tsvector"
                f" GENERATED ALWAYS AS ({expression}) STORED"
            )
            op.execute(f"CREATE INDEX ix_search_document_texts_{name} ON search_document_texts USING gin ({name})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")
    for table in ("search_tombstones", "search_postings", "search_document_tags", "search_document_texts"):
        op.drop_table(table)
    op.drop_index("ix_search_documents_newest", table_name="search_documents")
    op.drop_table("search_documents")
