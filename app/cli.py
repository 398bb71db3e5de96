"""The `ttdn` command (Typer). Each command is thin: it opens a session and calls a service."""

import io
import json
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import psycopg
import typer
from fastapi.encoders import jsonable_encoder
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from app import migrate as migrations
from app.accounts import service as accounts_service
from app.bundles import demo as bundles_demo
from app.collector import batch_job
from app.config import Settings, get_settings
from app.cores import cpu_cores
from app.db import build_engine, build_session_factory, session_scope
from app.errors import AppError, error_message
from app.feeds import signing
from app.feeds import verify as package_verify
from app.materials import attachments, demo, importer
from app.ops import backup as backups
from app.organisations import demo as organisations_demo
from app.organisations import service as organisations_service
from app.reports import exports as report_exports
from app.reports import html as report_html
from app.reports import yearly as report_yearly
from app.search import indexer
from app.search.backend import BackendUnavailable, SearchBackend
from app.search.batch_indexer import BatchIndexer
from app.search.elasticsearch import ElasticsearchBackend, IndexingFailed
from app.search.factory import build_search_backend
from app.taxonomy import seed as taxonomy_seed
from app.units import demo as units_demo
from app.units import importer as units_importer
from app.units import service as units_service
from app.units.models import UNIT_TYPES
from app.units.schemas import UnitCreate
from app.wiring import register_hooks

cli = typer.Typer(
    help="ttdn-hub: external-information materials for the border regions.",
    no_args_is_help=True,
    # Docstrings are wrapped at 100 columns in the source; Markdown rejoins their lines (and shows
    # `code` as such) instead of keeping every line break on a narrower terminal.
    rich_markup_mode="markdown",
)


@cli.callback()
def _connect_domains() -> None:
    """ttdn-hub: external-information materials for the border regions."""
    # Every command sees the same wiring as the server (a unit created here receives live bundles).
    register_hooks()


@contextmanager
def open_session() -> Iterator[Session]:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = build_engine(settings.sqlalchemy_url)
    try:
        yield from session_scope(build_session_factory(engine))
    finally:
        engine.dispose()


def fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(envvar="HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", min=0, max=65535)] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(min=1, envvar="WEB_CONCURRENCY", help="Server processes (default: one per CPU core)"),
    ] = None,
) -> None:
    """Serve the API with uvicorn, one process per CPU core unless `--workers N` (or
    WEB_CONCURRENCY) says otherwise. Each process runs its own indexer and releaser; they share
    the work safely (README: several workers). Logs go through the service's own format (JSON
    lines unless on a terminal); each request is logged once."""
    settings = get_settings()  # a bad setting is refused here in one line, before any process starts
    workers = workers or cpu_cores()
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker keeps its counters in files here, so one scrape adds up every process.
        metrics_dir = settings.data_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    # A fresh interpreter that imports only the server and the app (app/server.py says why).
    sys.stdout.flush()
    sys.stderr.flush()
    args = ["--host", host, "--port", str(port), "--workers", str(workers)]
    os.execv(sys.executable, [sys.executable, "-m", "app.server", *args])


@cli.command()
def migrate() -> None:
    """Bring the database schema to the latest revision (Alembic)."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = build_engine(settings.sqlalchemy_url)
    try:
        migrations.upgrade(engine)
    finally:
        engine.dispose()
    typer.echo("database is at the latest revision")


def _password_from_prompt_or_pipe() -> str:
    """Asked twice, unseen, on a terminal; from a pipe, its first line (without getpass's
    warning that it cannot hide what nobody sees)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@cli.command("create-user")
def create_user(
    email: str,
    role: Annotated[list[str], typer.Option("--role", help="admin, editor, reviewer or analyst; repeatable")],
    full_name: Annotated[str, typer.Option("--name")] = "",
    organisation: Annotated[str | None, typer.Option("--organisation", help="The organisation's code")] = None,
) -> None:
    """Create a staff user; the password comes from TTDN_PASSWORD, a prompt, or a pipe (its first line)."""
    password = os.environ.get("TTDN_PASSWORD") or _password_from_prompt_or_pipe()
    try:
        with open_session() as session:
            organisation_id = None
            if organisation:
                found = organisations_service.find_by_code(session, organisation)
                if found is None:
                    fail(f"error: no organisation with the code {organisation}")
                organisation_id = found.id if found else None
            user = accounts_service.create_user(session, email, password, role, full_name, None, organisation_id)
            typer.echo(f"created {user.email} ({', '.join(user.roles)}) id={user.id}")
    except AppError as exc:
        fail(f"error: {exc.detail}")


