"""The restore drill, on the configuration under test (SQLite + database search, or PostgreSQL +
Elasticsearch): load a set, `ttdn backup`, restore into an empty database and an empty DATA_DIR,
`ttdn reindex`, then the same searches give the same answers, a package built after the restore
verifies with the same signing key, attachments and unit keys still work, and the audit trail is
complete. PostgreSQL restores into a database of its own on the test server, dropped afterwards.
"""

import base64
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.accounts import security
from app.accounts.models import User
from app.audit.models import AuditRecord
from app.cli import cli
from app.config import Settings, get_settings
from app.db import build_engine, build_session_factory
from app.feeds import signing
from app.main import create_app
from app.search import indexer
from app.units import keys
from tests.conftest import CONFIG
from tests.factories import hashed_test_password, material_data

runner = CliRunner()
SECRET_KEY = "drill-secret-key-that-is-long-enough-0123456789"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + os.urandom(3000)
SEARCHES = [
    {"q": "dong bao mong"},
    {"q": "Đồng bào"},
    {"q": "biên giới", "border_route": "VN-LA"},
    {"ethnic_group": "mong"},
    {"q": "kiem tra sao luu"},
]


def ttdn(*args: str) -> str:
    get_settings.cache_clear()
    result = runner.invoke(cli, list(args))
    get_settings.cache_clear()
    assert result.exit_code == 0, f"ttdn {' '.join(args)}: {result.output}"
    return result.output


def ttdn_fails(*args: str) -> str:
    get_settings.cache_clear()
    result = runner.invoke(cli, list(args))
    get_settings.cache_clear()
    assert result.exit_code != 0, result.output
    return result.output


@contextmanager
def pg_databases(names: list[str]) -> Iterator[list[str]]:
    """Fresh databases next to the test database, dropped afterwards."""
    admin = make_url(os.environ["TEST_DATABASE_URL"])
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield [admin.set(database=name).render_as_string(hide_password=False) for name in names]
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, dict[str, str]]]:
    """The environment of the installation backed up and of the one restored into."""
    raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    common = {
        "APP_ENV": "test",
        "SECRET_KEY": SECRET_KEY,
        # Kept apart from the backup, as in production (a secret store): both sides are given it.
        "PACKAGE_SIGNING_KEY": base64.b64encode(raw).decode(),
        "INDEXER_INTERVAL_SECONDS": "0",
        "FEED_RELEASE_INTERVAL_SECONDS": "0",
        "WEBHOOK_INTERVAL_SECONDS": "0",
    }
    envs = {name: {**common, "DATA_DIR": str(tmp_path / name)} for name in ("source", "restored")}
    for name in ("DATABASE_URL", "ELASTICSEARCH_URL", "ELASTICSEARCH_INDEX"):
        monkeypatch.delenv(name, raising=False)
    if CONFIG == "sqlite":
        yield envs
        return
    suffix = uuid.uuid4().hex[:8]
    base = make_url(os.environ["TEST_DATABASE_URL"]).database
    with pg_databases([f"{base}_drill_source", f"{base}_drill_restore"]) as urls:
        for (name, env), url in zip(envs.items(), urls, strict=True):
            env["DATABASE_URL"] = url
            env["ELASTICSEARCH_URL"] = os.environ["TEST_ELASTICSEARCH_URL"]
            env["ELASTICSEARCH_INDEX"] = f"ttdn-drill-{name}-{suffix}"
        try:
            yield envs
        finally:
            for env in envs.values():
                use(monkeypatch, env)
                with serving() as client:
                    client.app.state.search_backend.drop()


