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
from app.reports.sql import duration_between, month_of, on_postgresql, percentiles, prepare
from app.reports.tables import Spec, query_tables

COUNT_COLUMNS = [("created", "Tạo mới"), ("published", "Xuất bản")]
DIMENSIONS = {"kind": "Loại", "language": "Ngôn ngữ", "topic": "Chủ đề", "organisation": "Tổ chức"}


def _with_author_organisation(query: Any) -> Any:
    """`query` over Material, joined to the organisation its author belongs to (if any)."""
    return query.outerjoin(User, User.id == Material.created_by).outerjoin(
        Organisation, Organisation.id == User.organisation_id
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
        Organisation.name.label("organisation"),
    ).where(Material.created_at >= params.start, Material.created_at < params.end)
    published = select(
        Material.id,
        Material.kind,
        Material.language,
        month_of(Material.published_at),
        literal("published"),
        Organisation.name,
    ).where(Material.status.in_(PUBLISHED), Material.published_at >= params.start, Material.published_at < params.end)
    created, published = (_with_author_organisation(in_scope(q, params)) for q in (created, published))
    return union_all(created, published).cte("ev")


def _counts(ev: Any) -> list[Any]:
    return [
        func.sum(case((ev.c.event == "created", 1), else_=0)).label("created"),
        func.sum(case((ev.c.event == "published", 1), else_=0)).label("published"),
    ]


def _monthly(ev: Any, dimension: str | None) -> Spec:
    if dimension is None:
        query = select(ev.c.month, *_counts(ev)).group_by(ev.c.month).order_by(ev.c.month)
        return "Theo tháng", [("month", "Tháng"), *COUNT_COLUMNS], query
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
    return f"Theo tháng và {label.lower()}", [("month", "Tháng"), (dimension, label), *COUNT_COLUMNS], query


WORKFLOW_COLUMNS = [
    ("kind", "Loại (* = tất cả)"),
    ("materials", "Tài liệu"),
    ("p50", "Giờ, trung vị"),
    ("p90", "Giờ, p90"),
]


def _workflow(params: ReportParams, postgresql: bool) -> Spec:
    """Hours from creation (the first draft) to publication, for materials published in the
    period: overall (kind `*`) first, then by kind."""
    durations = in_scope(
        select(Material.kind, duration_between(Material.created_at, Material.published_at).label("duration")).where(
            Material.status.in_(PUBLISHED), Material.published_at >= params.start, Material.published_at < params.end
        ),
        params,
    ).cte("durations")
    pct = {"postgresql": postgresql, "duration": True}
    overall = percentiles(select(durations), [], "duration", **pct).subquery("overall")
    by_kind = percentiles(select(durations), ["kind"], "duration", **pct).subquery("by_kind")
    counts = select(durations.c.kind, func.count().label("materials")).group_by(durations.c.kind).subquery("n")
    rows = union_all(
        select(
            literal("*").label("kind"),
            select(func.count()).select_from(durations).scalar_subquery().label("materials"),
            overall.c.p50,
            overall.c.p90,
        ),
        select(by_kind.c.kind, counts.c.materials, by_kind.c.p50, by_kind.c.p90).join(
            counts, counts.c.kind == by_kind.c.kind
        ),
    ).subquery("workflow")
    query = select(rows).order_by(rows.c.kind != "*", rows.c.kind)
    return "Thời gian từ bản nháp đến xuất bản", WORKFLOW_COLUMNS, query


def production_report(session: Session, params: ReportParams) -> dict[str, Any]:
    prepare(session)
    ev = events(params)
    specs = {"monthly": _monthly(ev, None)}
    for dimension in DIMENSIONS:
        specs[f"monthly_by_{dimension}"] = _monthly(ev, dimension)
    specs["workflow_hours"] = _workflow(params, on_postgresql(session))
    return {"report": "production", "parameters": params.as_dict(), "tables": query_tables(session, specs)}
