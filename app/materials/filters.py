"""The filters shared by `GET /materials` and `GET /search`, parsed and resolved once.

Names, codes and other names are resolved through the taxonomy (API.md's resolution order);
provinces expand to their whole line of succession, so old and new provinces find each other.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Literal

import anyio
from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from app.db import DbSession
from app.errors import ValidationFailed
from app.materials import languages
from app.schemas import FromTime, ThroughTime
from app.taxonomy import service as taxonomy_service
from app.taxonomy.cache import reference_cache
from app.taxonomy.service import ReferenceData

Kind = Literal[
    "article",
    "news",
    "video",
    "audio",
    "image",
    "infographic",
    "leaflet",
    "radio_script",
    "book",
    "document",
    "rebuttal",
]
# What people read for each kind (search facets, offline packages, pages).
KIND_NAMES = {
    "article": "Bài viết",
    "news": "Tin tức",
    "video": "Video",
    "audio": "Âm thanh",
    "image": "Hình ảnh",
    "infographic": "Đồ họa thông tin",
    "leaflet": "Tờ rơi",
    "radio_script": "Kịch bản phát thanh",
    "book": "Sách",
    "document": "Tài liệu",
    "rebuttal": "Bài phản bác thông tin sai sự thật",
}
Status = Literal["draft", "in_review", "approved", "published", "archived"]
Classification = Literal["public", "internal"]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MaterialFilters:
    ethnic_group: list[str] = field(default_factory=list)
    border_route: list[str] = field(default_factory=list)
    province: list[str] = field(default_factory=list)  # province ids, whole lines of succession
    kind: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    topic: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    classification: list[str] = field(default_factory=list)
    published_from: datetime | None = None
    published_to: datetime | None = None

    def keyword_filters(self) -> dict[str, list[str]]:
        """The given keyword filters, by name; absent ones are left out (they do not restrict)."""
        names = ("ethnic_group", "border_route", "province", "kind", "language", "topic", "status", "classification")
        return {name: getattr(self, name) for name in names if getattr(self, name)}


async def material_filters(
    request: Request,
    session: DbSession,
    ethnic_group: Annotated[list[str], Query(description="Code, name or other name; repeatable")] = [],
    border_route: Annotated[list[str], Query(description="VN-CN, VN-LA, VN-KH or a name; repeatable")] = [],
    province: Annotated[list[str], Query(description="Id, code or name; matches its whole line")] = [],
    kind: Annotated[list[Kind], Query()] = [],
    language: Annotated[list[str], Query(description="BCP 47 tag")] = [],
    topic: Annotated[list[str], Query(description="Topic slug or name")] = [],
    status: Annotated[list[Status], Query()] = [],
    classification: Annotated[list[Classification], Query()] = [],
    published_from: Annotated[FromTime | None, Query(description="A timestamp, or a date: from its start")] = None,
    published_to: Annotated[ThroughTime | None, Query(description="A timestamp, or a date: to its end")] = None,
    on: Annotated[date | None, Query(description="The day a bare province code refers to")] = None,
) -> MaterialFilters:
    """Resolved on the event loop when no taxonomy value is given, or when the taxonomy's reference
    data is in memory and no province is given; otherwise in a worker thread, with the request's
    session (a plain `def` dependency would take a thread hop on every request)."""
    if published_from and published_to and published_from > published_to:
        raise ValidationFailed(["query", "published_from"], "published_from is after published_to.")
    given = _Given(
        ethnic_group,
        border_route,
        province,
        kind,
        language,
        topic,
        status,
        classification,
        published_from,
        published_to,
        on,
    )
    if not (ethnic_group or border_route or province or topic):
        return given.resolve(None, session)
    memory = reference_cache(request)
    data = memory.fresh_data()
    if data is not None and not province:
        return given.resolve(data, session)
    return await anyio.to_thread.run_sync(lambda: given.resolve(memory.data(session), session))


@dataclass(frozen=True)
class _Given:
    """The filters as the query string gave them."""

    ethnic_group: list[str]
    border_route: list[str]
    province: list[str]
    kind: list[str]
    language: list[str]
    topic: list[str]
    status: list[str]
    classification: list[str]
    published_from: datetime | None
    published_to: datetime | None
    on: date | None

    def resolve(self, data: ReferenceData | None, session: Session) -> MaterialFilters:
        """Codes, names and other names resolved through `data` (needed when any is given);
        provinces through `session`. Errors come in the order of the parameters' checks."""
        province_ids = taxonomy_service.resolve_provinces(session, self.province, ["query", "province"], on=self.on)
        return MaterialFilters(
            ethnic_group=_keys(data, "ethnic_group", self.ethnic_group),
            border_route=_keys(data, "border_route", self.border_route),
            province=taxonomy_service.province_line_ids(session, province_ids) if province_ids else [],
            kind=list(dict.fromkeys(self.kind)),
            language=[languages.normalise(tag, ["query", "language"]) for tag in dict.fromkeys(self.language)],
            topic=_keys(data, "topic", self.topic),
            status=list(dict.fromkeys(self.status)),
            classification=list(dict.fromkeys(self.classification)),
            published_from=self.published_from,
            published_to=self.published_to,
        )


def _keys(data: ReferenceData | None, name: str, values: list[str]) -> list[str]:
    if not values:
        return []
    if data is None:
        raise RuntimeError(f"{name} values given without the reference data to resolve them")
    return data.resolve(name, values, ["query", name])


MaterialFiltersDep = Annotated[MaterialFilters, Depends(material_filters)]
