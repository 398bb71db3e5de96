"""webhooks.organisation_id becomes a foreign key to organisations

A subscription naming an organisation that no longer exists could never receive an event (every
claim's organisations exist); such subscriptions are deleted with their delivery log before the
key is added, so the upgrade cannot fail on them. On SQLite the table is rebuilt (batch mode).

Revision ID: 0021
Revises: 0007
Create Date: 2026-12-02 16:20:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0021"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_webhooks_organisation_id_organisations"
_DANGLING = (
    "SELECT id FROM webhooks WHERE organisation_id IS NOT NULL"
    " AND organisation_id NOT IN (SELECT id FROM organisations)"
)


def _rebuild_webhooks(change: Callable[[BatchOperations], None]) -> None:
    """Apply the change; on SQLite the table is rebuilt, and dropping it with foreign keys
    enforced would fail while the delivery log refers to it, so the log is set aside and put
    back around the rebuild (the same rows, the same transaction)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TEMP TABLE webhook_deliveries_kept AS SELECT * FROM webhook_deliveries")
        op.execute("DELETE FROM webhook_deliveries")
    with op.batch_alter_table("webhooks") as batch:
        change(batch)
    if sqlite:
        op.execute("INSERT INTO webhook_deliveries SELECT * FROM webhook_deliveries_kept")
        op.execute("DROP TABLE webhook_deliveries_kept")


def upgrade() -> None:
    op.execute(sa.text(f"DELETE FROM webhook_deliveries WHERE webhook_id IN ({_DANGLING})"))
    op.execute(sa.text(_DANGLING.replace("SELECT id FROM", "DELETE FROM", 1)))
    _rebuild_webhooks(lambda batch: batch.create_foreign_key(op.f(FK), "organisations", ["organisation_id"], ["id"]))


def downgrade() -> None:
    _rebuild_webhooks(lambda batch: batch.drop_constraint(op.f(FK), type_="foreignkey"))