def use(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return get_settings()


@contextmanager
def serving() -> Iterator[TestClient]:
    with TestClient(create_app(get_settings()), raise_server_exceptions=False) as client:
        yield client


def staff(settings: Settings, roles: list[str], email: str) -> dict[str, str]:
    engine = build_engine(settings.sqlalchemy_url)
    with build_session_factory(engine)() as session:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, password_hash=hashed_test_password(), roles=roles, full_name=email)
            session.add(user)
            session.commit()
        token, _ = security.issue_access_token(user.id, settings.secret_key, 30)
    engine.dispose()
    return {"Authorization": f"Bearer {token}"}


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def load_set(client: TestClient, editor: dict, reviewer: dict) -> dict:
    """Published materials with attachments, a unit with a key, a published bundle."""
    ids = []
    for n in range(3):
        body = material_data(
            title=f"Kiểm tra sao lưu {n}: đồng bào Mông vùng biên giới",
            ethnic_groups=["H'Mông"],
            border_routes=["Lào"],
            provinces=["Điện Biên"],
        )
        material = ok(client.post("/api/v1/materials", json=body, headers=editor), 201)
        files = {"file": (f"tai-lieu-{n}.pdf", PDF + bytes([n]), "application/pdf")}
        ok(client.post(f"/api/v1/materials/{material['id']}/attachments", files=files, headers=editor), 201)
        for to, who in (("in_review", editor), ("approved", reviewer), ("published", reviewer)):
            ok(client.post(f"/api/v1/materials/{material['id']}/transitions", json={"to": to}, headers=who))
        ids.append(material["id"])
    unit_body = {"code": "DRILL-POST", "name": "Đồn kiểm tra", "type": "other", "border_routes": ["VN-LA"]}
    admin = staff(client.app.state.settings, ["admin"], "drill-admin@example.test")
    unit = ok(client.post("/api/v1/units", json=unit_body, headers=admin), 201)  # units are admin-only
    key = ok(client.post(f"/api/v1/units/{unit['id']}/keys", headers=admin), 201)["key"]
    bundle_body = {
        "title": "Gói kiểm tra sao lưu",
        "items": [{"material_id": m} for m in ids],
        "targets": {"units": ["DRILL-POST"]},
    }
    bundle = ok(client.post("/api/v1/bundles", json=bundle_body, headers=editor), 201)
    ok(client.post(f"/api/v1/bundles/{bundle['id']}/publish", headers=reviewer))
    return {"materials": ids, "bundle": bundle["id"], "unit_id": unit["id"], "unit_key": key}


def observe(client: TestClient, editor: dict, loaded: dict, out: Path) -> dict:
    """What a user sees: search answers, attachment bytes, a package (verified by the CLI)."""
    state = client.app.state
    indexer.drain(state.session_factory, state.search_backend)
    state.search_backend.refresh()
    answers = []
    for params in SEARCHES:
        page = ok(client.get("/api/v1/search", params={**params, "limit": 50}, headers=editor))
        answers.append((page["total"], [item["id"] for item in page["items"]]))
    attachments = []
    for material_id in loaded["materials"]:
        material = ok(client.get(f"/api/v1/materials/{material_id}", headers=editor))
        content = client.get(f"/api/v1/attachments/{material['attachments'][0]['id']}/content", headers=editor)
        attachments.append(content.content)
    keys.forget_unit(uuid.UUID(loaded["unit_id"]))  # read the key from this database, not the cache
    unit = {"Authorization": f"Bearer {loaded['unit_key']}"}
    package = client.get(f"/api/v1/feed/bundles/{loaded['bundle']}/package", headers=unit)
    assert package.status_code == 200, package.text
    out.write_bytes(package.content)
    return {"answers": answers, "attachments": attachments}


def audit_trail(settings: Settings) -> list[tuple]:
    engine = build_engine(settings.sqlalchemy_url)
    with build_session_factory(engine)() as session:
        rows = session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
        trail = [(str(r.id), r.at, r.action, r.entity_id, json.dumps(r.changes, sort_keys=True)) for r in rows]
    engine.dispose()
    return trail


