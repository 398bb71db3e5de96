"""The small protocol every search backend implements (Elasticsearch, and the database).

Search is a projection of the database: a backend stores `SearchDocument`s and answers a
`SearchQuery` with ids, scores, a total, disjunctive facet counts and an opaque cursor. A
backend that keeps its documents (Elasticsearch) returns them with the hits; what the API shows
comes from them when their version is the database's, and is read from the database otherwise.
"""

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

# Keyword facets, in the order the API lists them. Province values are province ids.
FACETS: tuple[str, ...] = ("ethnic_group", "border_route", "province", "kind", "language", "topic")
# Health statuses that count as ready: a yellow cluster (replicas missing) still answers every
# search and takes every write.
READY_STATUSES = frozenset({"ok", "green", "yellow"})
# Filters that are not facets.
PLAIN_FILTERS: tuple[str, ...] = ("status", "classification")


@dataclass(frozen=True)
class SearchDocument:
    id: uuid.UUID
    version: int
    title: str
    summary: str
    body: str
    kind: str
    language: str
    classification: str
    status: str
    ethnic_groups: list[str]
    border_routes: list[str]
    provinces: list[str]
    topics: list[str]
    published_at: datetime | None
    updated_at: datetime
    # The translation family: the source's id (a source's is its own); None reads as `id`.
    family: uuid.UUID | None = None


@dataclass(frozen=True)
class ClaimDocument:
    """What the claim index holds: the claim's own text and that of its reports. `status` is
    the claim's, or `merged` for a claim merged into another (never matched)."""

    id: uuid.UUID
    version: int
    status: str
    text: str


# {facet: {value shown: the stored values it stands for}} (SearchQuery.facet_groups)
FacetGroups = Mapping[str, Mapping[str, Sequence[str]]]
# Names written as one word: {the folded word ("hmong", "ede"): the words of the name it joins,
# as a query finds them ((("mong",), ("e", "de"))...)}. From the reference data (SearchQuery.spellings).
# One way of finding a query word: the word itself, or the words of a name it joins, found together.
Form = tuple[str, ...]
Spellings = Mapping[str, tuple[Form, ...]]


@dataclass(frozen=True)
class SearchQuery:
    """Filters are already resolved to stored values: codes, province ids (whole lines), slugs.

    Values OR within a filter, AND across filters. A filter that is absent does not restrict.
    """

    text: str | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    published_from: datetime | None = None
    published_to: datetime | None = None
    sort: Literal["relevance", "newest"] = "relevance"
    limit: int = 20
    cursor: str | None = None
    with_facets: bool = True
    # Facets counted by groups of stored values, not value by value: {facet: {value shown: the
    # stored values it stands for}}. Provinces are counted by line of succession, so that each
    # count is what filtering on that province finds. Stored values in no group count alone.
    facet_groups: FacetGroups = field(default_factory=dict)
    # A query word that is a known name written as one word ("Hmong", "Ede") also finds the
    # name as the texts write it ("H'Mông", "Ê Đê"): the words of the name, found together.
    spellings: Spellings = field(default_factory=dict)
    # One hit per translation family (its best-ranked member); totals count families. Pages
    # then go by offset (the cursor carries it), as Elasticsearch's collapse needs.
    collapse: bool = False


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int


@dataclass(frozen=True)
class SearchHit:
    id: uuid.UUID
    score: float | None
    # The backend's stored copy, when it keeps one (Elasticsearch): what a result item shows,
    # without reading the material back from the database.
    document: SearchDocument | None = None


@dataclass
class SearchPage:
    hits: list[SearchHit]
    total: int
    facets: dict[str, list[FacetCount]]
    next_cursor: str | None


class InvalidCursor(ValueError):
    """The cursor was not made by this backend for this sort."""


class BackendUnavailable(RuntimeError):
    """The backend cannot be reached; callers retry or report, never lose the change."""


ProgressCallback = Callable[[int], None]


class SearchBackend(Protocol):
    name: str

    def ensure_ready(self) -> None:
        """Create what the backend needs (index and alias, tables) if missing."""

    def ping(self) -> bool: ...

    def health(self) -> dict[str, str]:
        """{"status": ...} for /readyz: "ok", "green", "yellow" (ready), "red" or "unavailable"
        (not ready), with a "reason" in words when not ready. Never a host or a secret."""

    def index_many(self, docs: list[SearchDocument]) -> None:
        """Upsert; a document older (by version) than the stored one is ignored."""

    def delete_many(self, items: list[tuple[uuid.UUID, int]]) -> None:
        """Delete (id, version) pairs; a delete older than the stored document is ignored."""

    def search(self, query: SearchQuery) -> SearchPage: ...

    def refresh(self) -> None:
        """Make everything indexed so far visible to search."""

    def rebuild(self, docs: Iterable[SearchDocument], on_progress: ProgressCallback | None = None) -> int:
        """Build a fresh index from `docs` and switch searches to it with no downtime."""

    def drop(self) -> None:
        """Remove everything this backend stored (tests, and `ttdn reindex --drop`)."""

    def index_claims(self, docs: list[ClaimDocument]) -> None:
        """Upsert claims; a document older (by version) than the stored one is ignored."""

    def match_claims(self, text: str, limit: int) -> list[SearchHit]:
        """Claims (not merged ones) whose text shares words with `text`, diacritics folded, best
        first: the candidates that app.claims.matching scores. Scores are the backend's own."""
