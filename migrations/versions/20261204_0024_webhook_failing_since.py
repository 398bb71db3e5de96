"""When a webhook's current run of failed attempts began: a subscription is switched off only
after failing for a while (webhook_disable_after_seconds), not after a burst of failures during a
short outage.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(sa.Column("failing_since", app.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("failing_since")
