"""Which search backend this configuration uses: Elasticsearch when ELASTICSEARCH_URL is set."""

import logging
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.search.backend import SearchBackend
from app.search.database import DatabaseBackend
from app.search.elasticsearch import SETTINGS, ElasticsearchBackend

log = logging.getLogger("ttdn.search")


def build_elasticsearch_client(url: str, settings: Settings | None = None) -> Elasticsearch:
    """A client for `url` (one or several comma-separated nodes) with the settings' credentials,
    TLS trust and timeouts: a search waits seconds at most, never minutes."""
    settings = settings or Settings()
    hosts = [host.strip() for host in url.split(",") if host.strip()]
    options: dict[str, Any] = {
        "request_timeout": settings.elasticsearch_request_timeout,
        "retry_on_timeout": True,
        "max_retries": settings.elasticsearch_max_retries,
        # orjson parses a search response (20 hits with their text, the facets; about 55 KB) in
        # about half the time of the standard library; the client uses it for every JSON request
        # and answer.
        "serializer": OrjsonSerializer(),
    }
    if settings.elasticsearch_api_key:
        options["api_key"] = settings.elasticsearch_api_key.get_secret_value()
    elif settings.elasticsearch_username and settings.elasticsearch_password:
        options["basic_auth"] = (settings.elasticsearch_username, settings.elasticsearch_password.get_secret_value())
    if any(host.startswith("https:") for host in hosts):
        if settings.elasticsearch_ca_certs:
            options["ca_certs"] = str(settings.elasticsearch_ca_certs)
        if settings.elasticsearch_ssl_fingerprint:
            options["ssl_assert_fingerprint"] = settings.elasticsearch_ssl_fingerprint
        if not settings.elasticsearch_verify_certs:
            log.warning("ELASTICSEARCH_VERIFY_CERTS is off: the cluster's TLS certificate is not checked")
            options["verify_certs"] = False
            options["ssl_show_warn"] = False
    return Elasticsearch(hosts, **options)


def index_settings(settings: Settings) -> dict[str, Any]:
    """SETTINGS with the shards, replicas and refresh interval the configuration asks for."""
    replicas = settings.elasticsearch_replicas
    placement: dict[str, Any] = (
        {"number_of_replicas": int(replicas), "auto_expand_replicas": False}
        if replicas.isdigit()
        else {"number_of_replicas": int(replicas.split("-")[0]), "auto_expand_replicas": replicas}
    )
    return {
        **SETTINGS,
        "number_of_shards": settings.elasticsearch_shards,
        "refresh_interval": settings.elasticsearch_refresh_interval,
        **placement,
    }


def build_search_backend(settings: Settings, session_factory: sessionmaker[Session]) -> SearchBackend:
    """Nothing is contacted here; the Elasticsearch index is created on first use."""
    if settings.elasticsearch_url:
        return ElasticsearchBackend(
            build_elasticsearch_client(settings.elasticsearch_url, settings),
            settings.elasticsearch_index,
            index_settings=index_settings(settings),
            health_timeout=settings.elasticsearch_health_timeout,
            verify_certs=settings.elasticsearch_verify_certs,
        )
    return DatabaseBackend(session_factory)
