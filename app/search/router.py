"""GET /search (mounted under /api/v1)."""

from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, Query, Request

from app.accounts.deps import StaffUser
from app.db import DbSession, end_reading
from app.materials.filters import MaterialFiltersDep
from app.pagination import Limit
from app.search import service as search_service
from app.search.backend import SearchBackend
from app.search.schemas import SearchResults
from app.taxonomy.cache import reference_cache

router = APIRouter(tags=["search"])


def get_search_backend(request: Request) -> SearchBackend:
    return request.app.state.search_backend


SearchBackendDep = Annotated[SearchBackend, Depends(get_search_backend)]


@router.get("/search", response_model=SearchResults, response_model_exclude_unset=True, operation_id="search_materials")
async def search_materials(
    request: Request,
    session: DbSession,
    _: StaffUser,
    backend: SearchBackendDep,
    filters: MaterialFiltersDep,
    q: Annotated[str | None, Query(max_length=500, description="Words to find; diacritics optional")] = None,
    sort: Annotated[Literal["relevance", "newest"], Query()] = "relevance",
    limit: Limit = 20,
    cursor: Annotated[str | None, Query(max_length=2000, description="`next_cursor` of the previous page")] = None,
    collapse: Annotated[
        Literal["translations"] | None,
        Query(description="`translations`: one hit per source and its translations, listing their languages"),
    ] = None,
) -> SearchResults:
    """Search materials: full text (`q`) with the filters of GET /materials.

    `q` ignores diacritics ("dan toc mong" finds "dân tộc Mông"); exact spellings rank higher.
    Filters repeat: values OR within a filter, AND across filters. Staff see every status
    unless `status` is given. Without `q`, `relevance` sorts like `newest` (published, then
    updated, newest first). Facets count each value over the results of every other filter,
    so choosing one kind still shows how many there are of the others. Highlights are
    fragments of the original text with the matches in `<mark>`, the rest HTML-escaped.
    With `collapse=translations`, a source and its translations are one hit (the best-ranked
    member) with `languages`; `total` counts such families; facets still count materials.
    """
    memory = reference_cache(request)

    def run() -> SearchResults:
        results = search_service.search_materials(
            session,
            backend,
            filters,
            text=q,
            sort=sort,
            limit=limit,
            cursor=cursor,
            collapse=collapse is not None,
            reference=memory.data(session),
        )
        end_reading(session)  # a search only reads
        return results

    # One worker-thread hop for the database, Elasticsearch and the end of the transaction; the
    # response model is then checked and serialised on the event loop, not in another hop.
    return await anyio.to_thread.run_sync(run)
