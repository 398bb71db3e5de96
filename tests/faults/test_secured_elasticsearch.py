"""A secured node: the service connects over TLS with its API key or its restricted user (both
with only the documented role); a wrong password or key, a wrong CA or fingerprint, and plain
HTTP each give a clear reason at start-up and in /readyz, quickly, without a secret in the log
or the answer; `ttdn reindex` works with the API key.

postgres-es only. The node comes from `scripts/es-node.sh start ... --secure`.
"""

import base64
import logging
import os
import threading
from pathlib import Path

import certifi
import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.main import create_app
from app.search.backend import BackendUnavailable
from app.search.factory import build_search_backend
from tests.faults.servers import EsNode

__test__ = os.environ.get("TTDN_TEST_CONFIG", "sqlite") == "postgres-es"

WRONG = {
    "password": (
        {
            "elasticsearch_api_key": None,
            "elasticsearch_username": "ttdn-hub",
            "elasticsearch_password": SecretStr("not-the-password"),
        },
        "credentials refused",
    ),
    "unknown api key": ({"elasticsearch_api_key": SecretStr("bm90LWEta2V5Om5vLXNlY3JldA==")}, "credentials refused"),
    # The service's real key id with a wrong secret.
    "api key, wrong secret": ("wrong secret", "credentials refused"),
    "CA": ({"elasticsearch_ca_certs": Path(certifi.where())}, "TLS certificate not trusted"),
    "fingerprint": (
        {"elasticsearch_ca_certs": None, "elasticsearch_ssl_fingerprint": "AB" * 32},
        "TLS certificate not trusted",
    ),
    "plain HTTP": (None, "https://"),
}


def bounded(call, seconds: float = 60):
    """Run `call` in a thread; fail if it has not returned within `seconds` (a hang)."""
    result: dict[str, object] = {}
    worker = threading.Thread(target=lambda: result.setdefault("value", call()), daemon=True)
    worker.start()
    worker.join(timeout=seconds)
    assert not worker.is_alive(), "hung"
    return result["value"]


def secrets_of(settings: Settings, node: EsNode) -> list[str]:
    env = node.service_env()
    found = [env["ELASTICSEARCH_PASSWORD"], env["ELASTIC_PASSWORD"], env["ELASTICSEARCH_API_KEY"]]
    found.append(base64.b64decode(env["ELASTICSEARCH_API_KEY"]).decode().split(":", 1)[1])
    for secret in (settings.elasticsearch_password, settings.elasticsearch_api_key):
        if secret:
            found.append(secret.get_secret_value())
    return found


def wrong_secret(api_key: str) -> str:
    """The same key id, another secret (the encoded form is base64 of "id:secret")."""
    key_id, _ = base64.b64decode(api_key).decode().split(":", 1)
    return base64.b64encode(f"{key_id}:{'x' * 22}".encode()).decode()


@pytest.mark.parametrize("credential", ["api key", "user"])
def test_the_service_works_over_tls_with_its_restricted_credentials(
    credential, secure_settings, secure_user_settings, session_factory, auth
):
    settings = secure_settings if credential == "api key" else secure_user_settings
    app = create_app(settings, session_factory=session_factory)
    with TestClient(app, raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["search_backend"]["status"] in ("green", "yellow")
        assert client.get("/api/v1/search", params={"q": "bất kỳ"}, headers=auth("editor")).status_code == 200


@pytest.mark.parametrize("credential", ["api key", "user"])
def test_the_restricted_credentials_cannot_touch_other_indices(credential, secure_settings, secure_user_settings):
    settings = secure_settings if credential == "api key" else secure_user_settings
    outside = build_search_backend(settings.model_copy(update={"elasticsearch_index": "ttdn-other"}), None)
    with pytest.raises(BackendUnavailable, match="permission denied"):
        outside.ensure_ready()


@pytest.mark.parametrize("case", list(WRONG))
def test_wrong_credentials_or_trust_give_a_clear_reason_fast_and_no_secret(
    case, secure_settings, session_factory, secure_node, caplog
):
    changes, reason = WRONG[case]
    if changes is None:
        changes = {"elasticsearch_url": secure_settings.elasticsearch_url.replace("https://", "http://")}
    elif changes == "wrong secret":
        changes = {"elasticsearch_api_key": SecretStr(wrong_secret(secure_node.service_env()["ELASTICSEARCH_API_KEY"]))}
    wrong = secure_settings.model_copy(update=changes)
    app = create_app(wrong, session_factory=session_factory)
    caplog.set_level(logging.DEBUG)  # after create_app, which sets the root logger's level

    def start_and_ask():
        with TestClient(app, raise_server_exceptions=False) as client:
            return client.get("/readyz")

    ready = bounded(start_and_ask)
    assert ready.status_code == 503
    assert ready.json()["search_backend"]["status"] == "unavailable"
    assert reason in ready.json()["search_backend"]["reason"]
    started = [r.getMessage() for r in caplog.records if r.name == "ttdn.startup"]
    assert any(reason in message for message in started), started
    for secret in secrets_of(wrong, secure_node):
        assert secret not in caplog.text
        assert secret not in ready.text


def test_verification_off_is_never_silent(secure_settings, session_factory, caplog):
    unchecked = secure_settings.model_copy(update={"elasticsearch_ca_certs": None, "elasticsearch_verify_certs": False})
    caplog.set_level(logging.WARNING)
    with TestClient(create_app(unchecked, session_factory=session_factory)) as client:
        health = client.get("/readyz").json()["search_backend"]
    assert health["certificate_verification"] == "off"
    assert "ELASTICSEARCH_VERIFY_CERTS is off" in caplog.text


def test_reindex_with_the_api_key_swaps_the_alias(secure_settings, secure_node, scratch, monkeypatch, engine):
    """`ttdn reindex` creates a new index, moves the alias to it and deletes the old one, with
    nothing but the service's API key."""
    env = secure_node.service_env()
    alias = secure_settings.elasticsearch_index
    for name, value in {
        "DATABASE_URL": os.environ["TEST_DATABASE_URL"],
        "ELASTICSEARCH_URL": env["ELASTICSEARCH_URL"],
        "ELASTICSEARCH_API_KEY": env["ELASTICSEARCH_API_KEY"],
        "ELASTICSEARCH_CA_CERTS": env["ELASTICSEARCH_CA_CERTS"],
        "ELASTICSEARCH_INDEX": alias,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    superuser = ("elastic", env["ELASTIC_PASSWORD"])
    admin = Elasticsearch(env["ELASTICSEARCH_URL"], ca_certs=env["ELASTICSEARCH_CA_CERTS"], basic_auth=superuser)
    try:
        first = CliRunner().invoke(cli, ["reindex"])
        assert first.exit_code == 0, first.output
        before = set(admin.indices.get_alias(name=alias))
        second = CliRunner().invoke(cli, ["reindex"])
        assert second.exit_code == 0, second.output
        after = set(admin.indices.get_alias(name=alias))
        assert len(after) == 1 and after != before
        assert not any(admin.indices.exists(index=name) for name in before)
        for secret in secrets_of(secure_settings, secure_node):
            assert secret not in first.output + second.output
    finally:
        admin.options(ignore_status=404).indices.delete(index=f"{alias}*")
        get_settings.cache_clear()
