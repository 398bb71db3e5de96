"""What the search backends share: the `SearchDocument` of a material, sort modes and cursors."""

import hashlib
import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

import orjson

from app.materials.models import Material, tag_lists
from app.pagination import decode_values, encode_values
from app.schemas import to_utc
from app.search.backend import Form, InvalidCursor, SearchDocument, SearchQuery
from app.text import folded_texts, folded_words, query_words

T = TypeVar("T")

# How much more a query's words found together, in the order typed, weigh than each word found
# alone: "Cơ Lao" (a people) ranks above "lao động ở cơ sở". For queries of 2 to PHRASE_MAX_WORDS
# words, on the folded text (the exact words already favour the exact spelling): a boost on
# PostgreSQL and Elasticsearch; SQLite's bm25 weighs the phrase once, like another word.
PHRASE_BOOST = 5
PHRASE_MAX_WORDS = 8


def as_phrase(words: list[str]) -> list[str] | None:
    """The query's words as one phrase to score, or None (one word, or too many to be a name)."""
    return words if 1 < len(words) <= PHRASE_MAX_WORDS else None


@dataclass(frozen=True)
class QueryWords:
    """What the backends search for a query's text.

    `required`: per folded word, in the order typed, the forms any of which a match must hold
    (most words have one: themselves); `exact`: the words as typed, which add to the score;
    `folded`: the folded words as typed, for the phrase bonus (`as_phrase`)."""

    folded: list[str]
    exact: list[str]
    required: list[tuple[Form, ...]]

    @property
    def spelled(self) -> bool:
        """Whether some word has more than one form (the plain query paths do not apply)."""
        return any(len(forms) > 1 for forms in self.required)

    @property
    def extra_forms(self) -> tuple[Form, ...]:
        """The forms that are not a word as typed: what a highlight marks too."""
        return tuple(form for forms in self.required for form in forms[1:])


def search_words(query: SearchQuery) -> QueryWords:
    folded, exact = query_words(query.text or "")
    return QueryWords(folded, exact, [((word,), *query.spellings.get(word, ())) for word in folded])


def document_for(material: Material) -> SearchDocument:
    """The search projection of `material`, tags loaded (province values are id strings)."""
    return SearchDocument(
        id=material.id,
        version=material.version,
        title=material.title,
        summary=material.summary or "",
        body=material.body or "",
        kind=material.kind,
        language=material.language,
        classification=material.classification,
        status=material.status,
        **tag_lists(material),
        published_at=material.published_at,
        updated_at=material.updated_at,
        family=material.translation_of or material.id,
    )


def folded_fields(docs: Sequence[SearchDocument]) -> list[tuple[str, str, str]]:
    """Each document's title, summary and body folded (`folded_texts`: all of them at once)."""
    texts = iter(folded_texts([text for doc in docs for text in (doc.title, doc.summary, doc.body)]))
    return list(zip(texts, texts, texts, strict=True))


def facet_values(doc: SearchDocument) -> dict[str, list[str]]:
    """The document's value(s) for every facet, keyed like `FACETS`."""
    return {
        "ethnic_group": list(doc.ethnic_groups),
        "border_route": list(doc.border_routes),
        "province": list(doc.provinces),
        "kind": [doc.kind],
        "language": [doc.language],
        "topic": list(doc.topics),
    }


def effective_sort(query: SearchQuery) -> str:
    """Relevance needs words to rank by; without them it sorts like `newest`."""
    if query.sort == "relevance" and folded_words(query.text or ""):
        return "relevance"
    return "newest"


def query_key(query: SearchQuery) -> str:
    """What a cursor is bound to: the search's text, filters and date bounds (not its limit). A
    cursor carries the last hit's sort values; after them, in another search, it means nothing."""
    parts = [
        query.text or "",
        sorted((name, sorted(values)) for name, values in query.filters.items() if values),
        [bound.isoformat() if bound else None for bound in (query.published_from, query.published_to)],
    ]
    return hashlib.sha256(orjson.dumps(parts)).hexdigest()[:16]


def encode_cursor(query: SearchQuery, sort: str, after: list[Any]) -> str:
    """Opaque to clients: the search it was made for, its sort and the last hit's sort values."""
    return encode_values({"s": sort, "k": query_key(query), "a": after})


def decode_cursor(query: SearchQuery, sort: str, parsers: tuple[Callable[[Any], Any], ...]) -> list[Any]:
    """The sort values in `query.cursor`, each read by its parser; InvalidCursor if it is garbage
    or was made for another sort or another search."""
    try:
        data = decode_values(query.cursor or "")
        if not isinstance(data, dict):
            raise TypeError("not an object")
        after = data["a"]
        if data["s"] != sort:
            raise InvalidCursor("The cursor was made for another sort order.")
        if data["k"] != query_key(query):
            raise InvalidCursor("The cursor was made for another search; send it with the q and filters it came with.")
        if not isinstance(after, list) or len(after) != len(parsers):
            raise ValueError("wrong number of sort values")
        return [parse(value) for parse, value in zip(parsers, after, strict=True)]
    except InvalidCursor:
        raise
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        # RecursionError: deeply nested JSON, which no cursor of ours ever is.
        raise InvalidCursor("The cursor is not one this search made.") from exc


# Sort values are 64-bit on every backend (Elasticsearch longs, SQLite and PostgreSQL integers).
_INT64 = range(-(2**63), 2**63)


def number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError("not a finite number")
    return float(value)


def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in _INT64:
        raise TypeError("not a 64-bit integer")
    return value


def keyword(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def uuid_text(value: Any) -> str:
    return str(uuid.UUID(keyword(value)))


def aware_datetime(value: Any) -> datetime:
    return to_utc(datetime.fromisoformat(keyword(value)))


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
