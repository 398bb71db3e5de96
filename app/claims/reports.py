"""Response aggregates for the monitoring reports: how fast false stories were answered.

`response_summary()` is computed in SQL on SQLite and PostgreSQL alike (window functions, no
loop over rows in Python). Over the claims first reported in [date_from, date_to), not merged
into another, optionally on one border route and/or in some provinces:
- claims by status and by severity;
- time to rebuttal (first report -> rebutted_at) and time to delivery (first report -> the first
  release of a rebuttal bundle of the claim), in hours, p50 and p90 (nearest rank), each by
  border route, by severity and by month of the first report;
- the overdue claims (open, past their deadline), most overdue first.
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.bundles.models import Bundle
from app.claims.models import OPEN_STATUSES, Claim, ClaimRebuttal, ClaimTag
from app.db import utcnow

PERCENTILES = {"p50": (1, 2), "p90": (9, 10)}  # p = a/b: the first rank r with b*r >= a*n


def _hours(session: Session, later: Any, earlier: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return sa.extract("epoch", later - earlier) / 3600.0
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 24.0


def _month(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def _scope(
    date_from: datetime, date_to: datetime, border_route: str | list[str] | None, provinces: list[str] | None
) -> list:
    conditions = [
        Claim.first_reported_at >= date_from,
        Claim.first_reported_at < date_to,
        Claim.merged_into_id.is_(None),
    ]
    routes = [border_route] if isinstance(border_route, str) else list(border_route or [])
    for facet, values in (("border_route", routes), ("province", provinces or [])):
        if values:
            conditions.append(
                sa.exists().where(ClaimTag.claim_id == Claim.id, ClaimTag.facet == facet, ClaimTag.value.in_(values))
            )
    return conditions


def _durations(session: Session, kind: str, scope: list) -> sa.Subquery:
    """(claim_id, severity, month, hours) of each claim in scope that reached the milestone."""
    if kind == "rebuttal":
        stmt = sa.select(
            Claim.id.label("claim_id"),
            Claim.severity.label("severity"),
            _month(session, Claim.first_reported_at).label("month"),
            _hours(session, Claim.rebutted_at, Claim.first_reported_at).label("hours"),
        ).where(Claim.rebutted_at.is_not(None), *scope)
    else:
        released = (
            sa.select(ClaimRebuttal.claim_id, sa.func.min(Bundle.published_at).label("at"))
            .join(Bundle, Bundle.id == ClaimRebuttal.bundle_id)
            .where(Bundle.published_at.is_not(None))
            .group_by(ClaimRebuttal.claim_id)
            .subquery()
        )
        stmt = (
            sa.select(
                Claim.id.label("claim_id"),
                Claim.severity.label("severity"),
                _month(session, Claim.first_reported_at).label("month"),
                _hours(session, released.c.at, Claim.first_reported_at).label("hours"),
            )
            .join(released, released.c.claim_id == Claim.id)
            .where(*scope)
        )
    return stmt.subquery()


def _percentiles(session: Session, durations: sa.Subquery) -> list[dict[str, Any]]:
    """p50/p90 of `hours` grouped by route, severity and month: one statement."""
    route = sa.select(
        sa.literal("border_route").label("dimension"), ClaimTag.value.label("value"), durations.c.hours
    ).join(ClaimTag, sa.and_(ClaimTag.claim_id == durations.c.claim_id, ClaimTag.facet == "border_route"))
    severity = sa.select(sa.literal("severity"), durations.c.severity, durations.c.hours)
    month = sa.select(sa.literal("month"), durations.c.month, durations.c.hours)
    rows = sa.union_all(route, severity, month).subquery()
    partition = (rows.c.dimension, rows.c.value)
    ranked = sa.select(
        rows.c.dimension,
        rows.c.value,
        rows.c.hours,
        sa.func.row_number().over(partition_by=partition, order_by=rows.c.hours).label("rank"),
        sa.func.count().over(partition_by=partition).label("n"),
    ).subquery()
    columns = [
        sa.func.min(sa.case((ranked.c.rank * b >= ranked.c.n * a, ranked.c.hours))).label(name)
        for name, (a, b) in PERCENTILES.items()
    ]
    stmt = (
        sa.select(ranked.c.dimension, ranked.c.value, sa.func.max(ranked.c.n).label("count"), *columns)
        .group_by(ranked.c.dimension, ranked.c.value)
        .order_by(ranked.c.dimension, ranked.c.value)
    )
    return [
        {
            "dimension": row.dimension,
            "value": row.value,
            "count": row.count,
            **{name: round(float(getattr(row, name)), 2) for name in PERCENTILES},
        }
        for row in session.execute(stmt)
    ]


def _counts(session: Session, column: Any, scope: list) -> dict[str, int]:
    return dict(session.execute(sa.select(column, sa.func.count()).where(*scope).group_by(column)).all())


def response_summary(
    session: Session,
    date_from: datetime,
    date_to: datetime,
    border_route: str | list[str] | None = None,
    province: list[str] | None = None,
) -> dict[str, Any]:
    """The response tables (see the module docstring). `border_route` is a route code (or several) and
    `province` a list of province ids (a whole line of succession), both already resolved."""
    scope = _scope(date_from, date_to, border_route, province)
    now = utcnow()
    overdue = session.execute(
        sa.select(Claim.id, Claim.title, Claim.severity, Claim.status, Claim.deadline_at)
        .where(*scope, Claim.status.in_(OPEN_STATUSES), Claim.deadline_at < now)
        .order_by(Claim.deadline_at, Claim.id)
    ).all()
    return {
        "claims_by_status": _counts(session, Claim.status, scope),
        "claims_by_severity": _counts(session, Claim.severity, scope),
        "time_to_rebuttal_hours": _percentiles(session, _durations(session, "rebuttal", scope)),
        "time_to_delivery_hours": _percentiles(session, _durations(session, "delivery", scope)),
        "overdue": [
            {
                "claim_id": str(row.id),
                "title": row.title,
                "severity": row.severity,
                "status": row.status,
                "deadline_at": row.deadline_at.isoformat(),
                "hours_overdue": round((now - row.deadline_at).total_seconds() / 3600, 2),
            }
            for row in overdue
        ],
    }