@cli.command("create-unit")
def create_unit(
    code: str,
    name: Annotated[str, typer.Option("--name")],
    unit_type: Annotated[str, typer.Option("--type", help=", ".join(UNIT_TYPES))] = "border_guard_post",
    province: Annotated[str | None, typer.Option("--province", help="Id, code or name")] = None,
    border_route: Annotated[list[str] | None, typer.Option("--border-route", help="Repeatable")] = None,
) -> None:
    """Register a receiving unit."""
    try:
        data = UnitCreate(code=code, name=name, type=unit_type, province=province, border_routes=border_route or [])
        with open_session() as session:
            unit = units_service.create_unit(session, data, None)
            typer.echo(f"created unit {unit.code} id={unit.id}")
    except ValidationError as exc:
        fail("error: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {error_message(e)}" for e in exc.errors()))
    except AppError as exc:
        fail(f"error: {exc.errors[0]['msg'] if exc.errors else exc.detail}")


@cli.command("issue-key")
def issue_key(unit_code: str) -> None:
    """Issue an API key for a unit and print it once (store it safely; only its hash is kept)."""
    try:
        with open_session() as session:
            unit = units_service.get_unit_by_code(session, unit_code)
            _, plain = units_service.issue_key(session, unit, None)
    except AppError as exc:
        fail(f"error: {exc.detail}")
    typer.echo(plain)


