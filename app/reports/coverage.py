"""Coverage: what was published in the period, for which ethnic groups, in which languages.

A translation counts for the ethnic groups of its source as well as its own, so a group is
served in its own language when a published translation into that language exists.
"""

from typing import Any

from sqlalchemy import Integer, String, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from app.bundles.models import Delivery
from app.materials.models import Material, MaterialTag
from app.reports import reference
from app.reports.params import ReportParams
from app.reports.sql import prepare
from app.reports.tables import Spec, query_tables
from app.taxonomy.models import BorderRoute, EthnicGroup
from app.units.models import Unit

PUBLISHED = ("published", "archived")


def in_scope(query: Any, params: ReportParams) -> Any:
    """Restrict a SELECT over Material to the routes and provinces asked for (tags of the material
    or of its source)."""
    family = func.coalesce(Material.translation_of, Material.id)
    for facet, chosen in (("border_route", params.border_routes), ("province", params.provinces)):
        if chosen:
            tag = select(MaterialTag.material_id).where(
                MaterialTag.facet == facet,
                MaterialTag.value.in_(chosen),
                or_(MaterialTag.material_id == Material.id, MaterialTag.material_id == family),
            )
            query = query.where(tag.exists())
    return query


def published_in_period(params: ReportParams) -> Any:
    """CTE (id, language, kind, source): materials published in the period, filtered by
    route/province; `source` is the material a translation was made from, null for an original.

    Not materialised on PostgreSQL: it is a range read of a covering index, cheaper to repeat
    than to store, and inlined the planner knows its statistics (a stored CTE's columns have
    none, so it would hash the 500,000 tags rather than the period's materials)."""
    query = select(Material.id, Material.language, Material.kind, Material.translation_of.label("source")).where(
        Material.status.in_(PUBLISHED), Material.published_at >= params.start, Material.published_at < params.end
    )
    return in_scope(query, params).cte("pm").prefix_with("NOT MATERIALIZED", dialect="postgresql")


COVERAGE_FACETS = ("ethnic_group", "topic", "border_route")


def family_tags(pm: Any) -> Any:
    """CTE (id, language, kind, facet, value): each published material with the ethnic group,
    topic and route values of itself or its source, each (material, facet, value) ONCE, read
    in one pass over the tags.

    Two equi-joins under a UNION ALL rather than one join on `a OR b`, so the database can
    hash-join (`source IS NOT NULL` spelled out, so the planner reads the few translations
    from its statistics); an inherited value the material carries itself is left out (a probe of the tags'
    primary key), so every count over these rows is a plain count(*), which PostgreSQL can
    hash-aggregate, where count(DISTINCT id) would sort every group's rows."""
    tags = MaterialTag.__table__
    facets = tags.c.facet.in_(COVERAGE_FACETS)
    columns = (pm.c.id, pm.c.language, pm.c.kind, tags.c.facet, tags.c.value)
    own = select(*columns).join(tags, and_(facets, tags.c.material_id == pm.c.id))
    mine = aliased(MaterialTag)
    carried = (
        select(mine.material_id)
        .where(mine.material_id == pm.c.id, mine.facet == tags.c.facet, mine.value == tags.c.value)
        .exists()
    )
    inherited = (
        select(*columns)
        .join(tags, and_(facets, tags.c.material_id == pm.c.source))
        .where(pm.c.source.is_not(None), pm.c.source != pm.c.id, ~carried)
    )
    return union_all(own, inherited).cte("family_tags")


def own_language(pm: Any, mg: Any, langs: Any) -> Any:
    """CTE (id, code): a published material in the own language of one of its groups.

    The language test (the group's tag, or a subtag of it) runs on the few distinct languages
    of the period; the materials then join the matching (language, group) pairs by equality.
    A material can match one group through two of its tags, so counts over this are distinct."""
    languages = select(pm.c.language).distinct().subquery("period_languages")
    lower = func.lower(languages.c.language)
    pairs = (
        select(languages.c.language, langs.c.code)
        .join(langs, or_(lower == langs.c.tag, lower.like(langs.c.tag + "-%")))
        .cte("own_pairs")
        # Stored: a handful of rows to hash, which PostgreSQL would otherwise flatten into the
        # join and test the language of each of the period's (material, group) rows against.
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        select(mg.c.id, mg.c.value.label("code"))
        .join(pairs, and_(pairs.c.language == mg.c.language, pairs.c.code == mg.c.value))
        .cte("own")
    )


