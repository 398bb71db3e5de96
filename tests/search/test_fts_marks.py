"""The built-in search index on SQLite marks the original columns' words (migration 0026).

The FTS5 index holds every word of title, summary and body as "ð" + the word, and the folded
columns' words as they are, so a query names its terms without column filters
(app/search/database_tables.py). These tests check the marking itself, that the index on a real
SQLite file holds exactly that (also after updates and deletes, which FTS5 with external
content applies only when given the values it indexed), that an exact spelling still ranks
first, and that the migration turns an index of unmarked words into marked ones and back.
"""

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from app import migrate
from app.db import build_engine, build_session_factory
from app.search.backend import SearchQuery
from app.search.database import DatabaseBackend
from app.search.database_tables import EXACT_MARK, TEXTS, D, fts_row, marked
from app.text import fold
from tests.search.test_search_contract import doc

pytestmark = pytest.mark.skipif(
    __import__("os").environ.get("TTDN_TEST_CONFIG", "sqlite") != "sqlite", reason="SQLite only"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tin giả", "ðTin ðgiả"),
        ("H'Mông, Đắk Lắk.", "ðH'ðMông, ðĐắk ðLắk."),
        ("Việt Nam – Lào (2025)", "ðViệt ðNam – ðLào (ð2025)"),
        ("snake_case", "ðsnake_ðcase"),  # FTS5's unicode61 separates words at an underscore
        # Lao and Khmer: as unicode61 does, a vowel sign or subscript (a mark, not a letter) separates.
        ("ພາສາລາວ ខ្មែរ", "ðພາສາລາວ ðខ្ðមែðរ"),
        ("x²y Ⅻ", "ðx²y ðⅫ"),
        ("", ""),
        ("  -- ", "  -- "),
    ],
)
def test_marked_puts_the_mark_before_every_word(text: str, expected: str) -> None:
    assert marked(text) == expected


def test_folding_never_yields_the_mark() -> None:
    # The mark keeps original words apart from folded ones only if no folded text holds it.
    assert EXACT_MARK not in fold("ð Ð đ Đ ðóng Ðào " + EXACT_MARK * 3)


def test_only_the_original_columns_are_marked() -> None:
    row = {
        "doc_id": 7,
        "title": "Tin giả",
        "summary": "Bản tin",
        "body": "",
        "title_folded": "tin gia",
        "summary_folded": "ban tin",
        "body_folded": "",
    }
    assert fts_row(row) == {**row, "title": "ðTin ðgiả", "summary": "ðBản ðtin"}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = build_engine(f"sqlite:///{tmp_path / 'ttdn.sqlite3'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _terms(engine: Engine) -> dict[str, set[str]]:
    """Every term of the FTS5 index, by column."""
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE VIRTUAL TABLE IF NOT EXISTS temp.v USING fts5vocab(main, search_fts, 'col')")
        rows = connection.exec_driver_sql("SELECT col, term FROM temp.v").all()
    out: dict[str, set[str]] = {}
    for column, term in rows:
        out.setdefault(column, set()).add(term)
    return out


def _titles(engine: Engine, text: str) -> list[str]:
    """The titles of the first hits for `text`, best first, as the index stores them now."""
    hits = DatabaseBackend(build_session_factory(engine)).search(SearchQuery(text=text, limit=10)).hits
    with engine.connect() as connection:
        stored = dict(
            connection.execute(
                sa.select(D.c.material_id, TEXTS.c.title).join(TEXTS, TEXTS.c.doc_id == D.c.doc_id)
            ).all()
        )
    return [stored[hit.id] for hit in hits]


DOCS = [
    doc("Tín dụng cho đồng bào", summary="Vốn vay ưu đãi"),
    doc("Tin giả về biên giới", summary="Cảnh giác với tin giả"),
    doc("Tin gia đình", summary="Gia đình văn hóa"),
]


def test_the_index_holds_original_words_marked_and_folded_words_plain(engine: Engine) -> None:
    backend = DatabaseBackend(build_session_factory(engine))
    backend.index_many(DOCS)
    terms = _terms(engine)
    for column in ("title", "summary"):
        assert terms[column] and all(term.startswith(EXACT_MARK) for term in terms[column]), column
    for column in ("title_folded", "summary_folded"):
        assert terms[column] and not any(EXACT_MARK in term for term in terms[column]), column
    assert {"ðtin", "ðgiả", "ðtín"} <= terms["title"]
    assert {"tin", "gia"} <= terms["title_folded"] and "tín" not in terms["title_folded"]

    # The exact spelling first, then the other spellings; without diacritics, every spelling.
    assert _titles(engine, "tin giả")[0] == "Tin giả về biên giới"
    assert set(_titles(engine, "tin gia")) == {"Tin giả về biên giới", "Tin gia đình"}
    assert _titles(engine, "tín")[0] == "Tín dụng cho đồng bào"
    assert set(_titles(engine, "tin")) == {d.title for d in DOCS}


def test_updates_and_deletes_leave_no_word_behind(engine: Engine) -> None:
    backend = DatabaseBackend(build_session_factory(engine))
    backend.index_many(DOCS)
    first = DOCS[0]
    backend.index_many([dataclasses.replace(first, version=2, title="Chính sách dân tộc")])
    terms = _terms(engine)
    assert "ðtín" not in terms["title"] and "ðchính" in terms["title"]
    assert _titles(engine, "chinh sach") == ["Chính sách dân tộc"]
    assert "Chính sách dân tộc" not in _titles(engine, "tín")

    backend.delete_many([(d.id, 9) for d in DOCS])
    assert _terms(engine) == {}  # FTS5 forgot every word it had indexed


def test_the_migration_unmarks_the_index_going_down_and_marks_it_going_up(engine: Engine) -> None:
    backend = DatabaseBackend(build_session_factory(engine))
    backend.index_many(DOCS)
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0025")
        assert connection.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0025"
    terms = _terms(engine)
    assert "tín" in terms["title"] and not any(EXACT_MARK in term for term in terms["title"])

    migrate.upgrade(engine)
    terms = _terms(engine)
    assert "ðtín" in terms["title"] and all(term.startswith(EXACT_MARK) for term in terms["title"])
    assert _titles(engine, "tin giả")[0] == "Tin giả về biên giới"
    assert _titles(engine, "tín")[0] == "Tín dụng cho đồng bào"
