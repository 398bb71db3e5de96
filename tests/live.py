"""A database of its own, committed for real, for tests that need real concurrency or real
server processes (the rolled-back test transaction can give neither).

It follows the suite's configuration (tests/conftest.py): on sqlite, a scratch SQLite file in
its own DATA_DIR; on postgres-es, a schema of its own in TEST_DATABASE_URL (chosen with the
connection's `search_path`, so the suite's `public` schema is never touched) and Elasticsearch
indices of its own. Everything is dropped afterwards.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.accounts import security
from app.accounts.models import User
from app.config import Settings
from app.db import build_engine, build_session_factory
from app.taxonomy import seed as taxonomy_seed
from tests.conftest import CONFIG
from tests.factories import hashed_test_password

SECRET_KEY = "live-test-secret-key-" + "z" * 32
TTDN = str(Path(sys.executable).with_name("ttdn"))


@dataclass
class LiveDatabase:
    settings: Settings
    env: dict[str, str]  # the environment a `ttdn` process needs to use this database
    engine: Engine
    session_factory: sessionmaker[Session]

    def add_user(self, email: str, roles: list[str]) -> User:
        with self.session_factory() as session:
            user = User(email=email, password_hash=hashed_test_password(), roles=roles, full_name=email)
            session.add(user)
            session.commit()
            return user

    def token(self, user: User) -> dict[str, str]:
        token, _ = security.issue_access_token(user.id, SECRET_KEY, 30)
        return {"Authorization": f"Bearer {token}"}


@contextmanager
def live_database(data_dir: Path, **settings: object) -> Iterator[LiveDatabase]:
    """A migrated, seeded database for this configuration; `settings` override the defaults."""
    values: dict[str, object] = {"app_env": "test", "data_dir": data_dir, "secret_key": SECRET_KEY, **settings}
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ELASTICSEARCH_URL")}
    env.update(DATA_DIR=str(data_dir), APP_ENV="test", SECRET_KEY=SECRET_KEY)
    schema = None
    if CONFIG == "postgres-es":
        schema = f"live_{uuid.uuid4().hex[:12]}"
        base_url = os.environ["TEST_DATABASE_URL"]
        separator = "&" if "?" in base_url else "?"
        url = f"{base_url}{separator}options={urllib.parse.quote(f'-csearch_path={schema}')}"
        index = f"ttdn-test-live-{uuid.uuid4().hex[:12]}"
        values.update(
            database_url=url, elasticsearch_url=os.environ["TEST_ELASTICSEARCH_URL"], elasticsearch_index=index
        )
        env.update(DATABASE_URL=url, ELASTICSEARCH_URL=str(values["elasticsearch_url"]), ELASTICSEARCH_INDEX=index)
        admin = build_engine(Settings(database_url=base_url).sqlalchemy_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    live_settings = Settings(**values)
    engine = build_engine(live_settings.sqlalchemy_url)
    try:
        migrate.upgrade(engine)
        factory = build_session_factory(engine)
        with factory() as session:
            taxonomy_seed.load_reference(session)
            session.commit()
        yield LiveDatabase(live_settings, env, engine, factory)
    finally:
        engine.dispose()
        if schema is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
            httpx.delete(f"{values['elasticsearch_url']}/{values['elasticsearch_index']}*", timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    base_url: str
    process: subprocess.Popen
    log: Path


@contextmanager
def serve(env: dict[str, str], log: Path, startup_timeout: float = 180.0) -> Iterator[ServerProcess]:
    """`ttdn serve` on a free loopback port, stopped (by its own id) afterwards."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [TTDN, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            assert process.poll() is None, f"the server exited: {log.read_text()[-2000:]}"
            try:
                if httpx.get(server.base_url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not answer /healthz"
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
