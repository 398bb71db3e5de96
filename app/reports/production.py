"""Production: materials created and published per month, by kind, language and topic, and how
long the workflow takes from the first draft to publication (p50 and p90, in hours)."""

from typing import Any

from sqlalchemy import and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.materials.models import Material, MaterialTag
from app.organisations.models import Organisation
from app.reports.coverage import PUBLISHED, in_scope
from app.reports.params import ReportParams
from app.reports.sql import hours_between, month_of, percentiles
from app.reports.tables import query_table

COUNT_COLUMNS = [("created", "Tạo mới"), ("published", "Xuất bản")]
DIMENSIONS = {"kind": "Loại", "language": "Ngôn ngữ", "topic": "Chủ đề", "organisation": "Tổ chức"}


def _organisation_of_author() -> Any:
    """The name of the organisation the material's author belongs to (null if none)."""
    return (
        select(Organisation.name)
        .join(User, User.organisation_id == Organisation.id)
        .where(User.id == Material.created_by)
        .scalar_subquery()
    )


def events(params: ReportParams) -> Any:
    """CTE (id, kind, language, month, event, organisation): one row per creation and per
    publication in the period; organisation is the author's."""
    created = select(
        Material.id,
        Material.kind,
        Material.language,
        month_of(Material.created_at).label("month"),
        literal("created").label("event"),
        _organisation_of_author().label("organisation"),
    ).where(Material.created_at >= params.start, Material.created_at < params.end)
    published = select(
        Material.id,
        Material.kind,
        Material.language,
        month_of(Material.published_at),
        literal("published"),
        _organisation_of_author(),
    ).where(Material.status.in_(PUBLISHED), Material.published_at >= params.start, Material.published_at < params.end)
    return union_all(in_scope(created, params), in_scope(published, params)).cte("ev")


def _counts(ev: Any) -> list[Any]:
    return [
        func.sum(case((ev.c.event == "created", 1), else_=0)).label("created"),
        func.sum(case((ev.c.event == "published", 1), else_=0)).label("published"),
    ]


def _monthly(session: Session, ev: Any, dimension: str | None) -> dict[str, Any]:
    if dimension is None:
        query = select(ev.c.month, *_counts(ev)).group_by(ev.c.month).order_by(ev.c.month)
        return query_table(session, "Theo tháng", [("month", "Tháng"), *COUNT_COLUMNS], query)
    if dimension == "topic":
        tags = MaterialTag.__table__
        value = tags.c.value
        source = ev.join(tags, and_(tags.c.material_id == ev.c.id, tags.c.facet == "topic"))
    else:
        value, source = ev.c[dimension], ev
    query = (
        select(ev.c.month, value.label(dimension), *_counts(ev))
        .select_from(source)
        .group_by(ev.c.month, value)
        .order_by(ev.c.month, value)
    )
    label = DIMENSIONS[dimension]
    return query_table(
        session, f"Theo tháng và {label.lower()}", [("month", "Tháng"), (dimension, label), *COUNT_COLUMNS], query
    )


def _workflow(session: Session, params: ReportParams) -> dict[str, Any]:
    """Hours from creation (the first draft) to publication, for materials published in the period."""
    durations = in_scope(
        select(Material.kind, hours_between(Material.created_at, Material.published_at).label("hours")).where(
            Material.status.in_(PUBLISHED), Material.published_at >= params.start, Material.published_at < params.end
        ),
        params,
    )
    overall = percentiles(durations, [], "hours").subquery("overall")
    by_kind = percentiles(durations, ["kind"], "hours").subquery("by_kind")
    counts = select(durations.subquery("d").c.kind, func.count().label("materials")).group_by("kind").subquery("n")
    query = union_all(
        select(
            literal("*").label("kind"),
            select(func.count()).select_from(durations.subquery()).scalar_subquery().label("materials"),
            overall.c.p50,
            overall.c.p90,
        ),
        select(by_kind.c.kind, counts.c.materials, by_kind.c.p50, by_kind.c.p90).join(
            counts, counts.c.kind == by_kind.c.kind
        ),
    )
    columns = [("kind", "Loại (* = tất cả)"), ("materials", "Tài liệu"), ("p50", "Giờ, trung vị"), ("p90", "Giờ, p90")]
    return query_table(session, "Thời gian từ bản nháp đến xuất bản", columns, select(query.subquery()))


def production_report(session: Session, params: ReportParams) -> dict[str, Any]:
    ev = events(params)
    tables = {"monthly": _monthly(session, ev, None)}
    for dimension in DIMENSIONS:
        tables[f"monthly_by_{dimension}"] = _monthly(session, ev, dimension)
    tables["workflow_hours"] = _workflow(session, params)
    return {"report": "production", "parameters": params.as_dict(), "tables": tables}
