"""Fixtures for the fault tests: real servers, each started once per session.

The Elasticsearch nodes and the scratch PostgreSQL databases exist only in the postgres-es
configuration; the modules that need them are not collected in the sqlite run.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.search.backend import SearchBackend
from app.search.factory import build_search_backend
from tests.faults.servers import PORT_BASE, EsNode, ScratchPostgres

CONFIG = os.environ.get("TTDN_TEST_CONFIG", "sqlite")
# The secured node's service user may touch only indices with this name or prefix.
SECURE_PREFIX = "ttdn-sec"


@pytest.fixture(scope="module")
def es_node() -> Iterator[EsNode]:
    """A disposable single node (small heap) that tests may stop, restart and pause. One module
    uses it, so it is started once per session and stopped as soon as that module is done."""
    node = EsNode("faults", PORT_BASE)
    node.start(fresh=True)
    yield node
    node.stop()


@pytest.fixture(scope="session")
def secure_node() -> Iterator[EsNode]:
    """A node with TLS (a CA made at its start), passwords, and the service's restricted user,
    allowed only on indices named SECURE_PREFIX and SECURE_PREFIX-*."""
    node = EsNode("secure", PORT_BASE + 10, ["--secure", "--key-indices", SECURE_PREFIX])
    node.start(fresh=True)
    yield node
    node.stop()


@pytest.fixture(scope="module")
def cluster() -> Iterator[list[EsNode]]:
    """Two nodes in one cluster: the first master-eligible (and data), the second data only.
    Started once (one module uses it) and stopped when that module is done."""
    ports = (PORT_BASE + 20, PORT_BASE + 21)
    members = ",".join(f"c{n}:{port}" for n, port in enumerate(ports, 1))
    nodes = [EsNode(f"c{n}", port, ["--cluster", members]) for n, port in enumerate(ports, 1)]
    try:
        for node in nodes:
            node.start(fresh=True)
        yield nodes
    finally:
        for node in reversed(nodes):
            node.stop()


@pytest.fixture
def secure_settings(settings: Settings, secure_node: EsNode) -> Settings:
    """The test's settings pointed at the secured node as the service's own user, with an alias
    of its own inside what that user may touch."""
    env = secure_node.service_env()
    return settings.model_copy(
        update={
            "elasticsearch_url": env["ELASTICSEARCH_URL"],
            "elasticsearch_username": env["ELASTICSEARCH_USERNAME"],
            "elasticsearch_password": SecretStr(env["ELASTICSEARCH_PASSWORD"]),
            "elasticsearch_ca_certs": Path(env["ELASTICSEARCH_CA_CERTS"]),
            "elasticsearch_index": f"{SECURE_PREFIX}-{uuid.uuid4().hex[:12]}",
            # Generous: a node just started on a busy 2-core machine is slow to create an index.
            "elasticsearch_request_timeout": 30,
        }
    )


@pytest.fixture
def secure_backend(secure_settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[SearchBackend]:
    backend = build_search_backend(secure_settings, session_factory)
    yield backend
    backend.drop()


@pytest.fixture(scope="session")
def scratch_postgres() -> Iterator[ScratchPostgres]:
    """Fresh databases on the test PostgreSQL, for tests whose writes must really commit."""
    url = os.environ.get("TEST_DATABASE_URL")
    if CONFIG != "postgres-es" or not url:
        pytest.exit("scratch_postgres needs TTDN_TEST_CONFIG=postgres-es and TEST_DATABASE_URL", returncode=3)
    scratch = ScratchPostgres(url)
    scratch.make_template()
    yield scratch
    scratch.close()