@cli.command()
def seed(
    demo_if_empty: Annotated[
        bool, typer.Option("--demo-if-empty", help="Also load the demo set and a first admin into an empty database")
    ] = False,
) -> None:
    """Load the reference data (idempotent: a second run changes nothing)."""
    settings = get_settings()
    with open_session() as session:
        counts = taxonomy_seed.load_reference(session)
        typer.echo("reference data: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        if not demo_if_empty:
            return
        if settings.is_production:
            typer.echo("APP_ENV=production: no demo data and no generated admin")
            return
        if accounts_service.count_users(session) == 0:
            password = secrets.token_urlsafe(18)
            accounts_service.create_user(session, "admin@ttdn.local", password, ["admin"], "Administrator")
            typer.secho(
                f"created the first admin: admin@ttdn.local / {password}  (shown once; change it)",
                fg=typer.colors.YELLOW,
            )
        added = demo.load_demo(session)
        if added:
            typer.echo(f"demo set: {added} materials (marked is_demo)")
        added_units = units_demo.load_demo_units(session)
        if added_units:
            typer.echo(f"demo set: {added_units} units (marked is_demo)")
        _load_demo_organisations(session)
        if added and added_units:
            _demo_bundles(session, settings)


def _demo_bundles(session: Session, settings: Settings) -> None:
    """Publish the demo bundles and print one demo unit's key, so a first session sees the feed."""
    published = bundles_demo.load_demo_bundles(session, settings)
    if not published:
        return
    typer.echo(f"demo set: {published} bundles published to the demo units on VN-CN (one urgent, one recalled)")
    unit = units_service.get_unit_by_code(session, bundles_demo.DEMO_UNIT)
    _, plain = units_service.issue_key(session, unit, None)
    typer.secho(
        f"demo unit: {unit.code} / key {plain}  (shown once; the feed page is /api/v1/feed.html, HTTP Basic)",
        fg=typer.colors.YELLOW,
    )


def _load_demo_organisations(session: Session) -> None:
    """The demo organisations and a staff user in each, with random passwords printed once."""
    organisations = {o.code: o.id for o in organisations_demo.load_demo_organisations(session)}
    if not organisations:
        return
    typer.echo(f"demo set: {len(organisations)} organisations (marked is_demo)")
    for email, roles, code in organisations_demo.DEMO_STAFF:
        password = secrets.token_urlsafe(18)
        accounts_service.create_user(session, email, password, roles, "", None, organisations[code])
        typer.secho(f"demo staff: {email} ({', '.join(roles)}, {code}) / {password}", fg=typer.colors.YELLOW)


@cli.command("import")
@batch_job()
def import_materials(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    # As many as one `_bulk` request carries (BULK_CHUNK): Elasticsearch takes fewer, larger requests faster.
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 1000,
) -> None:
    """Load materials from NDJSON (one MaterialCreate object per line, optional `status`).

    A bad line is reported with its number and skipped; good lines land. Each batch is written
    while the next one is read and validated, and indexed as soon as it is committed, while the
    next one is written; the search index is up to date before the command returns."""
    settings = get_settings()
    engine = build_engine(settings.sqlalchemy_url)
    factory = build_session_factory(engine)
    backend = build_search_backend(settings, factory)
    # Elasticsearch takes a request while the next batch's is built; the built-in backend writes
    # the same database as the import, so one batch at a time.
    batches = BatchIndexer(factory, backend, senders=2 if isinstance(backend, ElasticsearchBackend) else 1)
    started = time.perf_counter()
    with file.open("rb") as counted:
        total = sum(1 for _ in counted)
    try:
        # Bytes: each line is decoded on its own, so a line that is not UTF-8 is reported and
        # skipped like any other bad line.
        with file.open("rb") as lines, progress_bar() as bar:
            task = bar.add_task("importing", total=total)
            report = importer.import_lines(
                factory,
                lines,
                batch_size=batch_size,
                on_progress=lambda n: bar.advance(task, n),
                on_committed=batches.submit,
                claim_for=indexer.CLAIM_FOR,
                # This engine's sessions each have a connection of their own.
                write_ahead=True,
            )
        indexed = batches.close()
        indexed += drain_with_progress(factory, backend)
    except (BackendUnavailable, IndexingFailed) as exc:
        fail(f"error: {exc}; what was imported waits in the outbox for the indexer (or `ttdn reindex`)")
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    for number, reason in report.errors:
        typer.secho(f"line {number}: {reason}", fg=typer.colors.RED, err=True)
    typer.echo(
        f"imported {report.imported} materials, {len(report.errors)} lines skipped, "
        f"{indexed} indexed, in {seconds:.1f} s"
    )
    if report.errors:
        raise typer.Exit(code=2)


@cli.command("import-units")
def import_units(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]) -> None:
    """Load units from CSV: code,name,type,province,border_routes (;-separated),parent_code.

    Every bad row is reported with its row number (the header is row 1) and skipped; good rows
    land. Exit status 2 when some rows were skipped."""
    data = file.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        fail(f"error: {file} is not UTF-8 text (line {line}: byte 0x{data[exc.start]:02x}); nothing was imported")
    with open_session() as session:
        report = units_importer.import_units(session, io.StringIO(text, newline=""))
    for number, reason in report.errors:
        typer.secho(f"row {number}: {reason}", fg=typer.colors.RED, err=True)
    typer.echo(f"imported {len(report.created)} units, {len(report.errors)} rows skipped")
    if report.errors:
        raise typer.Exit(code=2)


