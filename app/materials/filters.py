"""The filters shared by `GET /materials` and `GET /search`, parsed and resolved once.

Names, codes and other names are resolved through the taxonomy (API.md's resolution order);
provinces expand to their whole line of succession, so old and new provinces find each other.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Depends, Query

from app.db import DbSession
from app.errors import ValidationFailed
from app.materials import languages
from app.schemas import Timestamp
from app.taxonomy import service as taxonomy_service

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


def material_filters(
    session: DbSession,
    ethnic_group: Annotated[list[str], Query(description="Code, name or other name; repeatable")] = [],
    border_route: Annotated[list[str], Query(description="VN-CN, VN-LA, VN-KH or a name; repeatable")] = [],
    province: Annotated[list[str], Query(description="Id, code or name; matches its whole line")] = [],
    kind: Annotated[list[Kind], Query()] = [],
    language: Annotated[list[str], Query(description="BCP 47 tag")] = [],
    topic: Annotated[list[str], Query(description="Topic slug or name")] = [],
    status: Annotated[list[Status], Query()] = [],
    classification: Annotated[list[Classification], Query()] = [],
    published_from: Annotated[Timestamp | None, Query()] = None,
    published_to: Annotated[Timestamp | None, Query()] = None,
    on: Annotated[date | None, Query(description="The day a bare province code refers to")] = None,
) -> MaterialFilters:
    if published_from and published_to and published_from > published_to:
        raise ValidationFailed(["query", "published_from"], "published_from is after published_to.")
    province_ids = taxonomy_service.resolve_provinces(session, province, ["query", "province"], on=on)
    return MaterialFilters(
        ethnic_group=taxonomy_service.resolve_ethnic_groups(session, ethnic_group, ["query", "ethnic_group"]),
        border_route=taxonomy_service.resolve_border_routes(session, border_route, ["query", "border_route"]),
        province=taxonomy_service.province_line_ids(session, province_ids) if province_ids else [],
        kind=list(dict.fromkeys(kind)),
        language=[languages.normalise(tag, ["query", "language"]) for tag in dict.fromkeys(language)],
        topic=taxonomy_service.resolve_topics(session, topic, ["query", "topic"]),
        status=list(dict.fromkeys(status)),
        classification=list(dict.fromkeys(classification)),
        published_from=published_from,
        published_to=published_to,
    )


MaterialFiltersDep = Annotated[MaterialFilters, Depends(material_filters)]
