"""How settings become an Elasticsearch client and index settings (no server contacted).

Runs in both configurations: nothing here needs a cluster.
"""

import logging

import pytest
from pydantic import SecretStr, ValidationError

from app.config import Settings
from app.search.factory import build_elasticsearch_client, index_settings


def test_several_hosts_comma_separated_or_as_a_list(monkeypatch):
    hosts = {"http://127.0.0.1:9201", "http://127.0.0.1:9202"}
    for value in ("http://127.0.0.1:9201, http://127.0.0.1:9202", '["http://127.0.0.1:9201","http://127.0.0.1:9202"]'):
        monkeypatch.setenv("ELASTICSEARCH_URL", value)
        settings = Settings()
        assert set(settings.elasticsearch_hosts) == hosts
        client = build_elasticsearch_client(settings.elasticsearch_url, settings)
        assert {f"http://{node.host}:{node.port}" for node in client.transport.node_pool.all()} == hosts


def test_index_settings_default_and_from_settings():
    default = index_settings(Settings())
    assert default["number_of_shards"] == 1
    assert default["auto_expand_replicas"] == "0-1"
    assert default["refresh_interval"] == "1s"
    cluster = index_settings(
        Settings(elasticsearch_shards=3, elasticsearch_replicas="2", elasticsearch_refresh_interval="5s")
    )
    assert cluster["number_of_shards"] == 3
    assert cluster["number_of_replicas"] == 2
    assert cluster["auto_expand_replicas"] is False
    assert cluster["refresh_interval"] == "5s"


@pytest.mark.parametrize(
    "values",
    [
        {"elasticsearch_replicas": "many"},
        {"elasticsearch_shards": 0},
        {"elasticsearch_request_timeout": 0},
        {"elasticsearch_username": "ttdn-hub"},  # a user without a password
        {"elasticsearch_url": "localhost:9200"},  # no scheme: the client would refuse it later
        {"elasticsearch_url": "http://127.0.0.1:9200,ftp://127.0.0.1"},
        {"database_url": "mysql://ttdn@db/ttdn"},  # no driver for it is installed
    ],
)
def test_settings_that_cannot_work_are_refused(values):
    with pytest.raises(ValidationError):
        Settings(**values)


@pytest.mark.parametrize(
    "values",
    [
        {"database_url": "postgres://ttdn@db/ttdn"},
        {"database_url": "postgresql+psycopg://ttdn:pw@db:5432/ttdn?sslmode=verify-full"},
        {"database_url": "sqlite:////var/lib/ttdn/ttdn.sqlite3"},
        {"elasticsearch_url": "https://es-1.example.org, http://10.0.0.2:9200"},
    ],
)
def test_the_urls_the_service_runs_on_are_accepted(values):
    assert Settings(**values)


def test_secrets_are_not_shown_by_the_settings():
    settings = Settings(
        elasticsearch_url="https://127.0.0.1:9200",
        elasticsearch_api_key="the-api-key-value",
        elasticsearch_username="ttdn-hub",
        elasticsearch_password="the-password-value",
    )
    assert isinstance(settings.elasticsearch_password, SecretStr)
    for text in (repr(settings), str(settings.model_dump())):
        assert "the-api-key-value" not in text
        assert "the-password-value" not in text


def test_certificate_checks_are_on_unless_turned_off_and_then_logged(caplog):
    checked = build_elasticsearch_client("https://127.0.0.1:9200", Settings())
    assert checked.transport.node_pool.all()[0].config.verify_certs is True
    caplog.set_level(logging.WARNING)
    unchecked = build_elasticsearch_client("https://127.0.0.1:9200", Settings(elasticsearch_verify_certs=False))
    assert unchecked.transport.node_pool.all()[0].config.verify_certs is False
    assert "ELASTICSEARCH_VERIFY_CERTS is off" in caplog.text
