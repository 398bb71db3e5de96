"""The `ttdn` command end to end on a scratch SQLite file: migrate, seed, users, import, reindex.

The CLI reads its settings from the environment like the server does; these tests point it at
a temporary DATA_DIR (the same in both configurations: the commands, not the database, are
under test here; the services behind them are tested elsewhere on both configurations).
"""

import gc
import json
import re
import sqlite3
import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app import cli as cli_module
from app.accounts.models import User
from app.bundles.models import Bundle
from app.cli import cli
from app.collector import BATCH_THRESHOLDS
from app.config import get_settings
from app.db import build_engine, build_session_factory
from app.main import create_app
from app.materials.importer import ImportReport
from app.materials.models import Material
from app.organisations.models import Organisation
from app.search.backend import SearchQuery
from app.search.database import DatabaseBackend
from tests.factories import count_rows, material_data

runner = CliRunner()


def run(*args, env=None):
    result = runner.invoke(cli, list(args), env=env)
    return result


def test_migrate_and_seed_twice_changes_nothing(scratch):
    assert run("migrate").exit_code == 0
    first = run("seed", "--demo-if-empty")
    assert first.exit_code == 0, first.output
    assert "ethnic_groups 54" in first.output and "created the first admin" in first.output
    assert count_rows(Material, scratch) == 31  # the demo set and the demo bundles' picture material
    assert count_rows(Organisation, scratch) == 4 and count_rows(User, scratch) == 5
    assert first.output.count("demo staff:") == 4
    second = run("seed", "--demo-if-empty")
    assert second.exit_code == 0
    assert "ethnic_groups 0" in second.output and "admin" not in second.output
    assert count_rows(Material, scratch) == 31


def test_production_gets_no_demo_and_no_generated_admin(scratch):
    run("migrate")
    env = {"APP_ENV": "production", "SECRET_KEY": "p" * 40}
    get_settings.cache_clear()
    result = run("seed", "--demo-if-empty", env=env)
    assert result.exit_code == 0, result.output
    assert "no demo data" in result.output
    assert count_rows(Material, scratch) == 0


def test_create_user_takes_the_password_from_the_environment(scratch):
    run("migrate")
    ok = run("create-user", "Reviewer@Example.test", "--role", "reviewer", env={"TTDN_PASSWORD": "sông núi biên cương"})
    assert ok.exit_code == 0 and "reviewer@example.test" in ok.output
    weak = run("create-user", "x@example.test", "--role", "editor", env={"TTDN_PASSWORD": "password1234"})
    assert weak.exit_code == 1 and "too easy to guess" in weak.output


def test_create_user_reads_a_piped_password_without_a_warning(scratch):
    run("migrate")
    piped = runner.invoke(cli, ["create-user", "pipe@example.test", "--role", "editor"], input="sông núi biên cương\n")
    assert piped.exit_code == 0 and "pipe@example.test" in piped.output
    assert "Warning" not in piped.output and "Password" not in piped.output  # no prompt, no getpass warning


def test_create_user_in_an_organisation(scratch):
    run("migrate")
    run("seed", "--demo-if-empty")
    env = {"TTDN_PASSWORD": "sông núi biên cương"}
    ok = run("create-user", "so@example.test", "--role", "editor", "--organisation", "demo-sdttg-db", env=env)
    assert ok.exit_code == 0, ok.output
    unknown = run("create-user", "x@example.test", "--role", "editor", "--organisation", "NOPE", env=env)
    assert unknown.exit_code == 1 and "no organisation" in unknown.output


def test_import_reports_bad_lines_and_keeps_good_ones(scratch):
    run("migrate")
    run("seed")
    lines = [
        json.dumps(material_data(title="Một", ethnic_groups=["Mông"], status="published")),
        "{not json",
        json.dumps(material_data(title="Hai", ethnic_groups=["Không có dân tộc này"])),
        json.dumps(material_data(title="Ba", kind="poem")),
        "",
        json.dumps(material_data(title="Bốn", border_routes=["lao"])),
    ]
    path = scratch / "in.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 2, result.output
    assert "imported 2 materials, 3 lines skipped" in result.output
    assert "line 2:" in result.output and "line 3:" in result.output and "line 4:" in result.output
    assert "Không có dân tộc này" in result.output
    assert count_rows(Material, scratch) == 2
    engine = build_engine(f"sqlite:///{scratch / 'ttdn.sqlite3'}")
    backend = DatabaseBackend(build_session_factory(engine))
    assert backend.search(SearchQuery(text="mot")).total == 1  # indexed before the command returned
    engine.dispose()


