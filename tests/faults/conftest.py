"""Fixtures for the fault tests: real servers, each started once per session.

The Elasticsearch nodes and the scratch PostgreSQL databases exist only in the postgres-es
configuration; the modules that need them are not collected in the sqlite run. The nodes are
shared by every test file that needs them and stopped when the session ends.
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
from tests.faults.servers import PORT_BASE, EsNode, NodeStarter, ScratchPostgres

CONFIG = os.environ.get("TTDN_TEST_CONFIG", "sqlite")
# The secured node's service user may touch only indices with this name or prefix.
SECURE_PREFIX = "ttdn-sec"


FAULTS = Path(__file__).parent
ES_NODES = {
    # A disposable single node (small heap) that tests may stop, restart and pause.
    "es_node": [EsNode("faults", PORT_BASE)],
    # TLS (a CA made at its start), passwords, and the service's API key and file-realm user,
    # both allowed only on indices named SECURE_PREFIX and SECURE_PREFIX-*.
    "secure_node": [EsNode("secure", PORT_BASE + 10, ["--secure", "--key-indices", SECURE_PREFIX])],
    # Two nodes in one cluster: the first master-eligible (and data), the second data only.
    "cluster": [
        EsNode(f"c{n}", port, ["--cluster", f"c1:{PORT_BASE + 20},c2:{PORT_BASE + 21}"])
        for n, port in enumerate((PORT_BASE + 20, PORT_BASE + 21), 1)
    ],
}
STARTER = NodeStarter()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The fault tests run last, and the Elasticsearch nodes they use start in the background
    as soon as they are collected, so the nodes boot while the rest of the suite runs."""
    faults = [item for item in items if FAULTS in item.path.parents]
    if not faults:
        return
    in_faults = {id(item) for item in faults}
    items[:] = [item for item in items if id(item) not in in_faults] + faults
    # The nodes the collected tests use, in the order the tests first use them.
    first_use: dict[str, int] = {}
    for position, item in enumerate(faults):
        for name in ES_NODES.keys() & set(item.fixturenames):
            first_use.setdefault(name, position)
    STARTER.start_all([node for name in sorted(first_use, key=first_use.get) for node in ES_NODES[name]])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    STARTER.stop_all()


@pytest.fixture(scope="session")
def es_node() -> EsNode:
    (node,) = ES_NODES["es_node"]
    return STARTER.ready(node)


@pytest.fixture(scope="session")
def secure_node() -> EsNode:
    (node,) = ES_NODES["secure_node"]
    return STARTER.ready(node)


@pytest.fixture(scope="session")
def cluster() -> list[EsNode]:
    return [STARTER.ready(node) for node in ES_NODES["cluster"]]


@pytest.fixture
def secure_settings(settings: Settings, secure_node: EsNode) -> Settings:
    """The test's settings pointed at the secured node with the service's API key (made by the
    node's start-up with only the documented role), and an alias of its own inside what that key
    may touch."""
    env = secure_node.service_env()
    assert "ELASTICSEARCH_API_KEY" in env, "the secured node made no API key (see its es-node.sh log)"
    return settings.model_copy(
        update={
            "elasticsearch_url": env["ELASTICSEARCH_URL"],
            "elasticsearch_api_key": SecretStr(env["ELASTICSEARCH_API_KEY"]),
            "elasticsearch_ca_certs": Path(env["ELASTICSEARCH_CA_CERTS"]),
            "elasticsearch_index": f"{SECURE_PREFIX}-{uuid.uuid4().hex[:12]}",
            # Generous: a node just started on a busy 2-core machine is slow to create an index.
            "elasticsearch_request_timeout": 30,
        }
    )


@pytest.fixture
def secure_user_settings(secure_settings: Settings, secure_node: EsNode) -> Settings:
    """As secure_settings, signed in as the service's file-realm user (same role) instead."""
    env = secure_node.service_env()
    return secure_settings.model_copy(
        update={
            "elasticsearch_api_key": None,
            "elasticsearch_username": env["ELASTICSEARCH_USERNAME"],
            "elasticsearch_password": SecretStr(env["ELASTICSEARCH_PASSWORD"]),
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
