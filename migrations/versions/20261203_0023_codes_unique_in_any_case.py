"""Unit and organisation codes unique in any case, in the database too: the services refuse a
code that differs from another only in case, but two such creates sent at the same moment both
passed that check and both were stored (the unique constraints compare case).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("uq_units_code_lower", "units", [sa.text("lower(code)")], unique=True)
    op.create_index("uq_organisations_code_lower", "organisations", [sa.text("lower(code)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_organisations_code_lower", table_name="organisations")
    op.drop_index("uq_units_code_lower", table_name="units")
