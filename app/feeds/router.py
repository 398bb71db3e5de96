import uuid
from collections.abc import Callable
from typing import Annotated

import anyio
from fastapi import APIRouter, Body, Query, Request, Response
from sqlalchemy.orm import Session

from app import concurrency, metrics
from app.accounts.deps import AnyPrincipal, AppSettings, UnitPrincipal
from app.accounts.principal import Principal
from app.bundles import changelog, feed_versions
from app.bundles import delivery as bundles_delivery
from app.db import DbSession, get_session
from app.errors import ValidationFailed
from app.feeds import package, signing, syndication
from app.feeds import service as feeds_service
from app.feeds.responses import PackageResponse, feed_response, not_modified, strong_etag
from app.feeds.schemas import AckRequest, FeedBundle, FeedPage, SigningKeyRead
from app.http import stored_file
from app.materials import attachments as attachments_service
from app.pagination import Limit
from app.urls import api_path

router = APIRouter(tags=["feeds"])

ATOM = "application/atom+xml"
JSON_FEED = "application/feed+json"


@router.get("/feed", response_model=FeedPage, operation_id="get_feed")
async def get_feed(
    request: Request,
    unit: UnitPrincipal,
    since: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, description="The same as `since`, for clients that page every list so.")
    ] = None,
) -> Response:
    """What changed for the calling unit since the cursor (everything without it): each bundle
    once, in its latest state, tombstones included; urgent first, then newest. Follow
    `next_cursor` (as `since`, or as `cursor` as on every other list) while it is set, then keep
    `cursor` for next time. Conditional GET and gzip."""
    if cursor is not None and since is not None and cursor != since:
        raise ValidationFailed(["query", "cursor"], "cursor and since name the same checkpoint; send one of them.")
    since = since if since is not None else cursor
    checkpoint = feeds_service.FeedCursor.decode(since) if since else None
    metrics.FEED_FETCHES.labels(unit.unit_type or "other", "json").inc()
    # An unchanged feed polled again: its version is remembered for a moment (feed_versions.py),
    # and the 304 is answered here without a thread or a database round trip.
    version = feed_versions.known(unit.id)
    if version is not None:
        unchanged = not_modified(request, strong_etag("feed", unit.id, version[0], since, limit), version[1])
        if unchanged is not None:
            return unchanged
    return await anyio.to_thread.run_sync(_feed_page, request, unit.id, checkpoint, since, limit)


def _feed_page(
    request: Request, unit_id: uuid.UUID, cursor: feeds_service.FeedCursor | None, since: str | None, limit: int
) -> Response:
    session = get_session(request)
    seq, at = changelog.feed_version(session, unit_id)
    tag = strong_etag("feed", unit_id, seq, since, limit)

    def render() -> bytes:
        return feeds_service.feed_page(session, unit_id, cursor, limit, seq).model_dump_json().encode()

    return feed_response(request, render, "application/json", tag, at)


def _head(request: Request, unit_id: uuid.UUID, label: str, path: str, at: object) -> syndication.FeedHead:
    base = str(request.base_url).rstrip("/")
    return syndication.FeedHead(unit_id=str(unit_id), unit_label=label, base_url=base, self_path=path, updated=at)


def _syndicated(
    request: Request,
    session: Session,
    unit: Principal,
    kind: str,
    path: str,
    media_type: str,
    write: Callable[[syndication.FeedHead, list[syndication.FeedEntry]], bytes],
) -> Response:
    """The unit's newest entries written by `write` (Atom or JSON Feed), with a strong ETag."""
    metrics.FEED_FETCHES.labels(unit.unit_type or "other", kind).inc()
    seq, at = changelog.feed_version(session, unit.id)
    head = _head(request, unit.id, unit.label, api_path(path), at)

    def render() -> bytes:
        return write(head, feeds_service.syndication_entries(session, unit.id, seq))

    return feed_response(request, render, media_type, strong_etag(kind, unit.id, seq, head.base_url), at)


