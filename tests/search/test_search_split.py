"""The embedded backend on SQLite scores a search alone in its process in two halves at once.

A first page by relevance is scored by two statements, one per half of the documents, in two
threads and connections (app/search/database_queries.py `_sqlite_best`). These tests compare
every answer with the same backend scoring in one statement, on a real SQLite file (a split
needs connections of its own, which the suite's shared test connection is not): the same hits
in the same order, the same totals and facets, ties broken by material id across the halves,
and the next pages following on without a gap or a repeat.
"""

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app import cores, migrate
from app.db import build_engine, build_session_factory
from app.search import database_queries
from app.search.backend import SearchQuery
from app.search.database import DatabaseBackend
from app.search.documents import search_words
from tests.search.test_search_contract import doc

pytestmark = pytest.mark.skipif(
    __import__("os").environ.get("TTDN_TEST_CONFIG", "sqlite") != "sqlite", reason="SQLite only"
)


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DatabaseBackend, DatabaseBackend]]:
    """(split, whole): two backends over one SQLite file holding the documents below."""
    path: Path = tmp_path_factory.mktemp("split") / "ttdn.sqlite3"
    engine = build_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    factory = build_session_factory(engine)
    split, whole = DatabaseBackend(factory, split_searches=True), DatabaseBackend(factory, split_searches=False)
    docs = []
    for n in range(120):
        tags = {"kind": "video" if n % 4 == 0 else "article", "ethnic_groups": ["02"] if n % 2 == 0 else ["08"]}
        if n % 5 == 0:  # every fifth document is the same text: ties, in both halves
            docs.append(doc("Đồng bào dân tộc Mông giữ rừng", summary="Bản tin biên giới", **tags))
            continue
        summary = "Tin giả về chính sách dân tộc" if n % 3 == 0 else "Bản tin biên giới"
        body = " ".join(["dân tộc"] * (n % 7))
        docs.append(doc(f"Đồng bào vùng cao số {n} và tin giả", summary=summary, body=body, **tags))
    split.index_many(docs)
    yield split, whole
    engine.dispose()


@pytest.fixture(autouse=True)
def split_small_indexes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database_queries, "SPLIT_FROM", 2)