def test_backup_restores_into_an_empty_installation(sides, tmp_path, monkeypatch):
    source = use(monkeypatch, sides["source"])
    ttdn("migrate")
    ttdn("seed", "--demo-if-empty")
    editor = staff(source, ["editor"], "drill-editor@example.test")
    reviewer = staff(source, ["reviewer"], "drill-reviewer@example.test")
    with serving() as client:
        loaded = load_set(client, editor, reviewer)
        before = observe(client, editor, loaded, tmp_path / "before.zip")
    trail = audit_trail(source)
    assert {"material.created", "bundle.published", "unit.created"} <= {row[2] for row in trail}
    public_key = signing.installed_public_key(source)
    assert "package OK" in ttdn("verify-package", str(tmp_path / "before.zip"), "--public-key", public_key)

    backup_dir = tmp_path / "backup"
    output = ttdn("backup", str(backup_dir))
    assert "without the package signing key" in output
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert "package-signing-key" not in manifest["files"] and not (backup_dir / "package-signing-key").exists()
    stored = {path.name for path in source.blob_dir.rglob("*") if path.is_file()}
    assert len(stored) == 6  # the drill's 3 PDFs and the demo set's picture, sound and PDF
    assert {name.rsplit("/", 1)[-1] for name in manifest["files"] if name.startswith("blobs/")} == stored

    restored = use(monkeypatch, sides["restored"])
    written = sorted(p.name for p in backup_dir.iterdir())
    ttdn("restore", str(backup_dir))
    assert sorted(p.name for p in backup_dir.iterdir()) == written  # restoring left nothing beside it
    assert "refusing to restore over existing data" in ttdn_fails("restore", str(backup_dir))
    ttdn("reindex")
    with serving() as client:
        after = observe(client, editor_for(restored), loaded, tmp_path / "after.zip")
    assert after["answers"] == before["answers"]
    assert any(total for total, _ in before["answers"])
    assert after["attachments"] == before["attachments"]
    assert "package OK" in ttdn("verify-package", str(tmp_path / "after.zip"), "--public-key", public_key)
    assert (tmp_path / "after.zip").read_bytes() == (tmp_path / "before.zip").read_bytes()
    assert audit_trail(restored) == trail


def editor_for(settings: Settings) -> dict[str, str]:
    return staff(settings, ["editor"], "drill-editor@example.test")


def test_a_damaged_backup_is_refused_before_anything_is_restored(sides, tmp_path, monkeypatch):
    use(monkeypatch, sides["source"])
    ttdn("migrate")
    ttdn("seed")
    settings = get_settings()
    settings.blob_dir.joinpath("ab").mkdir(parents=True)
    settings.blob_dir.joinpath("ab", "abcdef").write_bytes(b"attachment bytes")
    backup_dir = tmp_path / "backup"
    ttdn("backup", str(backup_dir))
    backup_dir.joinpath("blobs", "ab", "abcdef").write_bytes(b"attachment bytez")
    restored = use(monkeypatch, sides["restored"])
    output = ttdn_fails("restore", str(backup_dir))
    assert "blobs/ab/abcdef: checksum mismatch" in output and "nothing was restored" in output
    assert not restored.blob_dir.exists()
    if CONFIG == "sqlite":
        assert not (restored.data_dir / "ttdn.sqlite3").exists()
    else:
        engine = build_engine(restored.sqlalchemy_url)
        assert inspect(engine).get_table_names() == []
        engine.dispose()
    assert "not empty" in ttdn_fails("backup", str(backup_dir))


def test_the_signing_key_goes_into_a_backup_only_when_asked(tmp_path, monkeypatch):
    """SQLite with a generated development key in DATA_DIR: `--include-signing-key` carries it
    (owner-only) and the restore puts it back, so packages verify with the same key."""
    for name in ("DATABASE_URL", "ELASTICSEARCH_URL", "PACKAGE_SIGNING_KEY", "APP_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "source"))
    ttdn("migrate")
    source = get_settings()
    public_key = signing.public_key_b64(signing.private_key(source))
    ttdn("backup", str(tmp_path / "backup"), "--include-signing-key")
    key_file = tmp_path / "backup" / "package-signing-key"
    assert key_file.stat().st_mode & 0o077 == 0
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "restored"))
    assert "restored the package signing key" in ttdn("restore", str(tmp_path / "backup"))
    assert signing.installed_public_key(get_settings()) == public_key
