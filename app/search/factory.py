"""Which search backend this configuration uses: Elasticsearch when ELASTICSEARCH_URL is set."""

from elasticsearch import Elasticsearch
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.search.backend import SearchBackend
from app.search.database import DatabaseBackend
from app.search.elasticsearch import ElasticsearchBackend


def build_elasticsearch_client(url: str) -> Elasticsearch:
    """Short timeouts and two retries: a search waits seconds at most, never minutes."""
    return Elasticsearch(url, request_timeout=10, retry_on_timeout=True, max_retries=2)


def build_search_backend(settings: Settings, session_factory: sessionmaker[Session]) -> SearchBackend:
    """Nothing is contacted here; the Elasticsearch index is created on first use."""
    if settings.elasticsearch_url:
        return ElasticsearchBackend(
            build_elasticsearch_client(settings.elasticsearch_url), settings.elasticsearch_index
        )
    return DatabaseBackend(session_factory)
