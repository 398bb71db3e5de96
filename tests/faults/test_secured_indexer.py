"""The indexer against the secured node (TLS, the service's restricted user).

postgres-es only. The tests are those of tests/search/test_search_indexer.py, with the search
backend the configuration builds for a secured cluster.
"""

import os

import pytest

from app.search.backend import SearchBackend
from tests.search.test_search_indexer import *  # noqa: F403

__test__ = os.environ.get("TTDN_TEST_CONFIG", "sqlite") == "postgres-es"


@pytest.fixture
def search_backend(secure_backend: SearchBackend) -> SearchBackend:
    return secure_backend
