"""The `backend` fixture of the backend contract suites: every backend the configuration builds.

TTDN_TEST_CONFIG=sqlite: the database backend on SQLite. TTDN_TEST_CONFIG=postgres-es:
Elasticsearch, and the database backend on PostgreSQL too.
"""

import os
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.search.backend import SearchBackend
from app.search.database import DatabaseBackend

CONFIG = os.environ.get("TTDN_TEST_CONFIG", "sqlite")
BACKENDS = ["elasticsearch", "database"] if CONFIG == "postgres-es" else ["database"]


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, search_backend: SearchBackend, session_factory: sessionmaker[Session]
) -> Iterator[SearchBackend]:
    if request.param == search_backend.name:
        yield search_backend
        return
    database = DatabaseBackend(session_factory)
    yield database
    database.drop()
