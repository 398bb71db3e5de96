"""sign-in counters charged before the password is checked, known sign-in addresses, and a
token generation per user (tokens issued before a password change or a disable are refused)

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0007"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = app.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_generation", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "sign_in_counters",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("window_start", TIME, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_counters")),
    )
    op.create_table(
        "sign_in_addresses",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("last_success_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("email", "address", name=op.f("pk_sign_in_addresses")),
    )


def downgrade() -> None:
    op.drop_table("sign_in_addresses")
    op.drop_table("sign_in_counters")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_generation")
