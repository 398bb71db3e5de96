"""audit trail (append-only; on PostgreSQL a trigger refuses UPDATE and DELETE)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("id", app.db.UUIDStr(length=36), nullable=False),
        sa.Column("at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_label", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_records")),
    )
    op.create_index("ix_audit_records_entity", "audit_records", ["entity_type", "entity_id"])
    op.create_index("ix_audit_records_actor", "audit_records", ["actor_id"])
    op.create_index("ix_audit_records_at", "audit_records", ["at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_records_are_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit records cannot be changed or deleted';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            """
            CREATE TRIGGER audit_records_append_only
            BEFORE UPDATE OR DELETE ON audit_records
            FOR EACH ROW EXECUTE FUNCTION audit_records_are_append_only()
            """
        )
    else:
        # SQLite has no stored procedures, but its triggers can refuse the same way.
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"""
                CREATE TRIGGER audit_records_no_{event.lower()}
                BEFORE {event} ON audit_records
                BEGIN SELECT RAISE(ABORT, 'audit records cannot be changed or deleted'); END
                """
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_records_append_only ON audit_records")
        op.execute("DROP FUNCTION audit_records_are_append_only()")
    op.drop_table("audit_records")
