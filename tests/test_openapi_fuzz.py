"""Property-based fuzzing of every operation in the OpenAPI document (schemathesis), in-process
against the app of the test fixtures, on whichever configuration the suite runs.

Each operation is its own test (its id names it). Requests go out as an admin, or as a unit's
key for the unit's own routes (/api/v1/feed...), with valid and invalid data. It must find no
answer >= 500 and no answer the document does not describe: an undocumented status, another
content type, a body that breaks the schema. On failure schemathesis prints the operation, the
check and the example (as a curl command) that broke it.

Bounded: a few examples per operation, no deadline, derandomized (the same examples every run).
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.config import Settings
from app.main import create_app

EXAMPLES = int(os.environ.get("TTDN_FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# The document needs no database: build it once from an app that is never started.
_document = create_app(Settings(app_env="test", secret_key="fuzz-" * 10)).openapi()
# Valid and invalid data from the fuzzing phase. The coverage phase (every boundary case of
# every parameter, hundreds per operation) would take many minutes on this suite's budget.
CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"mode": "all"},
    }
)
schema = schemathesis.openapi.from_dict(_document, config=CONFIG)


@pytest.fixture
def fuzz_client(client, app) -> asgi.ASGIClient:
    """Schemathesis' in-process client. The app is started (lifespan) by `client`, the suite's
    TestClient, and stopped with it, so this one is not entered."""
    return asgi.ASGIClient(app)


@pytest.fixture
def unit_key(client, auth) -> str:
    body = {"code": "FUZZ-POST", "name": "Đồn biên phòng thử", "type": "border_guard_post", "border_routes": ["VN-LA"]}
    created = client.post("/api/v1/units", json=body, headers=auth("admin"))
    assert created.status_code == 201, created.text
    issued = client.post(f"/api/v1/units/{created.json()['id']}/keys", headers=auth("admin"))
    return issued.json()["key"]


def _credentials(path: str, auth, unit_key: str) -> dict[str, str]:
    if path.startswith("/api/v1/feed"):
        return {"Authorization": f"Bearer {unit_key}"}
    return auth("admin")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_to_the_document(case, fuzz_client, auth, unit_key):
    headers = _credentials(case.path, auth, unit_key)
    case.call_and_validate(session=fuzz_client, headers=headers, checks=CHECKS)
