"""bundles, publications, deliveries and the feed change log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UUID = app.db.UUIDStr(length=36)
TIME = app.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bundles",
        sa.Column("id", UUID, nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("items", JSON, nullable=False),
        sa.Column("targets", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("publish_at", TIME, nullable=True),
        sa.Column("expires_at", TIME, nullable=True),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("published_at", TIME, nullable=True),
        sa.Column("recalled_at", TIME, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("created_by", UUID, nullable=True),
        sa.Column("updated_by", UUID, nullable=True),
        sa.Column("last_edited_by", UUID, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_bundles_created_by_users")),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_bundles_updated_by_users")),
        sa.ForeignKeyConstraint(["last_edited_by"], ["users.id"], name=op.f("fk_bundles_last_edited_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundles")),
    )
    op.create_index("ix_bundles_status_updated", "bundles", ["status", "updated_at"])
    op.create_table(
        "bundle_publications",
        sa.Column("bundle_id", UUID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("items", JSON, nullable=False),
        sa.Column("targets", JSON, nullable=False),
        sa.Column("published_by", UUID, nullable=True),
        sa.Column("published_at", TIME, nullable=False),
        sa.Column("release_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=True),
        sa.Column("released_at", TIME, nullable=True),
        sa.Column("superseded_at", TIME, nullable=True),
        sa.Column("expired_at", TIME, nullable=True),
        sa.Column("due_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["bundles.id"], name=op.f("fk_bundle_publications_bundle_id_bundles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["published_by"], ["users.id"], name=op.f("fk_bundle_publications_published_by_users")),
        sa.PrimaryKeyConstraint("bundle_id", "version", name=op.f("pk_bundle_publications")),
    )
    op.create_index("ix_bundle_publications_due_at", "bundle_publications", ["due_at"])
    op.create_table(
        "publication_targets",
        sa.Column("bundle_id", UUID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id", "version"],
            ["bundle_publications.bundle_id", "bundle_publications.version"],
            name=op.f("fk_publication_targets_bundle_id_bundle_publications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bundle_id", "version", "facet", "value", name=op.f("pk_publication_targets")),
    )
    op.create_index("ix_publication_targets_facet_value", "publication_targets", ["facet", "value"])
    op.create_table(
        "deliveries",
        sa.Column("bundle_id", UUID, nullable=False),
        sa.Column("unit_id", UUID, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("fetched_at", TIME, nullable=True),
        sa.Column("acknowledged_at", TIME, nullable=True),
        sa.Column("acknowledged_version", sa.Integer(), nullable=True),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=True),
        sa.Column("withdrawn_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["bundles.id"], name=op.f("fk_deliveries_bundle_id_bundles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_deliveries_unit_id_units"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("bundle_id", "unit_id", name=op.f("pk_deliveries")),
    )
    op.create_index("ix_deliveries_unit_id", "deliveries", ["unit_id"])
    op.create_table(
        "feed_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("unit_id", UUID, nullable=False),
        sa.Column("bundle_id", UUID, nullable=False),
        sa.Column("bundle_version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_feed_changes_unit_id_units"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["bundles.id"], name=op.f("fk_feed_changes_bundle_id_bundles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_feed_changes")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_feed_changes_unit_seq", "feed_changes", ["unit_id", "seq"])
    op.create_index("ix_feed_changes_bundle_unit_seq", "feed_changes", ["bundle_id", "unit_id", "seq"])


def downgrade() -> None:
    op.drop_table("feed_changes")
    op.drop_table("deliveries")
    op.drop_table("publication_targets")
    op.drop_table("bundle_publications")
    op.drop_table("bundles")
