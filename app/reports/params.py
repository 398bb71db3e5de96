"""The parameters every report takes: a period and optional border routes and provinces."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Query

from app.db import DbSession
from app.errors import ValidationFailed
from app.taxonomy import service as taxonomy_service

FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class ReportParams:
    """`date_from` and `date_to` are whole days, both included; routes are codes; provinces
    are the ids of their whole lines of succession."""

    date_from: date
    date_to: date
    border_routes: list[str] = field(default_factory=list)
    provinces: list[str] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.date_to + timedelta(days=1), time.min, UTC)

    def as_dict(self) -> dict[str, object]:
        return {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "border_routes": self.border_routes,
            "provinces": self.provinces,
        }


def check_year(year: int, loc: list[str | int]) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed(loc, f"The year must be between {FIRST_YEAR} and {LAST_YEAR}.")
    return year


def build_params(
    session: DbSession,
    date_from: date | None,
    date_to: date | None,
    border_route: list[str] | None = None,
    province: list[str] | None = None,
) -> ReportParams:
    """Defaults: from the first of January of `to`'s year to today. `from` after `to` is a 422."""
    date_to = date_to or datetime.now(UTC).date()
    check_year(date_to.year, ["query", "to"])  # first: a `from` left out is taken from `to`
    date_from = date_from or date(date_to.year, 1, 1)
    check_year(date_from.year, ["query", "from"])
    if date_from > date_to:
        raise ValidationFailed(["query", "from"], f"from ({date_from}) is after to ({date_to}).")
    routes = taxonomy_service.resolve_border_routes(session, border_route or [], ["query", "border_route"])
    ids = taxonomy_service.resolve_provinces(session, province or [], ["query", "province"])
    lines = taxonomy_service.province_line_ids(session, ids) if ids else []
    return ReportParams(date_from=date_from, date_to=date_to, border_routes=routes, provinces=lines)


def report_params(
    session: DbSession,
    date_from: Annotated[date | None, Query(alias="from", description="First day (default: 1 January)")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="Last day, included (default: today)")] = None,
    border_route: Annotated[list[str] | None, Query(description="Code or name; repeatable")] = None,
    province: Annotated[list[str] | None, Query(description="Code, id or name; its whole line counts")] = None,
) -> ReportParams:
    return build_params(session, date_from, date_to, border_route, province)


ReportParamsDep = Annotated[ReportParams, Depends(report_params)]
