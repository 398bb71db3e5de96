"""What a person reads instead of codes: names of ethnic groups, routes, provinces and topics,
Vietnamese labels for kinds and statuses, and dates as they are written in Vietnam.

Everything here is a pure function of the reference tables and the dates given, so a package
rendered twice from one publication reads the same, byte for byte.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.materials.filters import KIND_NAMES
from app.taxonomy import service as taxonomy_service
from app.taxonomy.models import BorderRoute, EthnicGroup, Province, Topic
from app.taxonomy.seed import is_derogatory

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

KINDS = KIND_NAMES
STATUSES = {
    "draft": "Bản nháp",
    "in_review": "Đang duyệt",
    "approved": "Đã duyệt",
    "published": "Đã phát hành",
    "archived": "Đã lưu trữ",
    "recalled": "Đã thu hồi",
    "expired": "Đã hết hạn",
}
PRIORITIES = {"normal": "Thường", "urgent": "Khẩn"}
DELIVERIES = {"pending": "Chưa tải", "fetched": "Đã tải, chưa xác nhận", "acknowledged": "Đã xác nhận"}
CLASSIFICATIONS = {"public": "Công khai", "internal": "Nội bộ"}
LANGUAGES = {
    "vi": "Tiếng Việt",
    "en": "Tiếng Anh",
    "zh": "Tiếng Trung",
    "lo": "Tiếng Lào",
    "km": "Tiếng Khmer",
    "hmn": "Tiếng Mông",
    "hnj": "Tiếng Mông",
    "tyz": "Tiếng Tày",
    "blt": "Tiếng Thái",
    "cja": "Tiếng Chăm",
    "cjm": "Tiếng Chăm",
    "jra": "Tiếng Gia Rai",
    "rad": "Tiếng Ê Đê",
    "bdq": "Tiếng Ba Na",
}


def label(table: dict[str, str], code: str | None) -> str:
    return table.get(code or "", code or "")


def language_name(tag: str | None) -> str:
    if not tag:
        return ""
    return LANGUAGES.get(tag, LANGUAGES.get(tag.split("-")[0].lower(), tag))


def local(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.astimezone(VIETNAM) if at.tzinfo else at.replace(tzinfo=VIETNAM)


def vn_date(value: datetime | str | None) -> str:
    """02/12/2026 (the day in Vietnam)."""
    at = local(value)
    return at.strftime("%d/%m/%Y") if at else ""


def vn_datetime(value: datetime | str | None) -> str:
    """14:30 02/12/2026 (time in Vietnam)."""
    at = local(value)
    return at.strftime("%H:%M %d/%m/%Y") if at else ""


def vn_size(size: int) -> str:
    """A file size as people read it, with a decimal comma: 1,5 MB."""
    value, unit = float(size), "byte"
    for name in ("KB", "MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, name
    if unit == "byte":
        return f"{size} byte"
    return f"{value:.1f}".replace(".", ",") + f" {unit}"


@dataclass(frozen=True)
class Group:
    name: str
    other_names: tuple[str, ...]


@dataclass(frozen=True)
class Names:
    """The reference tables, read once per package or page."""

    groups: dict[str, Group]
    routes: dict[str, str]
    topics: dict[str, str]
    provinces: dict[str, Province]
    successors: dict[str, list[str]]
    predecessors: dict[str, list[str]]

    @classmethod
    def load(cls, session: Session) -> "Names":
        groups = {g.code: Group(g.name, _shown_names(g)) for g in session.scalars(select(EthnicGroup))}
        links = taxonomy_service.province_links(session)
        return cls(
            groups=groups,
            routes={r.code: r.name for r in session.scalars(select(BorderRoute))},
            topics={t.slug: t.name for t in session.scalars(select(Topic))},
            provinces={str(p.id): p for p in session.scalars(select(Province))},
            successors={str(k): [str(v) for v in vs] for k, vs in links.successors.items()},
            predecessors={str(k): [str(v) for v in vs] for k, vs in links.predecessors.items()},
        )

    def ethnic_groups(self, codes: Iterable[str]) -> list[Group]:
        return [self.groups.get(code, Group(code, ())) for code in codes]

    def route_names(self, codes: Iterable[str]) -> list[str]:
        return [self.routes.get(code, code) for code in codes]

    def topic_names(self, slugs: Iterable[str]) -> list[str]:
        return [self.topics.get(slug, slug) for slug in slugs]

    def province_names(self, ids: Iterable[str | uuid.UUID], on: date, now: date) -> list[str]:
        """Each province under its name on `on` (the publication date), followed by the name in
        force on `now` (the bundle's release) when the province has been merged or renamed since."""
        out = []
        for province_id in ids:
            then = self._name_on(str(province_id), on)
            later = self._name_on(str(province_id), now)
            out.append(then if later in ("", then) else f"{then} (nay là {later})")
        return [name for name in out if name]

    def _name_on(self, province_id: str, day: date) -> str:
        province = self.provinces.get(province_id)
        if province is None:
            return ""
        if taxonomy_service.valid_on(province, day):
            return province.name
        after = province.valid_until is not None and day > province.valid_until
        links = self.successors if after else self.predecessors
        names = [
            self.provinces[p].name
            for p in taxonomy_service.reachable(province_id, links)
            if taxonomy_service.valid_on(self.provinces[p], day)
        ]
        return " / ".join(dict.fromkeys(sorted(names))) or province.name


def _shown_names(group: EthnicGroup) -> tuple[str, ...]:
    """Other names a reader may see: never the derogatory exonyms the taxonomy hides."""
    hidden = {name.casefold() for name in group.hidden_names}
    return tuple(name for name in group.other_names if name.casefold() not in hidden and not is_derogatory(name))
