"""Test set-up for both configurations.

TTDN_TEST_CONFIG=sqlite (default): a SQLite file and the database search backend.
TTDN_TEST_CONFIG=postgres-es: TEST_DATABASE_URL and TEST_ELASTICSEARCH_URL, both required;
the suite fails (never skips) when either cannot be reached.

The schema is built by `alembic upgrade head` once per session and the reference data loaded
once; each test then runs inside a transaction that is rolled back. Elasticsearch is not
transactional, so each test that touches it gets its own index, dropped afterwards.
"""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.accounts import security
from app.accounts.models import User
from app.config import Settings, get_settings
from app.db import build_engine
from app.main import create_app
from app.search import indexer
from app.search.backend import SearchBackend
from app.search.factory import build_search_backend
from app.taxonomy import seed as taxonomy_seed
from tests.factories import hashed_test_password

CONFIG = os.environ.get("TTDN_TEST_CONFIG", "sqlite")


def pytest_report_header(config: pytest.Config) -> str:
    return f"ttdn-hub test configuration: {CONFIG}"


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("data")
    values: dict[str, object] = {
        "app_env": "test",
        "data_dir": data_dir,
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "indexer_interval_seconds": 0,
        "feed_release_interval_seconds": 0,
        "webhook_interval_seconds": 0,
        "max_upload_bytes": 1024 * 1024,
        "max_json_body_bytes": 64 * 1024,
    }
    if CONFIG == "postgres-es":
        database_url = os.environ.get("TEST_DATABASE_URL")
        es_url = os.environ.get("TEST_ELASTICSEARCH_URL")
        if not database_url or not es_url:
            pytest.exit("postgres-es needs TEST_DATABASE_URL and TEST_ELASTICSEARCH_URL", returncode=3)
        values["database_url"] = database_url
        values["elasticsearch_url"] = es_url
    elif CONFIG == "sqlite":
        values["database_url"] = f"sqlite:///{data_dir / 'test.sqlite3'}"
    else:
        pytest.exit(f"unknown TTDN_TEST_CONFIG {CONFIG!r}", returncode=3)
    return Settings(**values)


@pytest.fixture(scope="session")
def engine(base_settings: Settings) -> Iterator[Engine]:
    engine = build_engine(base_settings.sqlalchemy_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    with Session(engine) as session:
        taxonomy_seed.load_reference(session)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.close()


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    """Per test: its own Elasticsearch index name, so tests never see each other's documents."""
    return base_settings.model_copy(update={"elasticsearch_index": f"ttdn-test-{uuid.uuid4().hex[:12]}"})


@pytest.fixture
def search_backend(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[SearchBackend]:
    backend = build_search_backend(settings, session_factory)
    yield backend
    backend.drop()


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session], search_backend: SearchBackend) -> FastAPI:
    return create_app(settings, session_factory=session_factory, search_backend=search_backend)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def index_now(session_factory: sessionmaker[Session], search_backend: SearchBackend) -> Callable[[], int]:
    """Drain the outbox into the backend and make it searchable, as the background indexer would."""

    def run() -> int:
        count = indexer.drain(session_factory, search_backend)
        search_backend.refresh()
        return count

    return run


ROLE_USERS = {
    "admin": ["admin"],
    "editor": ["editor"],
    "editor2": ["editor"],
    "reviewer": ["reviewer"],
    "reviewer2": ["reviewer"],
    "analyst": ["analyst"],
}


@pytest.fixture
def users(session: Session) -> dict[str, User]:
    """One staff user per role (two editors and two reviewers, for the four-eyes rule)."""
    made = {}
    password_hash = hashed_test_password()
    for name, roles in ROLE_USERS.items():
        user = User(email=f"{name}@example.test", password_hash=password_hash, roles=roles, full_name=name)
        session.add(user)
        made[name] = user
    session.commit()
    return made


@pytest.fixture
def auth(users: dict[str, User], settings: Settings) -> Callable[[str], dict[str, str]]:
    """auth("editor") -> headers carrying a valid access token for that user."""

    def headers(name: str) -> dict[str, str]:
        token, _ = security.issue_access_token(users[name].id, settings.secret_key, 30)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty DATA_DIR with SQLite defaults, for the `ttdn` command (which reads the environment)."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for name in ("DATABASE_URL", "ELASTICSEARCH_URL", "APP_ENV"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
