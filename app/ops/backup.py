"""`ttdn backup DIR` and `ttdn restore DIR`: the database and the attachment storage, with a
manifest of every file's SHA-256.

PostgreSQL is dumped with `pg_dump --format=custom` and restored with `pg_restore`; SQLite is
copied with its online backup API, which gives a consistent copy while the server writes. The
database is copied before the attachments: attachment files are named by their content and
never changed, so every file a copied row names is on disk by then.

Not in a backup: the search index (rebuild it with `ttdn reindex`), built offline packages
(rebuilt on demand), and, unless asked for, the package signing key: it is a secret kept
separately (see README, "Backups").
"""

import base64
import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from app.config import Settings
from app.db import build_engine, utcnow
from app.feeds import signing

FORMAT = "ttdn-backup/1"
MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
BLOBS = "blobs"
SIGNING_KEY = "package-signing-key"


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    dialect: str
    files: int
    size: int
    signing_key: bool


def pg_tool(name: str) -> str:
    """`pg_dump`/`pg_restore` from PG_BINDIR, else the newest /usr/lib/postgresql/<major>/bin
    (Debian's layout, as scripts/start-postgres.sh finds them), else the PATH."""
    candidates = [Path(os.environ["PG_BINDIR"]) / name] if os.environ.get("PG_BINDIR") else []
    found = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    candidates += sorted((Path(p) for p in found), key=lambda p: int(p.parent.parent.name), reverse=True)
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    on_path = shutil.which(name)
    if on_path is None:
        raise BackupError(f"{name} was not found: install PostgreSQL's client tools or set PG_BINDIR")
    return on_path


def _dialect(settings: Settings) -> str:
    return make_url(settings.sqlalchemy_url).get_backend_name()


def _libpq_url(settings: Settings) -> str:
    return make_url(settings.sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(settings: Settings) -> Path:
    return Path(make_url(settings.sqlalchemy_url).database or "")


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _sqlite_copy(source: Path, target: Path, *, from_backup: bool = False) -> None:
    """Copy with SQLite's online backup. A backup's own copy is opened immutable: nothing writes
    to it, and SQLite then leaves no -wal or -shm file beside it (the backup stays as written)."""
    src = sqlite3.connect(f"file:{source}?mode=ro{'&immutable=1' if from_backup else ''}", uri=True)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


def _signing_key_b64(settings: Settings) -> bytes:
    """The private key as stored (base64 of the raw 32 bytes), generating none."""
    if settings.package_signing_key:
        return settings.package_signing_key.encode()
    path = settings.data_dir / signing.KEY_FILE
    if not path.is_file():
        raise BackupError("this installation has no package signing key yet; nothing to include")
    return path.read_bytes().strip()


def backup(settings: Settings, dest: Path, *, include_signing_key: bool = False) -> Summary:
    """Write a backup into `dest` (new or empty)."""
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty; give a new directory")
    dest.mkdir(parents=True, exist_ok=True)
    dialect = _dialect(settings)
    if dialect == "postgresql":
        dump = [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dest / PG_DUMP}"]
        _run([*dump, f"--dbname={_libpq_url(settings)}"])
    elif dialect == "sqlite":
        _sqlite_copy(_sqlite_path(settings), dest / SQLITE_COPY)
    else:
        raise BackupError(f"cannot back up a {dialect} database")
    if settings.blob_dir.is_dir():
        shutil.copytree(settings.blob_dir, dest / BLOBS)
    if include_signing_key:
        key = dest / SIGNING_KEY
        key.write_bytes(_signing_key_b64(settings))
        key.chmod(0o600)
    files = {
        str(path.relative_to(dest)): {"sha256": _sha256(path), "size": path.stat().st_size}
        for path in sorted(dest.rglob("*"))
        if path.is_file()
    }
    manifest = {"format": FORMAT, "created_at": utcnow().isoformat(), "dialect": dialect, "files": files}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    size = sum(f["size"] for f in files.values())
    return Summary(dialect, len(files), size, include_signing_key)


def verify(source: Path) -> dict:
    """The manifest, once every file it lists is present with its size and SHA-256."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} has no readable {MANIFEST} ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source / MANIFEST} is not a {FORMAT} manifest")
    bad = []
    for name, expected in manifest["files"].items():
        path = source / name
        if not path.is_file():
            bad.append(f"{name}: missing")
        elif path.stat().st_size != expected["size"] or _sha256(path) != expected["sha256"]:
            bad.append(f"{name}: checksum mismatch")
    if bad:
        raise BackupError("the backup is damaged, nothing was restored: " + "; ".join(bad))
    return manifest


def _database_is_empty(settings: Settings) -> bool:
    if _dialect(settings) == "sqlite" and not _sqlite_path(settings).exists():
        return True
    engine = build_engine(settings.sqlalchemy_url)
    try:
        return not inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _check_targets_empty(settings: Settings) -> None:
    problems = []
    if not _database_is_empty(settings):
        problems.append("the database has tables")
    if settings.blob_dir.is_dir() and any(settings.blob_dir.iterdir()):
        problems.append(f"{settings.blob_dir} has files")
    if problems:
        raise BackupError(f"refusing to restore over existing data ({', '.join(problems)}); use --force to replace it")


def restore(settings: Settings, source: Path, *, force: bool = False) -> Summary:
    """Restore a backup into the configured database and DATA_DIR, after checking every file.
    Refuses a target that holds data unless `force`. Run `ttdn reindex` afterwards."""
    manifest = verify(source)
    dialect = _dialect(settings)
    if manifest["dialect"] != dialect:
        raise BackupError(f"this backup is of a {manifest['dialect']} database; DATABASE_URL is {dialect}")
    if not force:
        _check_targets_empty(settings)
    if dialect == "postgresql":
        command = [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        if force:
            command += ["--clean", "--if-exists"]
        _run([*command, f"--dbname={_libpq_url(settings)}", str(source / PG_DUMP)])
    else:
        target = _sqlite_path(settings)
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        _sqlite_copy(source / SQLITE_COPY, target, from_backup=True)
    if (source / BLOBS).is_dir():
        shutil.copytree(source / BLOBS, settings.blob_dir, dirs_exist_ok=True)
    has_key = SIGNING_KEY in manifest["files"]
    if has_key:
        _restore_signing_key(settings, source / SIGNING_KEY)
    files = manifest["files"]
    return Summary(dialect, len(files), sum(f["size"] for f in files.values()), has_key)


def _restore_signing_key(settings: Settings, key_file: Path) -> None:
    raw = key_file.read_bytes().strip()
    if len(base64.b64decode(raw)) != 32:
        raise BackupError("the signing key in the backup is not a raw 32-byte Ed25519 key")
    if settings.package_signing_key:
        return  # the configured key wins; the operator chose it
    path = settings.data_dir / signing.KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    path.chmod(0o600)