def test_import_skips_a_line_that_is_not_utf8_and_keeps_the_others(scratch):
    run("migrate")
    run("seed")
    good = [json.dumps(material_data(title=title), ensure_ascii=False).encode() for title in ("Một", "Ba")]
    path = scratch / "in.ndjson"
    # Line 2 was saved in a legacy code page; the file starts with a byte order mark.
    path.write_bytes(b"\xef\xbb\xbf" + good[0] + b'\n{"title": "Hai \xe0"}\n' + good[1] + b"\n")
    result = run("import", str(path))
    assert result.exit_code == 2, result.output
    assert "line 2: not UTF-8 text: byte 0xe0 at position 16 of the line" in result.output
    assert "imported 2 materials, 1 lines skipped" in result.output and "Traceback" not in result.output
    assert count_rows(Material, scratch) == 2


def test_import_writes_each_batch_while_reading_the_next(scratch):
    """Batches of two: a line that cannot be saved (the database refuses it: a unique index on
    titles, added here) in the second batch costs only itself, a bad line in the third is
    reported, and the errors come in line order."""
    run("migrate")
    run("seed")
    with sqlite3.connect(scratch / "ttdn.sqlite3") as connection:
        connection.execute("CREATE UNIQUE INDEX test_one_title ON materials (title)")
    titles = [f"Bài {n}" for n in range(1, 8)]
    items = [material_data(title=title) for title in titles]
    items[2]["title"] = titles[0]
    items[4]["kind"] = "poem"
    path = scratch / "in.ndjson"
    path.write_text("\n".join(json.dumps(item) for item in items) + "\n", encoding="utf-8")
    result = run("import", "--batch-size", "2", str(path))
    assert result.exit_code == 2, result.output
    assert "imported 5 materials, 2 lines skipped, 5 indexed" in result.output
    assert result.output.index("line 3: could not be saved") < result.output.index("line 5:")
    engine = build_engine(f"sqlite:///{scratch / 'ttdn.sqlite3'}")
    factory = build_session_factory(engine)
    with factory() as session:
        saved = sorted(session.scalars(select(Material.title)))
    assert saved == sorted(titles[:2] + titles[3:4] + titles[5:])
    assert DatabaseBackend(factory).search(SearchQuery(text="bai", limit=10)).total == 5
    engine.dispose()


def test_reindex_rebuilds_the_database_backend(scratch):
    run("migrate")
    run("seed", "--demo-if-empty")
    result = run("reindex")
    assert result.exit_code == 0, result.output
    assert "indexed 31 materials with the database backend" in result.output


def test_import_and_reindex_run_with_the_batch_collector_settings(scratch, monkeypatch, tmp_path):
    """Both commands run their work with the collector as app/collector.py sets it, and restore it."""
    seen = []
    monkeypatch.setattr(
        cli_module.importer, "import_lines", lambda *a, **k: seen.append(gc.get_threshold()) or ImportReport()
    )
    monkeypatch.setattr(cli_module.indexer, "rebuild", lambda *a, **k: seen.append(gc.get_threshold()) or 0)
    run("migrate")
    before = gc.get_threshold()
    lines = tmp_path / "one.ndjson"
    lines.write_text("{}\n")
    assert run("import", str(lines)).exit_code == 0
    assert run("reindex").exit_code == 0
    assert seen == [BATCH_THRESHOLDS, BATCH_THRESHOLDS]
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_create_unit_and_issue_key(scratch):
    run("migrate")
    run("seed")
    created = run(
        "create-unit", "DBP-01", "--name", "Đồn Biên phòng 01", "--province", "Lào Cai", "--border-route", "VN-CN"
    )
    assert created.exit_code == 0, created.output
    key = run("issue-key", "DBP-01")
    assert key.exit_code == 0 and key.output.strip().startswith("ttdn_")
    missing = run("issue-key", "NOPE")
    assert missing.exit_code == 1
    bad = run("create-unit", "DBP-02", "--name", "X", "--province", "Atlantis")
    assert bad.exit_code == 1 and "Atlantis" in bad.output


