"""Reference data: ethnic groups, border routes, provinces, topics. Readable by every principal."""

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from app.accounts.deps import AnyPrincipal
from app.db import DbSession
from app.pagination import list_page
from app.taxonomy import service as taxonomy_service
from app.taxonomy.cache import reference_response
from app.taxonomy.models import Province
from app.taxonomy.schemas import (
    BorderRoutePage,
    BorderRouteRead,
    EthnicGroupPage,
    EthnicGroupRead,
    ProvincePage,
    ProvinceRead,
    TopicPage,
    TopicRead,
)

router = APIRouter(tags=["reference data"])

# Reference lists are short and clients want them whole: without `limit` the list is one page.
# With it, they page like every other list (`limit` at most 100, `cursor` from `next_cursor`).
PageLimit = Annotated[int | None, Query(ge=1, le=100, description="Items per page; default: the whole list")]
PageCursor = Annotated[str | None, Query(max_length=512, description="`next_cursor` of the page before")]


@router.get("/ethnic-groups", response_model=EthnicGroupPage, operation_id="list_ethnic_groups")
async def list_ethnic_groups(
    request: Request,
    _: AnyPrincipal,
    q: Annotated[
        str | None, Query(max_length=100, description="Part of a name or other name; diacritics optional")
    ] = None,
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> Response:
    """Vietnam's 54 ethnic groups, coded by the 2008 list (Decision 1019/QĐ-TCTK); `code_1979`
    is the code in the 1979 list, which many other systems use. `q` filters by name, spelling
    variant or other name, ignoring diacritics. Historical names now considered derogatory match
    `q` but are never shown. From memory, with an ETag (see "Reference data" in the README)."""

    def build(session: Session) -> EthnicGroupPage:
        groups, next_cursor = list_page(taxonomy_service.list_ethnic_groups(session, q), limit, cursor, _code)
        return EthnicGroupPage(items=[EthnicGroupRead.model_validate(g) for g in groups], next_cursor=next_cursor)

    return await reference_response(request, ("ethnic-groups", q, limit, cursor), build)


@router.get("/ethnic-groups/{code}", response_model=EthnicGroupRead, operation_id="read_ethnic_group")
def read_ethnic_group(code: str, _: AnyPrincipal, session: DbSession) -> EthnicGroupRead:
    """One ethnic group by its 2008-list code ("08" is Mông)."""
    return EthnicGroupRead.model_validate(taxonomy_service.get_ethnic_group(session, code))


@router.get("/border-routes", response_model=BorderRoutePage, operation_id="list_border_routes")
async def list_border_routes(
    request: Request, _: AnyPrincipal, limit: PageLimit = None, cursor: PageCursor = None
) -> Response:
    """Vietnam's land borders: VN-CN (China), VN-LA (Laos), VN-KH (Cambodia). `length_precision`
    says whether `length_km` is a treaty figure, a rounded lower bound or an approximation."""

    def build(session: Session) -> BorderRoutePage:
        routes, next_cursor = list_page(taxonomy_service.list_border_routes(session), limit, cursor, _code)
        return BorderRoutePage(items=[BorderRouteRead.model_validate(r) for r in routes], next_cursor=next_cursor)

    return await reference_response(request, ("border-routes", limit, cursor), build)


@router.get("/provinces", response_model=ProvincePage, operation_id="list_provinces")
async def list_provinces(
    request: Request,
    _: AnyPrincipal,
    border_route: Annotated[
        list[str] | None,
        Query(description="VN-CN, VN-LA, VN-KH, a route name or neighbour country; repeatable"),
    ] = None,
    on: Annotated[date | None, Query(description="YYYY-MM-DD; default today")] = None,
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> Response:
    """Provinces valid on `on` (default today, i.e. the units since the merger of 1 July 2025),
    optionally only those on the given border routes. `successors` and `merged_from` hold the ids
    of the provinces that followed or preceded each one: codes were reused, ids never are."""
    day = on or taxonomy_service.today()

    def build(session: Session) -> ProvincePage:
        routes = taxonomy_service.resolve_border_routes(session, border_route or [], ["query", "border_route"])
        provinces = taxonomy_service.provinces_on(session, day, routes or None)
        shown, next_cursor = list_page(provinces, limit, cursor, lambda province: str(province.id))
        links = taxonomy_service.province_links(session)
        return ProvincePage(items=[_province_read(p, links) for p in shown], next_cursor=next_cursor)

    key = ("provinces", tuple(border_route or ()), day, limit, cursor)
    return await reference_response(request, key, build)


@router.get("/provinces/{province_id}", response_model=ProvinceRead, operation_id="read_province")
def read_province(province_id: uuid.UUID, _: AnyPrincipal, session: DbSession) -> ProvinceRead:
    """One province, of any period, by its id."""
    province = taxonomy_service.get_province(session, province_id)
    return _province_read(province, taxonomy_service.province_links(session))


@router.get("/topics", response_model=TopicPage, operation_id="list_topics")
async def list_topics(
    request: Request, _: AnyPrincipal, limit: PageLimit = None, cursor: PageCursor = None
) -> Response:
    """The controlled topic vocabulary: slug, Vietnamese name and English name."""

    def build(session: Session) -> TopicPage:
        topics, next_cursor = list_page(taxonomy_service.list_topics(session), limit, cursor, lambda t: t.slug)
        return TopicPage(items=[TopicRead.model_validate(t) for t in topics], next_cursor=next_cursor)

    return await reference_response(request, ("topics", limit, cursor), build)


def _code(item: Any) -> str:
    return item.code


def _province_read(province: Province, links: taxonomy_service.ProvinceLinks) -> ProvinceRead:
    return ProvinceRead(
        id=province.id,
        code=province.code,
        name=province.name,
        name_ascii=province.name_ascii,
        unit_type=province.unit_type,
        valid_from=province.valid_from,
        valid_until=province.valid_until,
        border_routes=province.border_routes,
        successors=links.successors.get(province.id, []),
        merged_from=links.predecessors.get(province.id, []),
    )
