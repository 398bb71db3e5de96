"""The Elasticsearch backend: one alias, a concrete index behind it, swapped on rebuild.

The test cluster (and so the mapping) has only core analysis: no asciifolding, no custom
analyzers. Diacritics are folded by the application instead: every text field is indexed
twice, as written and folded (`title` and `title_folded`), both with the `standard` analyzer.
Folded words must all match; the original words add score, so exact spellings rank first.

Writes use external versions (the material's version), so a stale write never replaces a
newer document: Elasticsearch answers it with a 409, which here means "already newer".
"""

import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError, TransportError

from app.search import elasticsearch_claims as claims_index
from app.search.backend import (
    FACETS,
    PLAIN_FILTERS,
    ClaimDocument,
    FacetCount,
    FacetGroups,
    ProgressCallback,
    SearchDocument,
    SearchHit,
    SearchPage,
    SearchQuery,
)
from app.search.documents import (
    PHRASE_BOOST,
    QueryWords,
    as_phrase,
    chunks,
    decode_cursor,
    effective_sort,
    encode_cursor,
    integer,
    number,
    search_words,
    uuid_text,
)
from app.search.elasticsearch_documents import (
    FIELDS,
    KEYWORD,
    MAPPINGS,
    bulk_body,
    document_from_hit,
    source_excludes,
)
from app.search.es_errors import describe_failure, reachable
from app.text import folded_words, nfc

SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    "refresh_interval": "1s",
    # How long a delete's version is remembered. A stale write arriving later than this after
    # a delete would recreate the document; the indexer only writes what it has just read, so
    # keep a generous margin over the default 60 s.
    "gc_deletes": "1h",
}
SORTS: dict[str, list[Any]] = {
    "relevance": [{"_score": "desc"}, {"id": "asc"}],
    "newest": [
        {"published_at": {"order": "desc", "missing": "_last"}},
        {"updated_at": "desc"},
        {"id": "desc"},
    ],
}
# Sort values as Elasticsearch returns them: a float score, epoch milliseconds, the id.
CURSOR_VALUES: dict[str, tuple[Callable[[Any], Any], ...]] = {
    "relevance": (number, uuid_text),
    "newest": (integer, integer, uuid_text),
}
# More than there are values of any facet (provinces over all periods are fewer than 200).
FACET_SIZE = 500
BULK_CHUNK = 1000
# Bulk requests a rebuild keeps in flight: with two, Elasticsearch indexes one chunk while it
# receives the next. `ttdn reindex` of 100,000 materials on 2 cores, alternated: 31.3-33.8 s
# with one (four runs), 27.1-29.0 s with two (four runs), 26.5-29.1 s with three (two runs).
REBUILD_REQUESTS = 2
# What a `_bulk` answer holds: only the failed items (a refused document's reason names its id).
BULK_ANSWER = "errors,items.*.error"
# What a new index is created with while `rebuild` fills it.
_FILLING = {"refresh_interval": "-1", "number_of_replicas": 0, "auto_expand_replicas": False}


class IndexingFailed(RuntimeError):
    """Elasticsearch refused a document (not a version conflict); the outbox rows stay pending."""


