"""Distribution: bundles published, deliveries, the share fetched and acknowledged, and the
median time to fetch and to acknowledge, by province (whole lines of succession), border route
and unit type; and the units that have gone silent."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from app.bundles.models import BundlePublication, Delivery
from app.reports import reference
from app.reports.params import ReportParams
from app.reports.sql import hours_between, on_postgresql, percentile_disc, percentiles, prepare, share
from app.reports.tables import Spec, query_tables
from app.taxonomy.models import BorderRoute
from app.units.models import ApiKey, Unit

STAT_COLUMNS = [
    ("units", "Số đơn vị"),
    ("deliveries", "Lượt gửi"),
    ("fetched", "Đã tải"),
    ("acknowledged", "Đã xác nhận"),
    ("share_fetched", "Tỷ lệ đã tải"),
    ("share_acknowledged", "Tỷ lệ đã xác nhận"),
    ("median_hours_to_fetch", "Trung vị giờ đến khi tải"),
    ("median_hours_to_acknowledge", "Trung vị giờ đến khi xác nhận"),
]


def scoped_units(params: ReportParams) -> Any:
    routes_text = cast(Unit.border_routes, String)
    query = select(Unit.id, Unit.code, Unit.name, Unit.type, Unit.province, routes_text.label("routes_text")).where(
        Unit.active.is_(True)
    )
    if params.provinces:
        query = query.where(cast(Unit.province, String).in_(params.provinces))
    if params.border_routes:
        query = query.where(or_(*[routes_text.like(f'%"{code}"%') for code in params.border_routes]))
    return query.cte("su")


def deliveries_in_period(params: ReportParams, su: Any) -> Any:
    """CTE: one row per delivery made in the period to a unit in scope, with its durations in hours."""
    return (
        select(
            su.c.id.label("unit_id"),
            su.c.province,
            su.c.type,
            su.c.routes_text,
            Delivery.bundle_id,
            Delivery.fetched_at,
            Delivery.acknowledged_at,
            hours_between(Delivery.created_at, Delivery.fetched_at).label("fetch_hours"),
            hours_between(Delivery.created_at, Delivery.acknowledged_at).label("ack_hours"),
        )
        .join(su, su.c.id == Delivery.unit_id)
        .where(Delivery.created_at >= params.start, Delivery.created_at < params.end)
        .cte("dv")
    )


def _stats(keyed: Any, keys: list[str], postgresql: bool) -> Any:
    """Per key: units, deliveries, fetched, acknowledged, shares and median hours (all SQL)."""
    key_cols = [keyed.c[k] for k in keys]
    counts = [
        func.count(func.distinct(keyed.c.unit_id)).label("units"),
        func.count(keyed.c.bundle_id).label("deliveries"),
        func.count(keyed.c.fetched_at).label("fetched"),
        func.count(keyed.c.acknowledged_at).label("acknowledged"),
    ]
    if postgresql:  # one pass: the medians are aggregates like the counts
        medians = [
            percentile_disc(keyed.c.fetch_hours, 50).label("p_fetch"),
            percentile_disc(keyed.c.ack_hours, 50).label("p_ack"),
        ]
        counted = select(*key_cols, *counts, *medians).group_by(*key_cols).subquery("counts")
        fetch, ack = counted.c.p_fetch, counted.c.p_ack
    else:
        counted = select(*key_cols, *counts).group_by(*key_cols).subquery("counts")
        fetch_rows = percentiles(select(*key_cols, keyed.c.fetch_hours), keys, "fetch_hours", (50,)).subquery("pf")
        ack_rows = percentiles(select(*key_cols, keyed.c.ack_hours), keys, "ack_hours", (50,)).subquery("pa")
        fetch, ack = fetch_rows.c.p50, ack_rows.c.p50
    query = select(
        *[counted.c[k] for k in keys],
        counted.c.units,
        counted.c.deliveries,
        counted.c.fetched,
        counted.c.acknowledged,
        share(counted.c.fetched, counted.c.deliveries).label("share_fetched"),
        share(counted.c.acknowledged, counted.c.deliveries).label("share_acknowledged"),
        fetch.label("median_hours_to_fetch"),
        ack.label("median_hours_to_acknowledge"),
    ).select_from(counted)
    if not postgresql:
        for rows in (fetch_rows, ack_rows):
            query = query.outerjoin(rows, and_(*[rows.c[k] == counted.c[k] for k in keys]) if keys else literal(True))
    return query.order_by(*[counted.c[k] for k in keys])


def distribution_report(session: Session, params: ReportParams, silent_days: int = 30) -> dict[str, Any]:
    prepare(session)
    postgresql = on_postgresql(session)
    su = scoped_units(params)
    dv = deliveries_in_period(params, su)
    lines = reference.province_line_table(session).cte("lines")
    by_province = (
        select(cast(lines.c.line_id, String).label("province_id"), lines.c.line_name.label("province"), *dv.c)
        .join(lines, lines.c.province_id == dv.c.province)
        .subquery("kp")
    )
    routes_like = dv.c.routes_text.like(literal('%"') + BorderRoute.code + literal('"%'))
    by_route = select(BorderRoute.code.label("border_route"), *dv.c).join(BorderRoute, routes_like).subquery("kr")
    by_type = select(dv.c.type.label("unit_type"), *dv.c).subquery("kt")
    published = (
        select(func.count(func.distinct(BundlePublication.bundle_id)))
        .where(BundlePublication.published_at >= params.start, BundlePublication.published_at < params.end)
        .where(select(dv.c.bundle_id).where(dv.c.bundle_id == BundlePublication.bundle_id).exists())
        .scalar_subquery()
    )
    summary = _stats(select(*dv.c).subquery("all"), [], postgresql).add_columns(published.label("bundles_published"))
    specs: dict[str, Spec] = {
        "summary": ("Tổng quan", [("bundles_published", "Gói đã phát hành"), *STAT_COLUMNS], summary),
        "by_province": (
            "Theo tỉnh (theo dòng kế thừa)",
            [("province_id", "Mã tỉnh (id)"), ("province", "Tỉnh"), *STAT_COLUMNS],
            _stats(by_province, ["province_id", "province"], postgresql),
        ),
        "by_border_route": (
            "Theo tuyến biên giới",
            [("border_route", "Tuyến"), *STAT_COLUMNS],
            _stats(by_route, ["border_route"], postgresql),
        ),
        "by_unit_type": (
            "Theo loại đơn vị",
            [("unit_type", "Loại đơn vị"), *STAT_COLUMNS],
            _stats(by_type, ["unit_type"], postgresql),
        ),
        "silent_units": _silent_units(su, lines, silent_days),
    }
    return {
        "report": "distribution",
        "parameters": {**params.as_dict(), "silent_days": silent_days},
        "tables": query_tables(session, specs),
    }


SILENT_COLUMNS = [
    ("code", "Mã đơn vị"),
    ("name", "Đơn vị"),
    ("unit_type", "Loại"),
    ("province", "Tỉnh"),
    ("last_fetched_at", "Lần tải gói gần nhất"),
    ("last_key_use_at", "Lần dùng khóa gần nhất"),
]


def _silent_units(su: Any, lines: Any, days: int) -> Spec:
    """Active units in scope that neither fetched a bundle nor used their key for `days` days.
    Each unit's last fetch and last key use are looked up by index (unit, time), not aggregated
    over every delivery."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    last_fetch = select(func.max(Delivery.fetched_at)).where(Delivery.unit_id == su.c.id).scalar_subquery()
    last_use = select(func.max(ApiKey.last_used_at)).where(ApiKey.unit_id == su.c.id).scalar_subquery()
    seen = select(su, last_fetch.label("fetched_at"), last_use.label("used_at")).subquery("last_seen")
    query = (
        select(
            seen.c.code,
            seen.c.name,
            seen.c.type.label("unit_type"),
            lines.c.line_name.label("province"),
            seen.c.fetched_at.label("last_fetched_at"),
            seen.c.used_at.label("last_key_use_at"),
        )
        .outerjoin(lines, lines.c.province_id == seen.c.province)
        .where(
            (seen.c.fetched_at.is_(None) | (seen.c.fetched_at < cutoff)),
            (seen.c.used_at.is_(None) | (seen.c.used_at < cutoff)),
        )
        .order_by(seen.c.fetched_at.is_not(None), seen.c.fetched_at, seen.c.code)
    )
    return f"Đơn vị im lặng (không tải trong {days} ngày)", SILENT_COLUMNS, query