@cli.command("gc-blobs")
def gc_blobs(
    grace_hours: Annotated[
        float, typer.Option(help="Keep files younger than this: an upload may not have committed yet")
    ] = 24.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be removed")] = False,
) -> None:
    """Remove attachment files that no attachment or saved version references (a refused or
    rolled-back upload, a deleted material), and temp files left by a crash."""
    if grace_hours < 0:
        fail("--grace-hours cannot be negative")
    with open_session() as session:
        files, size = attachments.collect_blobs(session, get_settings(), grace_hours * 3600, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    typer.echo(f"{verb} {files} unreferenced files ({size} bytes)")


@cli.command("verify-package")
def verify_package(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    public_key: Annotated[
        str | None, typer.Option("--public-key", help="Base64 Ed25519 public key (GET /api/v1/feed/signing-key)")
    ] = None,
) -> None:
    """Check an offline package: the manifest's signature, then every file's size and SHA-256.
    Names every file that fails; exit status 1 if anything does.

    Without --public-key, this installation's key is used when it has one; failing that, the
    key inside the package, which proves integrity but not who signed it."""
    if public_key is not None and not signing.is_public_key(public_key):
        fail("error: --public-key is not a base64 Ed25519 public key (GET /api/v1/feed/signing-key gives it)")
    key, source = public_key, "given" if public_key else ""
    if key is None:
        key = signing.installed_public_key(get_settings())
        source = "this installation's signing key" if key else ""
    result = package_verify.verify_package(file, key, source)
    for path, reason in result.failures:
        typer.secho(f"FAILED {path}: {reason}", fg=typer.colors.RED, err=True)
    if result.signature_checked:
        signature = "valid" if result.signature_ok else "INVALID"
        typer.echo(f"signature {signature} (key: {result.key_source}); {result.checked} files checked")
    else:
        typer.echo(f"signature not checked: the package could not be read that far; {result.checked} files checked")
    if not result.ok:
        raise typer.Exit(code=1)
    typer.echo("package OK")


@cli.command("backup")
def backup(
    directory: Annotated[Path, typer.Argument(file_okay=False, help="A new or empty directory")],
    include_signing_key: Annotated[
        bool, typer.Option("--include-signing-key", help="Also copy the package signing key (a secret; off by default)")
    ] = False,
) -> None:
    """Back up the database and the attachment storage into DIRECTORY, with a SHA-256 manifest.
    The search index is not included (`ttdn reindex` rebuilds it), nor the signing key unless asked."""
    try:
        summary = backups.backup(get_settings(), directory, include_signing_key=include_signing_key)
    except backups.BackupError as exc:
        fail(f"error: {exc}")
    key = "with" if summary.signing_key else "without"
    typer.echo(f"backed up the {summary.dialect} database and attachments: {summary.files} files, {summary.size} bytes")
    typer.echo(f"{key} the package signing key; manifest: {directory / backups.MANIFEST}")


@cli.command("restore")
def restore(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="A directory `ttdn backup` wrote")],
    force: Annotated[bool, typer.Option("--force", help="Replace a database and attachments that hold data")] = False,
) -> None:
    """Restore a backup into DATABASE_URL and DATA_DIR after checking every file's SHA-256.
    Refuses a target that holds data unless --force. Run `ttdn reindex` afterwards."""
    try:
        summary = backups.restore(get_settings(), directory, force=force)
    except backups.BackupError as exc:
        fail(f"error: {exc}")
    typer.echo(f"restored the {summary.dialect} database and attachments ({summary.files} files checked)")
    if summary.signing_key:
        typer.echo("restored the package signing key")
    typer.echo("next: ttdn migrate (if this version is newer), then ttdn reindex")


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=False,
    )


def drain_with_progress(factory: sessionmaker[Session], backend: SearchBackend) -> int:
    """Index everything still waiting in the outbox, showing progress."""
    with factory() as session:
        pending = indexer.backlog(session)
    done = 0
    with progress_bar() as bar:
        task = bar.add_task("indexing", total=pending)
        while count := indexer.drain(factory, backend):
            done += count
            bar.advance(task, count)
    backend.refresh()
    return done


@cli.command()
@batch_job()
def reindex(
    drop: Annotated[
        bool, typer.Option("--drop", help="Remove everything indexed first (searches find nothing until done)")
    ] = False,
) -> None:
    """Rebuild the search index from the database; searches keep working while it runs."""
    settings = get_settings()
    engine = build_engine(settings.sqlalchemy_url)
    factory = build_session_factory(engine)
    backend = build_search_backend(settings, factory)
    started = time.perf_counter()
    try:
        with factory() as session:
            total = indexer.material_count(session)
        if drop:
            backend.drop()
        with progress_bar() as bar:
            task = bar.add_task("reindexing", total=total)
            count = indexer.rebuild(factory, backend, on_progress=lambda done: bar.update(task, completed=done))
        backend.refresh()
    except BackendUnavailable as exc:
        fail(f"error: {exc}")
    finally:
        engine.dispose()
    typer.echo(f"indexed {count} materials with the {backend.name} backend in {time.perf_counter() - started:.1f} s")


report_cli = typer.Typer(
    help="Reports for monitoring and the yearly review.", no_args_is_help=True, rich_markup_mode="markdown"
)
cli.add_typer(report_cli, name="report")


# The yearly review's format when --format is not given, by the output file's extension.
REVIEW_FORMATS: dict[str, Literal["html", "xlsx", "json"]] = {
    ".html": "html",
    ".htm": "html",
    ".xlsx": "xlsx",
    ".json": "json",
}


