"""The search backend contract, run against the secured node (TLS, the service's restricted user).

postgres-es only. The tests are those of tests/search/test_search_contract.py; only the backend
differs: the one the configuration would build for a secured cluster.
"""

import os

import pytest

from app.search.backend import SearchBackend
from tests.search.test_search_contract import *  # noqa: F403

__test__ = os.environ.get("TTDN_TEST_CONFIG", "sqlite") == "postgres-es"


@pytest.fixture
def backend(secure_backend: SearchBackend) -> SearchBackend:
    return secure_backend
