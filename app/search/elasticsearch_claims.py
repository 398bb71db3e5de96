"""The claim index on Elasticsearch: `<alias>-claims`, external versions, matching by shared words.

Matching is a bool of match queries: any folded word must match (OR, ranked by BM25, so rare
words count most), the words as written add score. app.claims.matching scores the candidates.
"""

import uuid
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch

from app.search.backend import ClaimDocument, SearchHit
from app.search.documents import chunks
from app.text import folded_texts, folded_words, nfc

_TEXT = {"type": "text", "analyzer": "standard"}
CLAIM_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {"id": {"type": "keyword"}, "status": {"type": "keyword"}, "text": _TEXT, "folded": _TEXT},
}
CLAIM_SETTINGS: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"}
MAX_QUERY_WORDS = 40
BULK_CHUNK = 1000


def claim_index(alias: str) -> str:
    return f"{alias}-claims"


def ensure_claim_index(client: Elasticsearch, index: str) -> None:
    if client.indices.exists(index=index):
        return
    try:
        client.indices.create(index=index, mappings=CLAIM_MAPPINGS, settings=CLAIM_SETTINGS)
    except BadRequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise


def claim_operations(index: str, docs: list[ClaimDocument]) -> list[list[dict[str, Any]]]:
    """Bulk bodies, BULK_CHUNK documents each, with the claim's version as external version."""
    bodies = []
    for chunk in chunks(docs, BULK_CHUNK):
        operations: list[dict[str, Any]] = []
        # Folded a chunk at once, as the materials' bulk bodies are.
        for doc, folded in zip(chunk, folded_texts([doc.text for doc in chunk]), strict=True):
            operations.append(
                {"index": {"_index": index, "_id": str(doc.id), "version": doc.version, "version_type": "external"}}
            )
            operations.append({"id": str(doc.id), "status": doc.status, "text": doc.text, "folded": folded})
        bodies.append(operations)
    return bodies


def match_request(text: str, limit: int) -> dict[str, Any] | None:
    words = list(dict.fromkeys(folded_words(text)))[:MAX_QUERY_WORDS]
    if not words:
        return None
    return {
        "query": {
            "bool": {
                "must": [{"match": {"folded": {"query": " ".join(words), "operator": "or"}}}],
                "should": [{"match": {"text": nfc(text)}}],
                "must_not": [{"term": {"status": "merged"}}],
            }
        },
        "size": limit,
        "source": False,
    }


def hits(response: Any) -> list[SearchHit]:
    return [SearchHit(uuid.UUID(hit["_id"]), hit["_score"]) for hit in response["hits"]["hits"]]
