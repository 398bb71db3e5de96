import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app import concurrency
from app.accounts.deps import AppSettings, EditorUser, ReviewerUser, StaffUser
from app.bundles import publications, publishing
from app.bundles import service as bundles_service
from app.bundles import status as delivery_status
from app.bundles.schemas import (
    BundleCreate,
    BundlePage,
    BundleRead,
    BundleStatus,
    BundleUpdate,
    DeliveryPage,
    DeliveryStatus,
    OverduePage,
    Priority,
    PublicationPage,
    PublicationRead,
)
from app.concurrency import IfMatch
from app.db import DbSession
from app.pagination import Limit

router = APIRouter(tags=["bundles"])

Version = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/bundles", status_code=201, response_model=BundleRead, operation_id="create_bundle")
def create_bundle(data: BundleCreate, session: DbSession, actor: EditorUser, response: Response) -> BundleRead:
    """Create a draft bundle (editors and admins). Items must be approved or published materials;
    targets may name units by id or code, routes and provinces by code, id or name."""
    bundle = bundles_service.create_bundle(session, data, actor)
    return concurrency.created(response, f"/bundles/{bundle.id}", bundle, BundleRead)


@router.get("/bundles", response_model=BundlePage, operation_id="list_bundles")
def list_bundles(
    session: DbSession,
    _: StaffUser,
    status: Annotated[list[BundleStatus], Query()] = [],
    priority: Annotated[list[Priority], Query()] = [],
    limit: Limit = 20,
    cursor: str | None = None,
) -> BundlePage:
    """Bundles, newest first."""
    items, next_cursor = bundles_service.list_bundles(
        session, status=status, priority=priority, limit=limit, cursor=cursor
    )
    return BundlePage(items=[BundleRead.model_validate(b) for b in items], next_cursor=next_cursor)


@router.get("/bundles/{bundle_id}", response_model=BundleRead, operation_id="get_bundle")
def get_bundle(bundle_id: uuid.UUID, session: DbSession, _: StaffUser, response: Response) -> BundleRead:
    """One bundle, with its ETag for a later PATCH or DELETE."""
    return concurrency.tagged(response, bundles_service.get_bundle(session, bundle_id), BundleRead)


@router.patch("/bundles/{bundle_id}", response_model=BundleRead, operation_id="update_bundle")
def update_bundle(
    bundle_id: uuid.UUID,
    data: BundleUpdate,
    session: DbSession,
    actor: EditorUser,
    response: Response,
    if_match: IfMatch = None,
) -> BundleRead:
    """Change the fields sent; needs If-Match. Editing a published bundle makes a new version,
    which units receive when it is published again."""
    bundle = bundles_service.update_bundle(session, bundle_id, data, actor, if_match)
    return concurrency.tagged(response, bundle, BundleRead)


@router.delete("/bundles/{bundle_id}", status_code=204, operation_id="delete_bundle")
def delete_bundle(bundle_id: uuid.UUID, session: DbSession, actor: EditorUser, if_match: IfMatch = None) -> Response:
    """Delete a draft; needs If-Match. A bundle that was published is recalled instead."""
    bundles_service.delete_bundle(session, bundle_id, actor, if_match)
    return Response(status_code=204)


@router.post("/bundles/{bundle_id}/publish", response_model=BundleRead, operation_id="publish_bundle")
def publish_bundle(
    bundle_id: uuid.UUID, session: DbSession, actor: ReviewerUser, response: Response, if_match: IfMatch = None
) -> BundleRead:
    """Publish the current version to every unit its targets address (reviewers and admins, not
    its author or last editor). With `publish_at` in the future, units see it from then on.
    If-Match is optional: when sent, the version you reviewed must still be the current one."""
    return concurrency.tagged(response, publishing.publish_bundle(session, bundle_id, actor, if_match), BundleRead)


@router.post("/bundles/{bundle_id}/recall", response_model=BundleRead, operation_id="recall_bundle")
def recall_bundle(
    bundle_id: uuid.UUID, session: DbSession, actor: ReviewerUser, response: Response, if_match: IfMatch = None
) -> BundleRead:
    """Recall a published bundle (reviewers and admins, not its author or last editor): it stays
    in units' feeds as a tombstone and its content and package answer 410."""
    return concurrency.tagged(response, publishing.recall_bundle(session, bundle_id, actor, if_match), BundleRead)


@router.get("/bundles/{bundle_id}/publications", response_model=PublicationPage, operation_id="list_publications")
def list_publications(
    bundle_id: uuid.UUID, session: DbSession, _: StaffUser, limit: Limit = 20, cursor: str | None = None
) -> PublicationPage:
    """Every publication of the bundle, oldest first, each with its materials as they were sent."""
    bundles_service.get_bundle(session, bundle_id)
    shown, next_cursor = publications.list_publications(session, bundle_id, limit, cursor)
    return PublicationPage(items=[publications.to_read(session, p) for p in shown], next_cursor=next_cursor)


@router.get(
    "/bundles/{bundle_id}/publications/{version}", response_model=PublicationRead, operation_id="get_publication"
)
def get_publication(bundle_id: uuid.UUID, version: Version, session: DbSession, _: StaffUser) -> PublicationRead:
    """One publication: exactly what was sent, however the materials changed since."""
    return publications.to_read(session, publications.get_publication(session, bundle_id, version))


@router.get("/bundles/{bundle_id}/deliveries", response_model=DeliveryPage, operation_id="list_deliveries")
def list_deliveries(
    bundle_id: uuid.UUID,
    session: DbSession,
    _: StaffUser,
    status: Annotated[list[DeliveryStatus], Query()] = [],
    limit: Limit = 20,
    cursor: str | None = None,
) -> DeliveryPage:
    """Per addressed unit: pending, fetched (its feed entry or package was downloaded) or
    acknowledged, with the version and timestamps."""
    bundles_service.get_bundle(session, bundle_id)
    items, next_cursor = delivery_status.list_deliveries(session, bundle_id, status, limit, cursor)
    return DeliveryPage(items=items, next_cursor=next_cursor)


@router.get("/deliveries/overdue", response_model=OverduePage, operation_id="list_overdue_deliveries")
def list_overdue_deliveries(
    session: DbSession,
    settings: AppSettings,
    _: StaffUser,
    hours: Annotated[float | None, Query(gt=0, le=24 * 365)] = None,
    limit: Limit = 20,
    cursor: str | None = None,
) -> OverduePage:
    """Urgent bundles not acknowledged within `hours` (default: the `urgent_ack_hours` setting)
    of their release: per unit, and counted per province."""
    return delivery_status.overdue(session, hours or settings.urgent_ack_hours, limit, cursor)
