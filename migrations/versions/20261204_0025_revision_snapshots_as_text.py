"""Saved versions' snapshots as `json` (the text kept as written), compressed with lz4 where the
server has it, on PostgreSQL; SQLite keeps its JSON text as it was.

A snapshot is written once and only ever read whole; nothing queries inside it. `jsonb` parsed
every snapshot into its binary form on the way in, and pglz compressed it: writing an import's
batches, that was 41% of PostgreSQL's CPU. `json` only checks the text. For 20,000 imported
materials' first versions: 0.72 s of PostgreSQL CPU against 1.55 s, in 42 MB against 41 MB
(bench/RESULTS.md).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 14:20:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _has_lz4() -> bool:
    """PostgreSQL 14 and later, built with lz4 (Debian's packages are), list it as a choice here."""
    choices = op.get_bind().scalar(
        text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    )
    return bool(choices) and "lz4" in choices


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # One statement: the rewrite that the type change makes compresses the rows with lz4 already.
    compression = ", ALTER COLUMN snapshot SET COMPRESSION lz4" if _has_lz4() else ""
    op.execute(f"ALTER TABLE material_revisions ALTER COLUMN snapshot TYPE json USING snapshot::json{compression}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    compression = ", ALTER COLUMN snapshot SET COMPRESSION default" if _has_lz4() else ""
    op.execute(f"ALTER TABLE material_revisions ALTER COLUMN snapshot TYPE jsonb USING snapshot::jsonb{compression}")
