"""Fixtures for the fault tests: real servers, each started once per session.

The Elasticsearch nodes and the scratch PostgreSQL databases exist only in the postgres-es
configuration; the modules that need them are not collected in the sqlite run.
"""

import os
from collections.abc import Iterator

import pytest

from tests.faults.servers import PORT_BASE, EsNode, ScratchPostgres

CONFIG = os.environ.get("TTDN_TEST_CONFIG", "sqlite")


@pytest.fixture(scope="session")
def es_node() -> Iterator[EsNode]:
    """A disposable single node (small heap) that tests may stop, restart and pause."""
    node = EsNode("faults", PORT_BASE)
    node.start(fresh=True)
    yield node
    node.stop()


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
