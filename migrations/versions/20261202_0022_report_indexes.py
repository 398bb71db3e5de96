"""Indexes the reports' plans use: materials by publication and by creation time (covering on
PostgreSQL, so the period's materials are read from the index alone), deliveries by unit and
fetch time (a unit's last fetch is one index probe)

Revision ID: 0022
Revises: 0007
Create Date: 2026-12-02 16:35:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the reports read of a material besides the indexed time (PostgreSQL INCLUDE columns).
MATERIAL_REPORT_COLUMNS = ["id", "kind", "language", "translation_of", "created_by"]


def upgrade() -> None:
    op.create_index(
        "ix_materials_status_published",
        "materials",
        ["status", "published_at"],
        postgresql_include=[*MATERIAL_REPORT_COLUMNS, "created_at"],
    )
    op.create_index(
        "ix_materials_created", "materials", ["created_at"], postgresql_include=MATERIAL_REPORT_COLUMNS
    )
    op.create_index("ix_deliveries_unit_fetched", "deliveries", ["unit_id", "fetched_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_unit_fetched", table_name="deliveries")
    op.drop_index("ix_materials_created", table_name="materials")
    op.drop_index("ix_materials_status_published", table_name="materials")