class ElasticsearchBackend:
    name = "elasticsearch"

    def __init__(
        self,
        client: Elasticsearch,
        alias: str,
        *,
        index_settings: dict[str, Any] | None = None,
        health_timeout: float = 2.0,
        verify_certs: bool = True,
    ) -> None:
        self.client = client
        self.alias = alias
        self.settings = index_settings or SETTINGS
        self.health_timeout = health_timeout
        self.verify_certs = verify_certs
        self._ready = False
        self._claims_ready = False

    def ensure_ready(self) -> None:
        """Create the first index, with the alias, unless the alias exists. Done on first use."""
        if self._ready:
            return
        with reachable():
            if not self.client.indices.exists_alias(name=self.alias):
                # A fixed first name: two processes starting at once then create one index,
                # not two behind one alias (which would refuse every write).
                first = f"{self.alias}-initial"
                try:
                    self.client.indices.create(
                        index=first, mappings=MAPPINGS, settings=self.settings, aliases={self.alias: {}}
                    )
                except BadRequestError as exc:
                    if exc.error != "resource_already_exists_exception":
                        raise
                    self.client.indices.put_alias(index=first, name=self.alias)
            else:
                # Indices made before translation families: adding a field is allowed in place.
                self.client.indices.put_mapping(index=self.alias, properties={"family": KEYWORD})
        self._ready = True

    def ping(self) -> bool:
        return self.health()["status"] in ("green", "yellow")

    def health(self) -> dict[str, str]:
        """The colour of this service's indices (green; yellow: a replica missing; red: a primary
        missing), or "unavailable" with the reason in words.

        Each request is bounded by `health_timeout` and not retried on a timeout: /readyz must
        answer even when the cluster hangs. Names no host and no credential.
        """
        # A node that refuses the connection is tried on the next; one that hangs is not waited on twice.
        others = max(0, len(self.client.transport.node_pool.all()) - 1)
        client = self.client.options(request_timeout=self.health_timeout, max_retries=others, retry_on_timeout=False)
        try:
            # The health of the indices behind this service's alias, not of the whole cluster,
            # which may hold other people's red indices; the cluster's until the index exists.
            try:
                indices = sorted(client.indices.get_alias(name=self.alias))
            except NotFoundError:
                indices = []
            response = client.cluster.health(index=",".join(indices)) if indices else client.cluster.health()
            status = str(response.get("status"))
        except (TransportError, ApiError) as exc:
            return {"status": "unavailable", "reason": describe_failure(exc)}
        except ValueError as exc:  # the fingerprint or CA file given cannot be used
            return {"status": "unavailable", "reason": f"TLS settings rejected: {type(exc).__name__}"}
        health = {"status": status}
        if status == "red":
            health["reason"] = "some primary shards are unassigned; searches are refused until they return"
        if not self.verify_certs:
            health["certificate_verification"] = "off"
        return health

    def refresh(self) -> None:
        self.ensure_ready()
        with reachable():
            self.client.indices.refresh(index=self.alias)

    def index_many(self, docs: list[SearchDocument]) -> None:
        self.ensure_ready()
        for chunk in chunks(docs, BULK_CHUNK):
            self._bulk(bulk_body(self.alias, chunk))

    def delete_many(self, items: list[tuple[uuid.UUID, int]]) -> None:
        self.ensure_ready()
        for chunk in chunks(items, BULK_CHUNK):
            operations = [
                {
                    "delete": {
                        "_index": self.alias,
                        "_id": str(material_id),
                        "version": version,
                        "version_type": "external",
                    }
                }
                for material_id, version in chunk
            ]
            self._bulk(operations)

    def _bulk(self, operations: list[dict[str, Any]] | bytes) -> None:
        """One `_bulk` request: operations, or their NDJSON body already serialised."""
        with reachable():
            # Unfiltered, the answer for a chunk of 1,000 is 1,000 items to write and to parse.
            response = self.client.bulk(operations=operations, filter_path=BULK_ANSWER)
        if not response.get("errors"):
            return
        failures = []
        for item in response["items"]:
            ((action, result),) = item.items()
            error = result["error"]
            # A version conflict: the stored document is as new or newer, which is what we want.
            if error.get("type") != "version_conflict_engine_exception":
                failures.append(f"{action}: {error.get('type')}: {error.get('reason')}")
        if failures:
            raise IndexingFailed(f"{len(failures)} document(s) refused, first: {failures[0]}")

    def search(self, query: SearchQuery) -> SearchPage:
        self.ensure_ready()
        sort = effective_sort(query)
        request: dict[str, Any] = {
            "query": _scoring_query(query),
            "sort": SORTS[sort],
            "size": query.limit + 1,
            "track_total_hits": True,
            # What a result item shows comes from here; the body only when there are words to
            # highlight in it; the version tells the caller whether the copy is current.
            "source": {"excludes": source_excludes(with_body=bool(folded_words(query.text or "")))},
            "version": True,
            # A red cluster (a primary shard missing) gives an error, not silently partial results.
            "allow_partial_search_results": False,
        }
        selected = {f: {"terms": {FIELDS[f]: query.filters[f]}} for f in FACETS if query.filters.get(f)}
        if selected:
            request["post_filter"] = {"bool": {"filter": list(selected.values())}}
        if query.with_facets:
            request["aggs"] = _facet_aggregations(selected, query.facet_groups)
        offset = 0
        if query.collapse:
            offset = decode_cursor(query, f"collapse-{sort}", (integer,))[0] if query.cursor else 0
            request.update(collapse={"field": "family"}, from_=offset)
            request.setdefault("aggs", {})["families"] = _family_count(selected)
        elif query.cursor:
            request["search_after"] = decode_cursor(query, sort, CURSOR_VALUES[sort])
        with reachable():
            response = self.client.search(index=self.alias, **request)
        hits = response["hits"]["hits"]
        more = len(hits) > query.limit
        if query.collapse:
            next_cursor = encode_cursor(query, f"collapse-{sort}", [offset + query.limit]) if more else None
            total = response["aggregations"]["families"]["count"]["value"]
        else:
            next_cursor = encode_cursor(query, sort, hits[query.limit - 1]["sort"]) if more else None
            total = response["hits"]["total"]["value"]
        return SearchPage(
            hits=[_hit(hit) for hit in hits[: query.limit]],
            total=total,
            facets=_facet_counts(response.get("aggregations", {})) if query.with_facets else {},
            next_cursor=next_cursor,
        )

    def rebuild(self, docs: Iterable[SearchDocument], on_progress: ProgressCallback | None = None) -> int:
        """Fill a new index, then move the alias to it in one atomic call and delete the old."""
        index = f"{self.alias}-{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
        with reachable():
            # No refreshes and no replicas while filling: faster, and nobody searches this index
            # yet. The configured values are restored before the alias moves to it.
            self.client.indices.create(index=index, mappings=MAPPINGS, settings={**self.settings, **_FILLING})
        try:
            count = self._fill(index, docs, on_progress)
            with reachable():
                self.client.indices.put_settings(
                    index=index, settings={name: self.settings.get(name, SETTINGS.get(name)) for name in _FILLING}
                )
                self.client.indices.refresh(index=index)
                old = self._indices()
                actions = [{"remove": {"index": name, "alias": self.alias}} for name in old]
                self.client.indices.update_aliases(actions=[*actions, {"add": {"index": index, "alias": self.alias}}])
        except BaseException:
            with suppress(TransportError, ApiError):
                self.client.options(ignore_status=404).indices.delete(index=index)
            raise
        with reachable():
            for name in old:
                self.client.options(ignore_status=404).indices.delete(index=name)
        self._ready = True
        return count

    def _fill(self, index: str, docs: Iterable[SearchDocument], on_progress: ProgressCallback | None) -> int:
        """Bulk every document into `index`, REBUILD_REQUESTS requests in flight while the next
        chunk is built.

        Reading and projecting a chunk (database, folding) and Elasticsearch indexing the ones
        before it then overlap, instead of taking turns. A failed request stops the fill.
        """
        count = 0
        in_flight: deque[tuple[Future[None], int]] = deque()
        with ThreadPoolExecutor(max_workers=REBUILD_REQUESTS, thread_name_prefix="es-rebuild") as sender:
            for chunk in chunks(docs, BULK_CHUNK):
                operations = bulk_body(index, chunk)
                if len(in_flight) == REBUILD_REQUESTS:
                    count += _finished(in_flight.popleft(), on_progress, count)
                in_flight.append((sender.submit(self._bulk, operations), len(chunk)))
            while in_flight:
                count += _finished(in_flight.popleft(), on_progress, count)
        return count

    def drop(self) -> None:
        """Delete the alias and every index behind it, and the claim index."""
        with reachable():
            for name in [*self._indices(), claims_index.claim_index(self.alias)]:
                self.client.options(ignore_status=404).indices.delete(index=name)
        self._ready = False
        self._claims_ready = False

    def _ensure_claims(self) -> str:
        index = claims_index.claim_index(self.alias)
        if not self._claims_ready:
            with reachable():
                claims_index.ensure_claim_index(self.client, index)
            self._claims_ready = True
        return index

    def index_claims(self, docs: list[ClaimDocument]) -> None:
        index = self._ensure_claims()
        for operations in claims_index.claim_operations(index, docs):
            self._bulk(operations)
        with reachable():
            # Claims are few and a report arriving next must find the one just indexed.
            self.client.indices.refresh(index=index)

    def match_claims(self, text: str, limit: int) -> list[SearchHit]:
        index = self._ensure_claims()
        request = claims_index.match_request(text, limit)
        if request is None:
            return []
        with reachable():
            response = self.client.search(index=index, **request)
        return claims_index.hits(response)

    def _indices(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            return []


def _finished(in_flight: tuple[Future[None], int], on_progress: ProgressCallback | None, before: int) -> int:
    """Wait for a bulk request (raising what it raised); report progress; return its document count."""
    future, size = in_flight
    future.result()
    if on_progress:
        on_progress(before + size)
    return size


def _scoring_query(query: SearchQuery) -> dict[str, Any]:
    """Text (every folded word, in any folded field) and the filters that apply to facets too."""
    plain: list[dict[str, Any]] = [
        {"terms": {FIELDS[name]: query.filters[name]}} for name in PLAIN_FILTERS if query.filters.get(name)
    ]
    if query.published_from or query.published_to:
        bounds = {"gte": query.published_from, "lte": query.published_to}
        plain.append({"range": {"published_at": {k: v.isoformat() for k, v in bounds.items() if v}}})
    words = search_words(query)
    folded = words.folded
    if not folded:
        return {"bool": {"filter": plain}}
    # The text as typed, analysed as the stored text is ("H'Mông" stays one word there).
    exact = {"multi_match": {"query": nfc(query.text or ""), "fields": ["title^3", "summary^2", "body"]}}
    should: list[dict[str, Any]] = [exact]
    if as_phrase(folded):
        # The words found together, in the order typed, score again (documents.PHRASE_BOOST).
        phrase = _folded_match(folded, phrase=True)
        should.append({"multi_match": {**phrase["multi_match"], "boost": PHRASE_BOOST}})
    return {"bool": {"must": _required(words), "should": should, "filter": plain}}


FOLDED_FIELDS = ["title_folded^3", "summary_folded^2", "body_folded"]


def _required(words: QueryWords) -> list[dict[str, Any]]:
    """Every folded word, in any folded field; a word that spells a name as one word, or the
    name's words found together."""
    if not words.spelled:
        return [_folded_match(words.folded)]
    plain = [forms[0][0] for forms in words.required if len(forms) == 1]
    either = [
        {"bool": {"should": [_folded_match(form, phrase=True) for form in forms], "minimum_should_match": 1}}
        for forms in words.required
        if len(forms) > 1
    ]
    return ([_folded_match(plain)] if plain else []) + either


def _folded_match(words: Sequence[str], *, phrase: bool = False) -> dict[str, Any]:
    """All of `words` in the folded fields, each anywhere, or together in the order given."""
    if phrase:
        return {"multi_match": {"query": " ".join(words), "fields": FOLDED_FIELDS, "type": "phrase"}}
    query = {"query": " ".join(words), "fields": FOLDED_FIELDS, "type": "cross_fields", "operator": "and"}
    return {"multi_match": query}


def _family_count(selected: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The number of families among the hits: aggregations ignore post_filter, so it is applied here.
    Exact up to the precision threshold (40,000 families), approximate beyond."""
    count = {"cardinality": {"field": "family", "precision_threshold": 40000}}
    return {"filter": {"bool": {"filter": list(selected.values())}}, "aggs": {"count": count}}


def _facet_aggregations(selected: dict[str, dict[str, Any]], groups: FacetGroups) -> dict[str, Any]:
    """Per facet, the hits of every other selected facet: choosing a kind still counts the others.
    A facet with groups (`SearchQuery.facet_groups`) counts each group with a `filters`
    aggregation (a document in two members of one group counts once), and its other values alone."""
    aggregations = {}
    for facet in FACETS:
        field, grouped = FIELDS[facet], groups.get(facet, {})
        values: dict[str, Any] = {"field": field, "size": FACET_SIZE}
        aggs: dict[str, Any] = {"values": {"terms": values}}
        if grouped:
            values["exclude"] = sorted({member for group in grouped.values() for member in group})
            filters = {value: {"terms": {field: list(group)}} for value, group in grouped.items()}
            aggs["groups"] = {"filters": {"filters": filters}}
        aggregations[facet] = {
            "filter": {"bool": {"filter": [clause for other, clause in selected.items() if other != facet]}},
            "aggs": aggs,
        }
    return aggregations


def _hit(hit: dict[str, Any]) -> SearchHit:
    """A hit and its stored copy; the copy's id is the hit's (`_id` is written from it)."""
    document = document_from_hit(hit)
    return SearchHit(document.id, hit["_score"], document)


def _facet_counts(aggregations: dict[str, Any]) -> dict[str, list[FacetCount]]:
    facets = {}
    for facet in FACETS:
        buckets = aggregations[facet]["values"]["buckets"]
        counts = [FacetCount(str(bucket["key"]), bucket["doc_count"]) for bucket in buckets]
        grouped = aggregations[facet].get("groups", {}).get("buckets", {})
        counts += [FacetCount(value, bucket["doc_count"]) for value, bucket in grouped.items() if bucket["doc_count"]]
        facets[facet] = sorted(counts, key=lambda c: (-c.count, c.value))
    return facets