@report_cli.command("yearly")
def report_yearly_command(
    year: Annotated[int, typer.Option("--year", help="The calendar year (shown next to the year before)")],
    out: Annotated[Path, typer.Option("--out", dir_okay=False, writable=True, help="The file to write")],
    format: Annotated[  # noqa: A002
        Literal["html", "xlsx", "json"] | None,
        typer.Option("--format", help="Default: from the file's extension (.html, .xlsx, .json)"),
    ] = None,
) -> None:
    """Write the yearly review as one HTML page, an XLSX workbook or JSON."""
    if format is None:
        format = REVIEW_FORMATS.get(out.suffix.lower())  # noqa: A001
        if format is None:
            fail(f"error: say --format html, xlsx or json (nothing to go by in the name {out.name!r})")
    if not out.parent.is_dir():  # said before the review is built, not after
        fail(f"error: {out}: No such file or directory")
    with open_session() as session, progress_bar() as bar:
        task = bar.add_task(f"report {year}", total=len(report_yearly.SECTIONS) * 2 + 1)

        def step(label: str) -> None:
            bar.update(task, description=label)
            bar.advance(task)

        try:
            review = report_yearly.yearly_review(session, year, on_step=step)
        except AppError as exc:
            fail(f"error: {exc.detail}")
        bar.update(task, description=f"writing {format}")
        if format == "xlsx":
            out.write_bytes(report_exports.review_xlsx(review))
        elif format == "json":
            out.write_text(json.dumps(jsonable_encoder(review), ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            out.write_text(report_html.render_html(review), encoding="utf-8")
        bar.advance(task)
    typer.echo(f"wrote {out} ({out.stat().st_size:,} bytes)")


def main() -> None:
    """The `ttdn` command. A file it cannot read or write, or a database it cannot use
    (unreachable, missing, refusing the login, or without the schema), is a one-line error
    naming it, not a traceback."""
    try:
        cli()
    except (ValidationError, OSError, OperationalError, ProgrammingError) as exc:
        message = user_problem(exc)
        if message is None:  # a bug of ours keeps its traceback
            raise
        typer.secho(message, fg=typer.colors.RED, err=True)
        sys.exit(1)


def user_problem(exc: Exception) -> str | None:
    """The one line for an error the user can fix (settings, a file named, the database), else None."""
    if isinstance(exc, ValidationError):
        return f"error: invalid settings: {settings_problems(exc)}" if exc.title == Settings.__name__ else None
    if isinstance(exc, OSError):
        return f"error: {exc.filename}: {exc.strerror or exc}" if exc.filename is not None else None
    if isinstance(exc, DBAPIError):
        settings = get_settings()
        return database_problem(exc, settings.database_url or settings.sqlalchemy_url)
    return None


def settings_problems(exc: ValidationError) -> str:
    """Each refused setting as its environment variable and the reason."""
    problems = []
    for error in exc.errors():
        name = "_".join(str(part) for part in error["loc"]).upper()
        reason = error["msg"].removeprefix("Value error, ")
        problems.append(f"{name}: {reason}" if name else reason)
    return "; ".join(problems)


def database_problem(exc: DBAPIError, url: str) -> str | None:
    """What to tell the user when a command failed on the database it was given; None when the
    error is not about that database (a programming error keeps its traceback)."""
    reason = (str(exc.orig) if exc.orig is not None else str(exc)).strip().splitlines()[0]
    where = make_url(url).render_as_string(hide_password=True)
    # The schema is missing or older than the code: PostgreSQL's undefined table, SQLite's message.
    if isinstance(exc.orig, psycopg.errors.UndefinedTable) or "no such table" in reason:
        return f"error: the database {where} has no ttdn-hub schema, or an older one ({reason}); run `ttdn migrate`."
    # psycopg's OperationalError is about the connection or the server; SQLite's is also what it
    # raises for a statement it cannot parse, so there only the messages about the file count.
    if isinstance(exc.orig, psycopg.OperationalError) or any(problem in reason for problem in _SQLITE_UNUSABLE):
        return f"error: the database {where} cannot be used: {reason}"
    return None


_SQLITE_UNUSABLE = (
    "unable to open database file",
    "database is locked",
    "disk I/O error",
    "file is not a database",
    "readonly database",
    "database or disk is full",
)


if __name__ == "__main__":
    main()
