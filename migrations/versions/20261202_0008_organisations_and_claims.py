"""organisations and claims

Organisations (and users' organisation_id); claim reports with their normalised URLs and
attachments; claims with tags, coordinating organisations, comments and published rebuttals;
a rebuttal material's `rebuts`; the claim search outbox; and the database search backend's
claim index (FTS5 on SQLite, a generated tsvector with a GIN index on PostgreSQL).

Revision ID: 0008
Revises: 0013
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = '0008'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('claim_search_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('claim_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('processed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_search_outbox'))
    )
    with op.batch_alter_table('claim_search_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_claim_search_outbox_pending', ['processed_at', 'id'], unique=False)

    op.create_table('organisations',
    sa.Column('id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('code', name=op.f('uq_organisations_code'))
    )
    op.create_table('search_claims',
    sa.Column('doc_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('claim_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('folded', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('doc_id', name=op.f('pk_search_claims')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_search_claims_claim_id'))
    )
    op.create_table('claims',
    sa.Column('id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('lead_organisation_id', app.db.UUIDStr(length=36), nullable=True),
    sa.Column('assignee_id', app.db.UUIDStr(length=36), nullable=True),
    sa.Column('first_reported_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('triaged_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rebutted_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('merged_into_id', app.db.UUIDStr(length=36), nullable=True),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', app.db.UUIDStr(length=36), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_claims_assignee_id_users')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_claims_created_by_users')),
    sa.ForeignKeyConstraint(['lead_organisation_id'], ['organisations.id'], name=op.f('fk_claims_lead_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['claims.id'], name=op.f('fk_claims_merged_into_id_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims'))
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_status_deadline', ['status', 'deadline_at'], unique=False)

    op.create_table('claim_comments',
    sa.Column('id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('claim_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('author_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('author_label', sa.String(length=320), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_claim_comments_author_id_users')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_comments_claim_id_claims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_comments'))
    )
    with op.batch_alter_table('claim_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_comments_claim_id'), ['claim_id'], unique=False)

    op.create_table('claim_organisations',
    sa.Column('claim_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('organisation_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_organisations_claim_id_claims'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_claim_organisations_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('claim_id', 'organisation_id', name=op.f('pk_claim_organisations'))
    )
    with op.batch_alter_table('claim_organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_organisations_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('claim_rebuttals',
    sa.Column('claim_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('material_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('verdict', sa.String(length=20), nullable=False),
    sa.Column('published_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('bundle_id', app.db.UUIDStr(length=36), nullable=True),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundles.id'], name=op.f('fk_claim_rebuttals_bundle_id_bundles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_rebuttals_claim_id_claims'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_claim_rebuttals_material_id_materials'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('claim_id', 'material_id', name=op.f('pk_claim_rebuttals'))
    )
    with op.batch_alter_table('claim_rebuttals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_rebuttals_material_id'), ['material_id'], unique=False)

    op.create_table('claim_reports',
    sa.Column('id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('claim_id', app.db.UUIDStr(length=36), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('excerpt', sa.Text(), nullable=False),
    sa.Column('urls', JSON, nullable=False),
    sa.Column('platform', sa.String(length=100), nullable=True),
    sa.Column('language', sa.String(length=35), nullable=True),
    sa.Column('observed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tags', JSON, nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('matched_by', sa.String(length=10), nullable=True),
    sa.Column('suggestions', JSON, nullable=False),
    sa.Column('reporter_type', sa.String(length=10), nullable=False),
    sa.Column('reporter_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('reporter_label', sa.String(length=320), nullable=False),
    sa.Column('unit_id', app.db.UUIDStr(length=36), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_reports_claim_id_claims')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_claim_reports_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_reports'))
    )
    with op.batch_alter_table('claim_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_reports_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_reports_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_reports_unit_id'), ['unit_id'], unique=False)

    op.create_table('claim_tags',
    sa.Column('claim_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('facet', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_tags_claim_id_claims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('claim_id', 'facet', 'value', name=op.f('pk_claim_tags'))
    )
    with op.batch_alter_table('claim_tags', schema=None) as batch_op:
        batch_op.create_index('ix_claim_tags_facet_value', ['facet', 'value'], unique=False)

    op.create_table('material_rebuts',
    sa.Column('material_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('claim_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('verdict', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_material_rebuts_material_id_materials'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('material_id', 'claim_id', name=op.f('pk_material_rebuts'))
    )
    with op.batch_alter_table('material_rebuts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_material_rebuts_claim_id'), ['claim_id'], unique=False)

    op.create_table('claim_report_attachments',
    sa.Column('id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('report_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('media_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['claim_reports.id'], name=op.f('fk_claim_report_attachments_report_id_claim_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_report_attachments'))
    )
    with op.batch_alter_table('claim_report_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_report_attachments_report_id'), ['report_id'], unique=False)

    op.create_table('claim_report_urls',
    sa.Column('report_id', app.db.UUIDStr(length=36), nullable=False),
    sa.Column('normalised', sa.String(length=2000), nullable=False),
    sa.Column('url_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['claim_reports.id'], name=op.f('fk_claim_report_urls_report_id_claim_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'normalised', name=op.f('pk_claim_report_urls'))
    )
    with op.batch_alter_table('claim_report_urls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_report_urls_url_hash'), ['url_hash'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        # ADD COLUMN with REFERENCES: no table rebuild (which would drop and recreate `users`,
        # the parent of many foreign keys).
        op.execute(
            "ALTER TABLE users ADD COLUMN organisation_id VARCHAR(36)"
            " CONSTRAINT fk_users_organisation_id_organisations REFERENCES organisations (id)"
        )
    else:
        op.add_column("users", sa.Column("organisation_id", app.db.UUIDStr(length=36), nullable=True))
        op.create_foreign_key(
            "fk_users_organisation_id_organisations", "users", "organisations", ["organisation_id"], ["id"]
        )
    op.create_index("ix_users_organisation_id", "users", ["organisation_id"])
    _claim_text_index()


def _claim_text_index() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE search_claims_fts USING fts5(folded, content='search_claims',"
            " content_rowid='doc_id', tokenize='unicode61 remove_diacritics 0')"
        )
    elif dialect == "postgresql":
        op.execute(
            "ALTER TABLE search_claims ADD COLUMN folded_vector tsvector"
            " GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, folded)) STORED"
        )
        op.execute("CREATE INDEX ix_search_claims_folded_vector ON search_claims USING gin (folded_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_claims_fts")
    op.drop_index("ix_users_organisation_id", table_name="users")
    with op.batch_alter_table('users', schema=None) as batch_op:
        if op.get_bind().dialect.name != "sqlite":
            batch_op.drop_constraint('fk_users_organisation_id_organisations', type_='foreignkey')
        batch_op.drop_column('organisation_id')

    with op.batch_alter_table('claim_report_urls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_report_urls_url_hash'))

    op.drop_table('claim_report_urls')
    with op.batch_alter_table('claim_report_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_report_attachments_report_id'))

    op.drop_table('claim_report_attachments')
    with op.batch_alter_table('material_rebuts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_material_rebuts_claim_id'))

    op.drop_table('material_rebuts')
    with op.batch_alter_table('claim_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_tags_facet_value')

    op.drop_table('claim_tags')
    with op.batch_alter_table('claim_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_reports_unit_id'))
        batch_op.drop_index(batch_op.f('ix_claim_reports_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_claim_reports_claim_id'))

    op.drop_table('claim_reports')
    with op.batch_alter_table('claim_rebuttals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_rebuttals_material_id'))

    op.drop_table('claim_rebuttals')
    with op.batch_alter_table('claim_organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_organisations_organisation_id'))

    op.drop_table('claim_organisations')
    with op.batch_alter_table('claim_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_comments_claim_id'))

    op.drop_table('claim_comments')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_status_deadline')

    op.drop_table('claims')
    op.drop_table('search_claims')
    op.drop_table('organisations')
    with op.batch_alter_table('claim_search_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_search_outbox_pending')

    op.drop_table('claim_search_outbox')