def coverage_report(session: Session, params: ReportParams) -> dict[str, Any]:
    prepare(session)
    pm = published_in_period(params)
    tagged = family_tags(pm)
    mg = (
        select(tagged.c.id, tagged.c.language, tagged.c.kind, tagged.c.value)
        .where(tagged.c.facet == "ethnic_group")
        .cte("mg")
    )
    langs = reference.group_language_table().cte("gl")
    own = own_language(pm, mg, langs)
    specs = {
        "summary": _summary(pm, mg),
        "by_group": _by_group(mg, own, langs),
        "by_group_language": _by_group_dimension(mg, mg.c.language, "language", "Ngôn ngữ"),
        "by_group_kind": _by_group_dimension(mg, mg.c.kind, "kind", "Loại"),
    }
    pairs = _group_tag_pairs(tagged, mg)
    for facet, label in (("topic", "Chủ đề"), ("border_route", "Tuyến biên giới")):
        specs[f"by_group_{facet}"] = _by_group_tag(pairs, facet, label)
    specs["gaps"] = _gaps(session, params, mg, own, langs)
    tables = query_tables(session, specs)
    own_tags = reference.group_languages()
    for row in tables["by_group"]["rows"]:
        row["own_languages"] = own_tags.get(row["code"], [])
    tables["by_group"]["columns"].insert(3, {"key": "own_languages", "label": "Ngôn ngữ của dân tộc"})
    return {"report": "coverage", "parameters": params.as_dict(), "tables": tables}


def _summary(pm: Any, mg: Any) -> Spec:
    query = select(
        select(func.count()).select_from(pm).scalar_subquery().label("materials"),
        _distinct_count(pm.c.language, "languages"),
        _distinct_count(mg.c.value, "groups_served"),
        select(func.count()).select_from(EthnicGroup).scalar_subquery().label("groups"),
    )
    columns = [
        ("materials", "Tài liệu đã xuất bản"),
        ("languages", "Số ngôn ngữ"),
        ("groups_served", "Số dân tộc có tài liệu"),
        ("groups", "Tổng số dân tộc"),
    ]
    return "Tổng quan", columns, query


def _distinct_count(value: Any, name: str) -> Any:
    """count(DISTINCT value) as a hashable GROUP BY under a count(*), which PostgreSQL need not sort."""
    values = select(value).group_by(value).subquery(f"distinct_{name}")
    return select(func.count()).select_from(values).scalar_subquery().label(name)


def _by_group(mg: Any, own: Any, langs: Any) -> Spec:
    counts = select(mg.c.value.label("code"), func.count().label("n")).group_by(mg.c.value).subquery("counts")
    own_counts = (
        select(own.c.code, func.count(func.distinct(own.c.id)).label("n")).group_by(own.c.code).subquery("own_n")
    )
    has_code = select(langs.c.code).where(langs.c.code == EthnicGroup.code).exists()
    materials = func.coalesce(counts.c.n, 0)
    in_own = func.coalesce(own_counts.c.n, 0)
    query = (
        select(
            EthnicGroup.code,
            EthnicGroup.name,
            EthnicGroup.population_2019,
            materials.label("materials"),
            case((EthnicGroup.population_2019 > 0, materials * 100000.0 / EthnicGroup.population_2019)).label(
                "per_100k"
            ),
            case((has_code, in_own)).label("in_own_language"),
            case((has_code, in_own > 0)).label("served_in_own_language"),
        )
        .outerjoin(counts, counts.c.code == EthnicGroup.code)
        .outerjoin(own_counts, own_counts.c.code == EthnicGroup.code)
        .order_by(EthnicGroup.code)
    )
    return "Tài liệu theo dân tộc", BY_GROUP_COLUMNS, query


BY_GROUP_COLUMNS = [
    ("code", "Mã"),
    ("name", "Dân tộc"),
    ("population_2019", "Dân số 2019"),
    ("materials", "Tài liệu"),
    ("per_100k", "Tài liệu / 100.000 dân"),
    ("in_own_language", "Bằng tiếng của dân tộc"),
    ("served_in_own_language", "Có tài liệu bằng tiếng dân tộc"),
]


def _by_group_dimension(mg: Any, value: Any, key: str, label: str) -> Spec:
    """Materials per (group, value of a column of `mg`): one row per material and group."""
    query = (
        select(mg.c.value.label("code"), value.label(key), func.count().label("materials"))
        .group_by(mg.c.value, value)
        .order_by(mg.c.value, value)
    )
    return f"Theo dân tộc và {label.lower()}", [("code", "Mã dân tộc"), (key, label), ("materials", "Tài liệu")], query


def _group_tag_pairs(tagged: Any, mg: Any) -> Any:
    """CTE (code, facet, value, materials): the materials of each group with each topic and each
    route, from one join of the groups with both facets' tags."""
    tags = select(tagged.c.id, tagged.c.facet, tagged.c.value).where(tagged.c.facet.in_(("topic", "border_route")))
    tags = tags.subquery("group_tags")
    return (
        select(mg.c.value.label("code"), tags.c.facet, tags.c.value, func.count().label("materials"))
        .join(tags, tags.c.id == mg.c.id)
        .group_by(mg.c.value, tags.c.facet, tags.c.value)
        .cte("group_tag_pairs")
    )


