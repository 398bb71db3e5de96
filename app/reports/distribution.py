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
from app.reports.sql import hours_between, percentiles, share
from app.reports.tables import query_table
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


def _stats(keyed: Any, keys: list[str]) -> Any:
    """Per key: units, deliveries, fetched, acknowledged, shares and median hours (all SQL)."""
    key_cols = [keyed.c[k] for k in keys]
    counts = (
        select(
            *key_cols,
            func.count(func.distinct(keyed.c.unit_id)).label("units"),
            func.count(keyed.c.bundle_id).label("deliveries"),
            func.count(keyed.c.fetched_at).label("fetched"),
            func.count(keyed.c.acknowledged_at).label("acknowledged"),
        )
        .group_by(*key_cols)
        .subquery("counts")
    )
    fetch = percentiles(select(*key_cols, keyed.c.fetch_hours), keys, "fetch_hours", (50,)).subquery("pf")
    ack = percentiles(select(*key_cols, keyed.c.ack_hours), keys, "ack_hours", (50,)).subquery("pa")
    query = select(
        *[counts.c[k] for k in keys],
        counts.c.units,
        counts.c.deliveries,
        counts.c.fetched,
        counts.c.acknowledged,
        share(counts.c.fetched, counts.c.deliveries).label("share_fetched"),
        share(counts.c.acknowledged, counts.c.deliveries).label("share_acknowledged"),
        fetch.c.p50.label("median_hours_to_fetch"),
        ack.c.p50.label("median_hours_to_acknowledge"),
    )
    if not keys:
        return query.select_from(counts).outerjoin(fetch, literal(True)).outerjoin(ack, literal(True))
    return (
        query.select_from(counts)
        .outerjoin(fetch, and_(*[fetch.c[k] == counts.c[k] for k in keys]))
        .outerjoin(ack, and_(*[ack.c[k] == counts.c[k] for k in keys]))
        .order_by(*[counts.c[k] for k in keys])
    )


def distribution_report(session: Session, params: ReportParams, silent_days: int = 30) -> dict[str, Any]:
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
    )
    summary = query_table(session, "Tổng quan", STAT_COLUMNS, _stats(select(*dv.c).subquery("all"), []))
    summary["columns"].insert(0, {"key": "bundles_published", "label": "Gói đã phát hành"})
    summary["rows"][0]["bundles_published"] = session.scalar(published)
    return {
        "report": "distribution",
        "parameters": {**params.as_dict(), "silent_days": silent_days},
        "tables": {
            "summary": summary,
            "by_province": query_table(
                session,
                "Theo tỉnh (theo dòng kế thừa)",
                [("province_id", "Mã tỉnh (id)"), ("province", "Tỉnh"), *STAT_COLUMNS],
                _stats(by_province, ["province_id", "province"]),
            ),
            "by_border_route": query_table(
                session,
                "Theo tuyến biên giới",
                [("border_route", "Tuyến"), *STAT_COLUMNS],
                _stats(by_route, ["border_route"]),
            ),
            "by_unit_type": query_table(
                session,
                "Theo loại đơn vị",
                [("unit_type", "Loại đơn vị"), *STAT_COLUMNS],
                _stats(by_type, ["unit_type"]),
            ),
            "silent_units": _silent_units(session, su, lines, silent_days),
        },
    }


SILENT_COLUMNS = [
    ("code", "Mã đơn vị"),
    ("name", "Đơn vị"),
    ("unit_type", "Loại"),
    ("province", "Tỉnh"),
    ("last_fetched_at", "Lần tải gói gần nhất"),
    ("last_key_use_at", "Lần dùng khóa gần nhất"),
]


def _silent_units(session: Session, su: Any, lines: Any, days: int) -> dict[str, Any]:
    """Active units in scope that neither fetched a bundle nor used their key for `days` days."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    fetched = select(Delivery.unit_id, func.max(Delivery.fetched_at).label("at")).group_by(Delivery.unit_id).subquery()
    used = select(ApiKey.unit_id, func.max(ApiKey.last_used_at).label("at")).group_by(ApiKey.unit_id).subquery()
    query = (
        select(
            su.c.code,
            su.c.name,
            su.c.type.label("unit_type"),
            lines.c.line_name.label("province"),
            fetched.c.at.label("last_fetched_at"),
            used.c.at.label("last_key_use_at"),
        )
        .outerjoin(fetched, fetched.c.unit_id == su.c.id)
        .outerjoin(used, used.c.unit_id == su.c.id)
        .outerjoin(lines, lines.c.province_id == su.c.province)
        .where(
            (fetched.c.at.is_(None) | (fetched.c.at < cutoff)),
            (used.c.at.is_(None) | (used.c.at < cutoff)),
        )
        .order_by(fetched.c.at.is_not(None), fetched.c.at, su.c.code)
    )
    return query_table(session, f"Đơn vị im lặng (không tải trong {days} ngày)", SILENT_COLUMNS, query)
