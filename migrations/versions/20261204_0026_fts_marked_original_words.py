"""The built-in search index on SQLite: the original columns' words marked, so that no query
needs a column filter (app/search/database_tables.py, `marked`).

A folded word and a word as written were the same FTS5 term ("tin" in "tin giả" and in "tín"),
told apart by a column filter that made FTS5 copy each matching row's positions. Now the words of
the original columns are indexed as "ðtin", "ðgiả". The texts table is unchanged; the index is
rebuilt from it, in one statement (100,000 materials: about a minute). PostgreSQL has nothing
to change.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 19:40:00
"""

from collections.abc import Sequence

from alembic import op

from app.search.database_tables import ORIGINAL_COLUMNS, TEXT_COLUMNS, marked

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    bind.connection.driver_connection.create_function("ttdn_marked", 1, marked, deterministic=True)
    values = ", ".join(f"ttdn_marked({name})" if name in ORIGINAL_COLUMNS else name for name in TEXT_COLUMNS)
    op.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
    op.execute(
        f"INSERT INTO search_fts(rowid, {', '.join(TEXT_COLUMNS)}) SELECT doc_id, {values} FROM search_document_texts"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # 'rebuild' indexes the texts table as it is: the words unmarked, as before.
    op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
