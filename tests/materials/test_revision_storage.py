"""How saved versions are stored on PostgreSQL (migration 0025): `json` text, lz4 where the
server has it, and nothing lost when an existing database is migrated either way."""

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app import migrate
from app.materials.models import MaterialRevision
from app.materials.schemas import RevisionRead
from tests.factories import make_material


def _column(connection: Connection) -> tuple[str, str]:
    """(type, compression: '' for the server's default) of material_revisions.snapshot."""
    row = connection.execute(
        text(
            "SELECT atttypid::regtype::text, attcompression FROM pg_attribute "
            "WHERE attrelid = 'material_revisions'::regclass AND attname = 'snapshot'"
        )
    ).one()
    return row[0], row[1]


def _has_lz4(connection: Connection) -> bool:
    choices = connection.scalar(text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'"))
    return bool(choices) and "lz4" in choices


def _migrate(connection: Connection, to: str, downgrade: bool = False) -> None:
    """Within the test's transaction (DDL is transactional on PostgreSQL: rolled back after)."""
    config = migrate.alembic_config()
    config.attributes["connection"] = connection
    (command.downgrade if downgrade else command.upgrade)(config, to)


@pytest.fixture
def pg_connection(connection: Connection) -> Connection:
    if connection.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's column types and compression")
    return connection


def test_snapshots_are_json_text_compressed_with_lz4_where_the_server_has_it(pg_connection: Connection) -> None:
    kind, compression = _column(pg_connection)
    assert kind == "json"
    assert compression == ("l" if _has_lz4(pg_connection) else "")


def test_migrating_down_and_up_keeps_every_saved_version(pg_connection: Connection, session: Session) -> None:
    material = make_material(session, title="Chính sách dân tộc", body="Đồng bào " * 400, topics=["ethnic-policy"])
    session.commit()
    before = [RevisionRead.of(r) for r in session.scalars(select(MaterialRevision))]
    assert before and before[0].body.startswith("Đồng bào")

    _migrate(pg_connection, "0024", downgrade=True)
    assert _column(pg_connection)[0] == "jsonb"
    _migrate(pg_connection, "head")
    assert _column(pg_connection) == ("json", "l" if _has_lz4(pg_connection) else "")

    session.expire_all()
    after = [RevisionRead.of(r) for r in session.scalars(select(MaterialRevision))]
    assert after == before
    assert after[0].id == material.id
    if _has_lz4(pg_connection):
        # The body repeats: long enough to be compressed, and the rewrite used lz4 already.
        compressed = pg_connection.scalar(
            text("SELECT pg_column_compression(snapshot) FROM material_revisions WHERE material_id = :id"),
            {"id": str(material.id)},
        )
        assert compressed == "lz4"