@pytest.fixture(autouse=True)
def machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A two-core machine with one task running (the search's own thread): a core is idle.
    What Linux says of the machine is read from a file, so each test says what it is."""
    loadavg = tmp_path / "loadavg"
    loadavg.write_text("0.42 0.30 0.25 1/85 4242\n")
    monkeypatch.setattr(cores, "LOADAVG", loadavg)
    monkeypatch.setattr(cores, "cpu_cores", lambda: 2)
    return loadavg


@pytest.fixture
def part_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The threads each scoring statement ran in."""
    seen: list[str] = []
    real = database_queries._sqlite_best_part

    def recorded(session: Session, statement: str, params: dict[str, Any]) -> Any:
        seen.append(threading.current_thread().name)
        return real(session, statement, params)

    monkeypatch.setattr(database_queries, "_sqlite_best_part", recorded)
    return seen


QUERIES = [
    {"text": "dong bao"},
    {"text": "tin giả"},
    {"text": "dân tộc Mông", "limit": 5},
    {"text": "dan toc", "limit": 3},
    {"text": "đồng bào", "filters": {"kind": ["video"]}},
    {"text": "tin gia", "filters": {"ethnic_group": ["08"]}, "limit": 4},
    {"text": "rừng", "limit": 1},
    {"text": "không có ở đâu"},
]


@pytest.mark.parametrize("params", QUERIES, ids=[str(q) for q in QUERIES])
def test_split_answers_as_one_statement_does(
    backends: tuple[DatabaseBackend, DatabaseBackend], part_threads: list[str], params: dict[str, Any]
) -> None:
    split, whole = backends
    halves = split.search(SearchQuery(**params))
    assert sorted(part_threads) == ["MainThread", "search-half_0"]  # it did split
    assert halves == whole.search(SearchQuery(**params))


def test_ties_across_the_halves_are_ordered_by_material_id(
    backends: tuple[DatabaseBackend, DatabaseBackend],
) -> None:
    split, whole = backends
    page = split.search(SearchQuery(text="dan toc mong giu rung", limit=20))
    assert page.total == 24  # the identical documents, numbered in both halves
    scores = {hit.score for hit in page.hits}
    assert len(scores) == 1
    assert [hit.id for hit in page.hits] == sorted((hit.id for hit in page.hits), key=str)
    assert page == whole.search(SearchQuery(text="dan toc mong giu rung", limit=20))


def test_pages_after_a_split_first_page_follow_on(backends: tuple[DatabaseBackend, DatabaseBackend]) -> None:
    """The first page comes from the halves, the next ones too: one order throughout."""
    split, whole = backends
    everything = every_hit(whole, 100)
    assert len(everything) == 120
    assert every_hit(split, 7) == everything


@pytest.mark.parametrize("text", ["dong bao", "tin giả", "dân tộc Mông", "rung"])
@pytest.mark.parametrize("limit", [1, 3, 7, 20])
def test_every_page_follows_the_ranking_of_every_match_scored(
    backends: tuple[DatabaseBackend, DatabaseBackend], text: str, limit: int
) -> None:
    """Pages after a cursor are scored like first pages (SQLite keeps the matches scored as the
    cursor's last hit, and the best of those below): together they are every match, ranked as
    scoring each one and sorting by score, then material id, ranks them."""
    split, whole = backends
    with whole._session_factory() as session:
        scored = database_queries._text_matches(session, "sqlite", search_words(SearchQuery(text=text)), scored=True)
        ids = database_queries._material_ids(session, [doc_id for doc_id, _ in scored or []])
    ranking = [ids[doc_id] for doc_id, _ in sorted(scored or [], key=lambda m: (-(m[1] or 0), str(ids[m[0]])))]
    assert len(ranking) > limit
    assert every_hit(split, limit, text) == ranking
    assert every_hit(whole, limit, text) == ranking


def every_hit(backend: DatabaseBackend, limit: int, text: str = "dong bao") -> list[uuid.UUID]:
    seen: list[uuid.UUID] = []
    cursor = None
    while True:
        page = backend.search(SearchQuery(text=text, limit=limit, cursor=cursor, with_facets=False))
        seen.extend(hit.id for hit in page.hits)
        cursor = page.next_cursor
        if cursor is None:
            return seen


def test_a_search_with_another_in_flight_is_not_split(
    backends: tuple[DatabaseBackend, DatabaseBackend], part_threads: list[str]
) -> None:
    split, _ = backends
    with split._counted():  # another search of this process, still running
        split.search(SearchQuery(text="tin gia"))
    assert part_threads == ["MainThread"]
    split.search(SearchQuery(text="tin gia"))
    assert part_threads[1:] == ["MainThread", "search-half_0"] or part_threads[1:] == ["search-half_0", "MainThread"]


def test_a_search_on_a_busy_machine_is_not_split(
    backends: tuple[DatabaseBackend, DatabaseBackend], part_threads: list[str], machine: Path
) -> None:
    """Another process (a second worker, the database) runs on the other core."""
    split, whole = backends
    machine.write_text("1.95 1.20 0.80 2/85 4242\n")
    assert split.search(SearchQuery(text="tin gia")) == whole.search(SearchQuery(text="tin gia"))
    assert "search-half_0" not in part_threads


def test_idle_cores_as_linux_tells(monkeypatch: pytest.MonkeyPatch, machine: Path) -> None:
    assert cores.idle_cores() == 1
    machine.write_text("3.10 2.00 1.00 5/85 4242\n")
    assert cores.idle_cores() == 0
    machine.write_text("garbled\n")
    assert cores.idle_cores() is None
    machine.unlink()  # not Linux
    assert cores.idle_cores() is None
    monkeypatch.undo()
    if Path("/proc/loadavg").exists():  # this machine, as it is: the caller itself is running
        assert 0 <= (cores.idle_cores() or 0) < cores.cpu_cores()


def test_parallel_searches_answer_as_one_at_a_time(backends: tuple[DatabaseBackend, DatabaseBackend]) -> None:
    """Searches sent at once, some split and some not, each get their own answer."""
    split, whole = backends
    expected = [whole.search(SearchQuery(**params)) for params in QUERIES]
    answers: dict[int, Any] = {}

    def ask(i: int) -> None:
        answers[i] = split.search(SearchQuery(**QUERIES[i % len(QUERIES)]))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4 * len(QUERIES))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(answers[i] == expected[i % len(QUERIES)] for i in range(len(threads)))


def test_no_second_thread_without_a_second_core_or_an_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    try:
        monkeypatch.setattr("app.search.database.cpu_cores", lambda: 1)
        assert DatabaseBackend(build_session_factory(engine))._other_half is None
        monkeypatch.setattr("app.search.database.cpu_cores", lambda: 2)
        assert DatabaseBackend(build_session_factory(engine))._other_half is not None
        with engine.connect() as connection:  # one shared connection, as the test suite binds
            shared = build_session_factory(engine)
            shared.configure(bind=connection)
            assert DatabaseBackend(shared)._other_half is None
    finally:
        engine.dispose()