def _by_group_tag(pairs: Any, facet: str, label: str) -> Spec:
    query = (
        select(pairs.c.code, pairs.c.value.label(facet), pairs.c.materials)
        .where(pairs.c.facet == facet)
        .order_by(pairs.c.code, pairs.c.value)
    )
    return (
        f"Theo dân tộc và {label.lower()}",
        [("code", "Mã dân tộc"), (facet, label), ("materials", "Tài liệu")],
        query,
    )


GAP_COLUMNS = [
    ("rank", "Thứ tự"),
    ("gap", "Loại thiếu hụt"),
    ("code", "Mã"),
    ("name", "Tên"),
    ("weight", "Dân số 2019 / số đơn vị chưa nhận"),
    ("units", "Số đơn vị"),
]
GAP_LABELS = {
    "group_without_materials": "Dân tộc không có tài liệu nào",
    "group_without_own_language": "Dân tộc chưa có tài liệu bằng tiếng của mình",
    "province_units_without_deliveries": "Tỉnh có đơn vị chưa nhận gói nào",
    "route_units_without_deliveries": "Tuyến có đơn vị chưa nhận gói nào",
}


def units_received(session: Session, params: ReportParams) -> Any:
    """CTE (unit_id, province, routes_text, received): active units in scope and how many
    deliveries each got in the period."""
    got = (
        select(Delivery.unit_id, func.count().label("n"))
        .where(Delivery.created_at >= params.start, Delivery.created_at < params.end)
        .group_by(Delivery.unit_id)
        .subquery("got")
    )
    routes_text = cast(Unit.border_routes, String)
    query = (
        select(
            Unit.id.label("unit_id"),
            Unit.province,
            Unit.type,
            routes_text.label("routes_text"),
            func.coalesce(got.c.n, 0).label("received"),
        )
        .outerjoin(got, got.c.unit_id == Unit.id)
        .where(Unit.active.is_(True))
    )
    if params.provinces:
        query = query.where(cast(Unit.province, String).in_(params.provinces))
    if params.border_routes:
        query = query.where(or_(*[routes_text.like(f'%"{code}"%') for code in params.border_routes]))
    return query.cte("ur")


def route_match(routes_text: Any, code: Any) -> Any:
    """A unit's JSON list of route codes (as text) holds `code`: the same on SQLite and PostgreSQL."""
    return routes_text.like(literal('%"') + code + literal('"%'))


def _gaps(session: Session, params: ReportParams, mg: Any, own: Any, langs: Any) -> Spec:
    ur = units_received(session, params)
    lines = reference.province_line_table(session).cte("lines")
    served_own = select(own.c.id).where(own.c.code == EthnicGroup.code).exists()
    has_code = select(langs.c.code).where(langs.c.code == EthnicGroup.code).exists()
    minority = EthnicGroup.is_minority.is_(True)
    without = func.sum(case((ur.c.received == 0, 1), else_=0))
    nothing = cast(literal(None), Integer)
    parts = union_all(
        select(
            literal(1).label("priority"),
            literal("group_without_materials").label("gap"),
            EthnicGroup.code,
            EthnicGroup.name,
            EthnicGroup.population_2019.label("weight"),
            nothing.label("units"),
        ).where(minority, ~select(mg.c.id).where(mg.c.value == EthnicGroup.code).exists()),
        select(
            literal(2),
            literal("group_without_own_language"),
            EthnicGroup.code,
            EthnicGroup.name,
            EthnicGroup.population_2019,
            nothing,
        ).where(minority, has_code, ~served_own),
        select(
            literal(3),
            literal("province_units_without_deliveries"),
            cast(lines.c.line_id, String),
            func.max(lines.c.line_name),
            without,
            func.count(),
        )
        .join(lines, lines.c.province_id == ur.c.province)
        .group_by(lines.c.line_id)
        .having(without > 0),
        select(
            literal(4),
            literal("route_units_without_deliveries"),
            BorderRoute.code,
            func.max(BorderRoute.name),
            without,
            func.count(),
        )
        .join(BorderRoute, route_match(ur.c.routes_text, BorderRoute.code))
        .group_by(BorderRoute.code)
        .having(without > 0),
    ).subquery("gaps")
    ranked = select(
        func.row_number(type_=Integer)
        .over(order_by=(gaps_order := (parts.c.priority, parts.c.weight.desc(), parts.c.code)))
        .label("rank"),
        parts.c.gap,
        parts.c.code,
        parts.c.name,
        parts.c.weight,
        parts.c.units,
    ).order_by(*gaps_order)
    return "Các thiếu hụt, theo thứ tự ưu tiên", GAP_COLUMNS, ranked
