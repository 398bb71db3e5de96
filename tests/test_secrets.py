"""A fresh installation makes its own secrets: no constant key signs anything."""

import os
import stat
import threading
from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient

from app import keyfile
from app.accounts import security
from app.config import SECRET_KEY_FILE
from app.feeds import signing
from app.main import create_app

# The constant the development default used to be: anyone could sign admin tokens with it.
OLD_CONSTANT = "dev-insecure-secret-key-change-me"


def mode_of(path):
    return stat.S_IMODE(path.stat().st_mode)


def start(settings, tmp_path, session_factory, search_backend):
    unset = settings.model_copy(update={"secret_key": None, "package_signing_key": None, "data_dir": tmp_path})
    return create_app(unset, session_factory=session_factory, search_backend=search_backend)


def test_two_starts_share_one_generated_owner_only_token_key(settings, tmp_path, session_factory, search_backend):
    first = start(settings, tmp_path, session_factory, search_backend).state.settings
    second = start(settings, tmp_path, session_factory, search_backend).state.settings
    assert first.secret_key and len(first.secret_key) >= 32
    assert second.secret_key == first.secret_key
    assert (tmp_path / SECRET_KEY_FILE).read_text().strip() == first.secret_key
    assert mode_of(tmp_path / SECRET_KEY_FILE) == 0o600
    other_dir = tmp_path / "another-installation"
    assert start(settings, other_dir, session_factory, search_backend).state.settings.secret_key != first.secret_key


def test_package_signing_key_is_made_on_first_start_owner_only(settings, tmp_path, session_factory, search_backend):
    start(settings, tmp_path, session_factory, search_backend)
    key_file = tmp_path / signing.KEY_FILE
    assert key_file.is_file() and mode_of(key_file) == 0o600
    public = signing.installed_public_key(settings.model_copy(update={"data_dir": tmp_path}))
    start(settings, tmp_path, session_factory, search_backend)
    assert signing.installed_public_key(settings.model_copy(update={"data_dir": tmp_path})) == public


def test_a_token_forged_with_the_old_constant_is_refused(settings, tmp_path, session_factory, search_backend, users):
    app = start(settings, tmp_path, session_factory, search_backend)
    now = datetime.now(UTC)
    claims = {"sub": str(users["admin"].id), "typ": "access", "iat": now, "exp": now + timedelta(minutes=5)}
    forged = jwt.encode(claims, OLD_CONSTANT, algorithm="HS256")
    genuine, _ = security.issue_access_token(users["admin"].id, app.state.settings.secret_key, 5)
    with TestClient(app) as client:
        assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
        assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {genuine}"}).status_code == 200
    # A restart keeps the key, so tokens issued before it still work.
    with TestClient(start(settings, tmp_path, session_factory, search_backend)) as client:
        assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {genuine}"}).status_code == 200


def test_processes_starting_at_once_agree_on_one_secret(tmp_path):
    path = tmp_path / "secret"
    barrier = threading.Barrier(8)
    seen: list[bytes] = []

    def racer(n: int) -> None:
        barrier.wait()
        seen.append(keyfile.read_or_create(path, lambda: f"secret-of-racer-{n}".encode()))

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and len(set(seen)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]  # no temporary file left behind


def test_a_secret_file_readable_by_others_is_narrowed_to_its_owner(tmp_path):
    path = tmp_path / "secret"
    path.write_bytes(b"kept")
    os.chmod(path, 0o644)
    assert keyfile.read_or_create(path, lambda: b"new") == b"kept"
    assert mode_of(path) == 0o600


def test_the_embedded_database_is_created_owner_only_with_its_journal(tmp_path):
    """It holds internal materials and password and key hashes, as private as the key files."""
    from sqlalchemy import text

    from app.db import build_engine

    path = tmp_path / "ttdn.sqlite3"
    engine = build_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("PRAGMA journal_mode=WAL"))
        connection.execute(text("CREATE TABLE t (x)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        files = [p for p in tmp_path.iterdir() if p.name.startswith("ttdn.sqlite3")]
        assert len(files) == 3 and all(mode_of(p) == 0o600 for p in files), [(p.name, oct(mode_of(p))) for p in files]
    engine.dispose()
    path.chmod(0o640)  # an operator's choice on an existing file is kept
    build_engine(f"sqlite:///{path}").dispose()
    assert mode_of(path) == 0o640
