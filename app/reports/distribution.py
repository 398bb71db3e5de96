"""Distribution: bundles published, deliveries, the share fetched and acknowledged, and the
median time to fetch and to acknowledge, by province (whole lines of succession), border route
and unit type; and the units that have gone silent."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, and_, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from app.bundles.models import BundlePublication, Delivery
from app.reports import reference
from app.reports.params import ReportParams
from app.reports.sql import duration_between, hours_of, on_postgresql, percentile_disc, percentiles, prepare, share
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
    """CTE: one row per delivery made in the period to a unit in scope, with the unit's type and
    the waits to fetch and to acknowledge (duration_between: what the medians sort)."""
    return (
        select(
            su.c.id.label("unit_id"),
            su.c.type,
            Delivery.fetched_at,
            Delivery.acknowledged_at,
            duration_between(Delivery.created_at, Delivery.fetched_at).label("fetch_wait"),
            duration_between(Delivery.created_at, Delivery.acknowledged_at).label("ack_wait"),
        )
        .join(su, su.c.id == Delivery.unit_id)
        .where(Delivery.created_at >= params.start, Delivery.created_at < params.end)
        .cte("dv")
    )


def deliveries_per_unit(su: Any, dv: Any) -> Any:
    """CTE: per unit in scope that got deliveries in the period, how many, fetched and
    acknowledged. Every grouping (province, route, type) is a property of the unit, so a group's
    counts are sums over its few units, and its number of units a count(*) of them, rather than
    a count(DISTINCT unit) that sorts every delivery of every group."""
    got = (
        select(
            dv.c.unit_id,
            func.count().label("deliveries"),
            func.count(dv.c.fetched_at).label("fetched"),
            func.count(dv.c.acknowledged_at).label("acknowledged"),
        )
        .group_by(dv.c.unit_id)
        .subquery("got")
    )
    return (
        select(su.c.id.label("unit_id"), su.c.province, su.c.type, su.c.routes_text, *list(got.c)[1:])
        .join(got, got.c.unit_id == su.c.id)
        .cte("du")
    )


def _stats(units: Any, deliveries: Any, keys: list[str], postgresql: bool) -> Any:
    """Per key: units, deliveries, fetched, acknowledged, shares and median hours (all SQL).
    `units` has a row per unit with its counts (deliveries_per_unit), `deliveries` a row per
    delivery with its waits, both with the key columns."""

    def total(column: Any) -> Any:
        return cast(func.coalesce(func.sum(column), 0), Integer)

    counted = (
        select(
            *[units.c[k] for k in keys],
            func.count().label("units"),
            total(units.c.deliveries).label("deliveries"),
            total(units.c.fetched).label("fetched"),
            total(units.c.acknowledged).label("acknowledged"),
        )
        .group_by(*[units.c[k] for k in keys])
        .subquery("counts")
    )
    key_cols = [deliveries.c[k] for k in keys]
    if postgresql:  # both medians from one sort of the deliveries by key
        both = select(
            *key_cols,
            hours_of(percentile_disc(deliveries.c.fetch_wait, 50)).label("p50"),
            hours_of(percentile_disc(deliveries.c.ack_wait, 50)).label("p_ack"),
        ).group_by(*key_cols)
        medians = [both.subquery("medians")]
        fetch, ack = medians[0].c.p50, medians[0].c.p_ack
    else:
        medians = [
            percentiles(select(*key_cols, deliveries.c[wait]), keys, wait, (50,), duration=True).subquery(name)
            for name, wait in (("pf", "fetch_wait"), ("pa", "ack_wait"))
        ]
        fetch, ack = medians[0].c.p50, medians[1].c.p50
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
    for rows in medians:
        query = query.outerjoin(rows, and_(*[rows.c[k] == counted.c[k] for k in keys]) if keys else literal(True))
    return query.order_by(*[counted.c[k] for k in keys])


def distribution_report(session: Session, params: ReportParams, silent_days: int = 30) -> dict[str, Any]:
    prepare(session)
    postgresql = on_postgresql(session)
    su = scoped_units(params)
    dv = deliveries_in_period(params, su)
    du = deliveries_per_unit(su, dv)
    lines = reference.province_line_table(session).cte("lines")
    # Each unit's key(s) per grouping: a few thousand rows, which the deliveries join by unit.
    line_of = (
        select(su.c.id.label("unit_id"), cast(lines.c.line_id, String).label("province_id"), lines.c.line_name)
        .join(lines, lines.c.province_id == su.c.province)
        .cte("unit_line")
    )
    routes_like = su.c.routes_text.like(literal('%"') + BorderRoute.code + literal('"%'))
    route_of = select(su.c.id.label("unit_id"), BorderRoute.code).join(BorderRoute, routes_like).cte("unit_route")

    def by_unit_key(name: str, source: Any, columns: dict[str, Any]) -> tuple[Any, Any]:
        labelled = [c.label(k) for k, c in columns.items()]
        units = select(*labelled, *du.c).join(source, source.c.unit_id == du.c.unit_id).subquery(f"{name}_u")
        deliveries = select(*labelled, *dv.c).join(source, source.c.unit_id == dv.c.unit_id).subquery(f"{name}_d")
        return units, deliveries

    by_province = by_unit_key("kp", line_of, {"province_id": line_of.c.province_id, "province": line_of.c.line_name})
    by_route = by_unit_key("kr", route_of, {"border_route": route_of.c.code})
    by_type = (
        select(du.c.type.label("unit_type"), *du.c).subquery("kt_u"),
        select(dv.c.type.label("unit_type"), *dv.c).subquery("kt_d"),
    )
    published = (
        select(func.count(func.distinct(BundlePublication.bundle_id)))
        .where(BundlePublication.published_at >= params.start, BundlePublication.published_at < params.end)
        .where(
            select(Delivery.bundle_id)
            .where(Delivery.bundle_id == BundlePublication.bundle_id)
            .where(Delivery.created_at >= params.start, Delivery.created_at < params.end)
            .where(Delivery.unit_id.in_(select(su.c.id)))
            .exists()
        )
        .scalar_subquery()
    )
    summary = _stats(select(*du.c).subquery("all_u"), select(*dv.c).subquery("all_d"), [], postgresql)
    summary = summary.add_columns(published.label("bundles_published"))
    specs: dict[str, Spec] = {
        "summary": ("Tổng quan", [("bundles_published", "Gói đã phát hành"), *STAT_COLUMNS], summary),
        "by_province": (
            "Theo tỉnh (theo dòng kế thừa)",
            [("province_id", "Mã tỉnh (id)"), ("province", "Tỉnh"), *STAT_COLUMNS],
            _stats(*by_province, ["province_id", "province"], postgresql),
        ),
        "by_border_route": (
            "Theo tuyến biên giới",
            [("border_route", "Tuyến"), *STAT_COLUMNS],
            _stats(*by_route, ["border_route"], postgresql),
        ),
        "by_unit_type": (
            "Theo loại đơn vị",
            [("unit_type", "Loại đơn vị"), *STAT_COLUMNS],
            _stats(*by_type, ["unit_type"], postgresql),
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