@router.get("/feed.atom", operation_id="get_feed_atom", response_class=Response)
def get_feed_atom(request: Request, session: DbSession, unit: UnitPrincipal) -> Response:
    """The calling unit's feed as Atom (RFC 4287) for generic feed readers (HTTP Basic works)."""
    return _syndicated(request, session, unit, "atom", "/feed.atom", ATOM, syndication.atom)


@router.get("/feed.json", operation_id="get_feed_json_feed", response_class=Response)
def get_feed_json_feed(request: Request, session: DbSession, unit: UnitPrincipal) -> Response:
    """The calling unit's feed as JSON Feed 1.1 (application/feed+json)."""
    return _syndicated(request, session, unit, "jsonfeed", "/feed.json", JSON_FEED, syndication.json_feed)


@router.get("/feed/signing-key", response_model=SigningKeyRead, operation_id="get_signing_key")
def get_signing_key(settings: AppSettings, _: AnyPrincipal) -> SigningKeyRead:
    """The public key that signs package manifests: pin it, and check `manifest.sig` with it."""
    public = signing.public_key_b64(signing.private_key(settings))
    return SigningKeyRead(algorithm=signing.ALGORITHM, public_key=public, key_id=signing.key_id(public))


@router.get("/feed/bundles/{bundle_id}", response_model=FeedBundle, operation_id="get_feed_bundle")
def get_feed_bundle(bundle_id: uuid.UUID, session: DbSession, unit: UnitPrincipal) -> FeedBundle:
    """A bundle in the calling unit's feed, with its materials exactly as published. 404 for a
    bundle not addressed to the unit; 410 once recalled or expired. Marks it fetched."""
    return feeds_service.bundle_for_unit(session, unit.id, bundle_id)


@router.get("/feed/bundles/{bundle_id}/package", operation_id="get_feed_package", response_class=Response)
def get_feed_package(
    bundle_id: uuid.UUID, request: Request, session: DbSession, settings: AppSettings, unit: UnitPrincipal
) -> Response:
    """The bundle as a signed zip for offline use: the same bytes on every request, so an
    interrupted download resumes with Range (and If-Range: the ETag, the zip's SHA-256)."""
    publication = feeds_service.visible_publication(session, unit.id, bundle_id)
    built = package.ensure_package(session, settings, publication)
    bundles_delivery.mark_fetched(session, unit.id, publication)
    etag = f'"{built.sha256}"'
    if concurrency.none_match(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    return PackageResponse(built.path, etag, f"ttdn-{bundle_id}-v{publication.version}.zip")


@router.get(
    "/feed/bundles/{bundle_id}/attachments/{attachment_id}",
    operation_id="get_feed_attachment",
    response_class=Response,
)
def get_feed_attachment(
    bundle_id: uuid.UUID,
    attachment_id: uuid.UUID,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    unit: UnitPrincipal,
) -> Response:
    """One file of the bundle's materials as sent, by itself (its `url` in the bundle): for a unit
    on a poor link that needs only this one. Range and If-Range supported, its SHA-256 the ETag.
    404 if no material of the bundle had it; 410 once the bundle was recalled or expired."""
    attachment = feeds_service.published_attachment(session, unit.id, bundle_id, attachment_id)
    path = attachments_service.stored_path(settings, attachment["sha256"])
    return stored_file(
        request, path, sha256=attachment["sha256"], media_type=attachment["media_type"], filename=attachment["filename"]
    )


@router.post("/feed/bundles/{bundle_id}/ack", status_code=204, operation_id="acknowledge_bundle")
def acknowledge_bundle(
    bundle_id: uuid.UUID,
    session: DbSession,
    settings: AppSettings,
    unit: UnitPrincipal,
    data: Annotated[AckRequest | None, Body()] = None,
) -> Response:
    """Confirm receipt (idempotent). Without a body: the version in your feed. A `version` other
    than that one is a 409; a `manifest_sha256` not matching its package is a 409."""
    feeds_service.acknowledge(session, settings, unit, bundle_id, data)
    return Response(status_code=204)