@pytest.mark.parametrize("fmt", ["json", "xlsx", "html"])
def test_report_yearly_writes_the_review_in_each_format(scratch, fmt):
    assert run("migrate").exit_code == 0
    assert run("seed", "--demo-if-empty").exit_code == 0
    year = datetime.now(UTC).year
    out = scratch / f"review.{fmt}"
    result = run("report", "yearly", "--year", str(year), "--format", fmt, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    content = out.read_bytes()
    if fmt == "json":
        review = json.loads(content)
        assert review["year"] == year and review["tables"]["summary"]["rows"][0]["current"] > 0
    elif fmt == "xlsx":
        assert content[:2] == b"PK"
    else:
        assert content.decode().count("<svg") == 3


def test_report_yearly_takes_the_format_from_the_file_name_unless_told(scratch):
    # Migrated, nothing seeded: no provinces yet, and the review is still written (empty).
    assert run("migrate").exit_code == 0
    year = str(datetime.now(UTC).year)
    for name, start in (("review.XLSX", b"PK"), ("review.json", b"{"), ("review.htm", b"<!doctype html>")):
        result = run("report", "yearly", "--year", year, "--out", str(scratch / name))
        assert result.exit_code == 0, result.output
        assert (scratch / name).read_bytes().lstrip().startswith(start), name
    told = run("report", "yearly", "--year", year, "--format", "json", "--out", str(scratch / "review.txt"))
    assert told.exit_code == 0 and json.loads((scratch / "review.txt").read_text())["year"] == int(year)
    unknown = run("report", "yearly", "--year", year, "--out", str(scratch / "review.pdf"))
    assert unknown.exit_code == 1
    assert "say --format html, xlsx or json" in unknown.output and not (scratch / "review.pdf").exists()


def test_report_yearly_refuses_a_year_out_of_range(scratch):
    assert run("migrate").exit_code == 0
    result = run("report", "yearly", "--year", "1800", "--format", "json", "--out", str(scratch / "x.json"))
    assert result.exit_code == 1 and "year" in result.output


def test_first_start_publishes_demo_bundles_and_prints_a_unit_key(scratch):
    """The README's first session: the demo unit's key, its feed (urgent first, one recalled),
    its feed page and a package."""
    run("migrate")
    first = run("seed", "--demo-if-empty")
    assert first.exit_code == 0, first.output
    code, key = re.search(r"^demo unit: (\S+) / key (\S+)", first.output, re.MULTILINE).groups()
    assert count_rows(Bundle, scratch) == 3
    with TestClient(create_app(get_settings())) as client:
        _wait_for_indexer(client)
        items = client.get("/api/v1/feed", headers={"Authorization": f"Bearer {key}"}).json()["items"]
        assert items[0]["priority"] == "urgent" and items[0]["status"] == "published"
        assert sorted(item["status"] for item in items) == ["published", "published", "recalled"]
        page = client.get("/api/v1/feed.html", auth=(code, key))
        assert page.status_code == 200 and "KHẨN" in page.text and "Đã thu hồi" in page.text
        package = client.get(f"/api/v1/feed/bundles/{items[0]['bundle_id']}/package", auth=(code, key))
        assert package.status_code == 200 and package.headers["content-type"] == "application/zip"
    second = run("seed", "--demo-if-empty")
    assert "demo unit" not in second.output and count_rows(Bundle, scratch) == 3


def _wait_for_indexer(client) -> None:
    """Let the indexer drain the fresh demo set first: on SQLite its writes and a request's
    would contend for the one write lock (bounded: at most 30 s)."""
    for _ in range(300):
        if client.get("/readyz").json().get("indexing_backlog") == 0:
            return
        time.sleep(0.1)
    raise AssertionError("the indexer did not drain the demo set")


def test_help_rejoins_the_docstrings_lines_to_the_terminals_width():
    """A command's help is its docstring, wrapped at 100 columns in the source: on a wider
    terminal its lines are rejoined, not broken where the source broke them."""
    result = runner.invoke(cli, ["import", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "Each batch is written while the next one is read" in result.output
