"""`ttdn` given a database it cannot use: one line naming the database and the reason, exit
status 1, no traceback, no password; a database without the schema says to run `ttdn migrate`.
A file or directory it cannot read or write is one line naming it, too.

Through `app.cli.main`, the console script's entry point (where these errors are caught), and
once through the installed `ttdn` script itself.
"""

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError, ProgrammingError
from typer.testing import CliRunner

from app import cli as cli_module
from app.cli import database_problem, main
from app.config import get_settings

TTDN = str(Path(sys.executable).with_name("ttdn"))
# Nothing listens on port 1 of the loopback: the connection is refused at once.
REFUSED = "postgresql://ttdn:s3cret-pw@127.0.0.1:1/ttdn"


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["ttdn", *args])
    get_settings.cache_clear()
    with pytest.raises(SystemExit) as exited:
        main()
    get_settings.cache_clear()
    captured = capsys.readouterr()
    return exited.value.code, captured.out + captured.err


def test_an_unreachable_server_is_one_line_without_the_password(scratch, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", REFUSED)
    for command in (["migrate"], ["seed"], ["reindex"], ["create-unit", "BP-1", "--name", "Đồn thử"]):
        code, output = run_main(monkeypatch, capsys, *command)
        assert code == 1, (command, output)
        assert output.startswith("error: the database postgresql://ttdn:***@127.0.0.1:1/ttdn cannot be used: ")
        assert "refused" in output.lower()
        assert "s3cret-pw" not in output and "Traceback" not in output
        assert output.count("\n") == 1


def test_a_sqlite_file_that_cannot_be_opened(scratch, monkeypatch, capsys):
    url = f"sqlite:///{scratch}/no-such-directory/ttdn.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    code, output = run_main(monkeypatch, capsys, "migrate")
    assert code == 1
    assert output == f"error: the database {url} cannot be used: unable to open database file\n"


def test_a_database_without_the_schema_says_to_migrate(scratch, monkeypatch, capsys):
    code, output = run_main(monkeypatch, capsys, "seed")
    assert code == 1
    assert output.startswith(f"error: the database sqlite:///{scratch}/ttdn.sqlite3 has no ttdn-hub schema")
    assert "no such table" in output and output.rstrip().endswith("run `ttdn migrate`.")
    # ...and after it, the same command works.
    assert run_main(monkeypatch, capsys, "migrate")[0] == 0
    assert run_main(monkeypatch, capsys, "seed")[0] == 0


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs the suite's PostgreSQL (postgres-es)")
def test_a_postgresql_database_without_the_schema_says_to_migrate(scratch, monkeypatch, capsys):
    # An empty search path: every table of ours is undefined there, as in a database never migrated.
    url = f"{os.environ['TEST_DATABASE_URL']}?options=-csearch_path%3Dnone_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("DATABASE_URL", url)
    code, output = run_main(monkeypatch, capsys, "seed")
    assert code == 1
    assert "has no ttdn-hub schema" in output and 'relation "' in output and "does not exist" in output
    assert output.rstrip().endswith("run `ttdn migrate`.") and "Traceback" not in output


def test_other_database_errors_keep_their_traceback():
    # A statement of ours the database refuses is a bug to report, not a setting to fix.
    bug = ProgrammingError("SELECT nonsense", {}, Exception('syntax error at or near "nonsense"'))
    assert database_problem(bug, "sqlite:///x.db") is None
    # SQLite reports a statement it cannot parse as an OperationalError: still a bug of ours.
    unparsed = OperationalError("SELECT (", {}, sqlite3.OperationalError('near ")": syntax error'))
    assert database_problem(unparsed, "sqlite:///x.db") is None
    lost = OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection unexpectedly\nmore"))
    assert database_problem(lost, "postgresql://u:pw@db/ttdn") == (
        "error: the database postgresql://u:***@db/ttdn cannot be used: server closed the connection unexpectedly"
    )


def test_the_installed_command_prints_no_traceback(scratch):
    env = {**os.environ, "DATA_DIR": str(scratch), "DATABASE_URL": REFUSED}
    done = subprocess.run([TTDN, "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: the database postgresql://ttdn:***@127.0.0.1:1/ttdn cannot be used:")


def test_an_output_file_in_a_missing_directory_is_one_line(scratch, monkeypatch, capsys):
    assert run_main(monkeypatch, capsys, "migrate")[0] == 0
    out = scratch / "no-such-directory" / "review.html"
    code, output = run_main(monkeypatch, capsys, "report", "yearly", "--year", "2025", "--out", str(out))
    assert code == 1
    assert output.endswith(f"error: {out}: No such file or directory\n") and "Traceback" not in output


def test_an_os_error_about_no_file_keeps_its_traceback(monkeypatch):
    def broken() -> None:
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(cli_module, "cli", broken)
    with pytest.raises(ConnectionResetError):
        main()


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"APP_ENV": "production"}, "SECRET_KEY must be set to at least 32 characters when APP_ENV=production"),
        ({"DATABASE_URL": "mysql://ttdn@db/ttdn"}, "DATABASE_URL: must be a sqlite:/// or postgresql:// URL"),
        ({"ELASTICSEARCH_URL": "localhost:9200"}, "ELASTICSEARCH_URL: 'localhost:9200' is not an http(s)://"),
        ({"INDEXER_INTERVAL_SECONDS": "soon"}, "INDEXER_INTERVAL_SECONDS: Input should be a valid number"),
    ],
)
@pytest.mark.parametrize("command", [["migrate"], ["serve", "--workers", "1"], ["serve", "--workers", "2"]])
def test_settings_that_cannot_work_are_one_line_naming_the_variable(scratch, monkeypatch, capsys, env, line, command):
    # `serve --workers 1` once started the server process and printed its whole traceback.
    monkeypatch.setattr(cli_module.os, "execv", lambda *args: pytest.fail("a server was started"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, output = run_main(monkeypatch, capsys, *command)
    assert code == 1
    assert output.startswith(f"error: invalid settings: {line}") and output.count("\n") == 1


def test_a_validation_error_not_about_the_settings_keeps_its_traceback(monkeypatch):
    class Other(BaseModel):
        n: int

    def broken() -> None:
        Other(n="x")

    monkeypatch.setattr(cli_module, "cli", broken)
    with pytest.raises(ValidationError):
        main()


def test_serve_refuses_a_port_out_of_range():
    result = CliRunner().invoke(cli_module.cli, ["serve", "--port", "99999"])
    assert result.exit_code == 2 and "65535" in result.output and "Traceback" not in result.output
