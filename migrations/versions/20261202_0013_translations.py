"""materials.translation_of (a material may translate another) and search_documents.family

Revision ID: 0013
Revises: 0005
Create Date: 2026-12-02 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0013"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = app.db.UUIDStr(length=36)


def upgrade() -> None:
    with op.batch_alter_table("materials") as batch:
        batch.add_column(sa.Column("translation_of", UUID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_materials_translation_of_materials"), "materials", ["translation_of"], ["id"]
        )
        batch.create_index("ix_materials_translation_of", ["translation_of"])
    with op.batch_alter_table("search_documents") as batch:
        batch.add_column(sa.Column("family", UUID, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("search_documents") as batch:
        batch.drop_column("family")
    with op.batch_alter_table("materials") as batch:
        batch.drop_index("ix_materials_translation_of")
        batch.drop_constraint(op.f("fk_materials_translation_of_materials"), type_="foreignkey")
        batch.drop_column("translation_of")
