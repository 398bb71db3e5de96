"""What GET /search answers (API.md, Search)."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class FacetValue(BaseModel):
    value: str = Field(description="The stored value: a code, a province id, a slug, a kind or a language tag")
    name: str
    count: int


class SearchItem(BaseModel):
    """One hit: what its search document shows, with its highlights."""

    id: uuid.UUID
    title: str
    summary: str
    kind: str
    language: str
    ethnic_groups: list[str]
    border_routes: list[str]
    provinces: list[str]
    topics: list[str]
    status: str
    published_at: datetime | None
    languages: list[str] | None = Field(
        default=None, description="With collapse=translations: every language the hit's translation family exists in"
    )
    highlights: dict[str, list[str]] = Field(
        description="Per field (title, summary, body), fragments of the text with the matches in <mark>; "
        "everything else HTML-escaped"
    )


class SearchResults(BaseModel):
    total: int
    items: list[SearchItem]
    facets: dict[str, list[FacetValue]] = Field(
        description="Counts per value; each facet ignores its own filter, so other values stay visible"
    )
    next_cursor: str | None
