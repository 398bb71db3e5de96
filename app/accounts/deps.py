"""Who is calling, resolved once per request; every route declares what it needs here.

Routes under /api/v1 take one of the aliases below. Role checks live in these aliases, never in
handler bodies; rules that depend on the object (four eyes) live in the services.
"""

import base64
import binascii
from collections.abc import Callable
from typing import Annotated

import anyio
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from app.accounts import security, token_cache
from app.accounts import service as accounts_service
from app.accounts.principal import STAFF_ROLES, Principal
from app.config import Settings
from app.db import SAFE_METHODS, get_session, reading_first
from app.errors import Forbidden, Unauthorized
from app.units import keys

# Declared through fastapi.security so OpenAPI shows the schemes; parsed by get_principal.
_auth_header = APIKeyHeader(name="Authorization", auto_error=False, description="Bearer token or Basic")
UNIT_CHALLENGE = {"WWW-Authenticate": 'Bearer, Basic realm="ttdn-hub"'}


# The cheap dependencies below are `async def`: FastAPI runs a plain `def` dependency in a worker
# thread, and a thread hop per dependency cost more than the authentication itself.
async def get_settings_from_app(request: Request) -> Settings:
    return request.app.state.settings


AppSettings = Annotated[Settings, Depends(get_settings_from_app)]


class _NeedsDatabase(Exception):
    """Raised on the event loop's fast path when the answer needs the database after all."""


def _no_session() -> Session:
    raise _NeedsDatabase


async def get_principal(
    request: Request,
    settings: AppSettings,
    authorization: Annotated[str | None, Security(_auth_header)] = None,
) -> Principal:
    """The caller, from `Authorization: Bearer <access token or unit key>` or HTTP Basic
    (unit code and key, for generic feed readers). Resolved once per request.

    A unit key found in the key cache (app/units/keys.py) or a staff token checked a moment ago
    (app/accounts/token_cache.py) is answered here, on the event loop, with no database round
    trip and no thread; anything else goes to a worker thread and the request's session."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    scheme, _, credentials = (authorization or "").partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    try:
        principal = _principal(request, settings, scheme, credentials, _no_session)
    except _NeedsDatabase:
        principal = await anyio.to_thread.run_sync(_principal_from_database, request, settings, scheme, credentials)
    request.state.principal = principal
    return principal


def _principal_from_database(request: Request, settings: Settings, scheme: str, credentials: str) -> Principal:
    def open_session() -> Session:
        return get_session(request)

    if request.method in SAFE_METHODS:
        return _principal(request, settings, scheme, credentials, open_session)
    with reading_first(get_session(request)):
        return _principal(request, settings, scheme, credentials, open_session)


def _principal(
    request: Request, settings: Settings, scheme: str, credentials: str, open_session: Callable[[], Session]
) -> Principal:
    if scheme == "bearer" and keys.looks_like_key(credentials):
        principal = _unit_principal(open_session, credentials, None)
    elif scheme == "bearer" and credentials:
        principal = _staff_principal(open_session, settings, credentials)
    elif scheme == "basic" and credentials:
        unit_code, key = _basic_credentials(credentials)
        principal = _unit_principal(open_session, key, unit_code)
    else:
        raise Unauthorized(headers=UNIT_CHALLENGE)
    return principal


def _staff_principal(open_session: Callable[[], Session], settings: Settings, token: str) -> Principal:
    known = token_cache.lookup(token)
    if known is not None:
        return known
    session = open_session()
    read_at = token_cache.generation()
    claims = security.read_access_token(token, settings.secret_key or "")
    user = accounts_service.get_active_user(session, claims[0]) if claims else None
    # A token from before the last password change or disable carries an older generation.
    if user is None or claims is None or claims[1] != user.token_generation:
        raise Unauthorized(
            "The access token is invalid, expired, replaced by a password change, or its account is disabled."
        )
    principal = Principal(type="user", id=user.id, label=user.email, roles=frozenset(user.roles))
    token_cache.remember(token, principal, claims[2], read_at)
    return principal


def _unit_principal(open_session: Callable[[], Session], key: str, unit_code: str | None) -> Principal:
    owner = keys.owner_of(open_session, key, unit_code)
    if owner is None:
        raise Unauthorized("The key is unknown, revoked, or its unit is inactive.", headers=UNIT_CHALLENGE)
    return Principal(type="unit", id=owner.unit_id, label=owner.unit_code, unit_type=owner.unit_type)


def _basic_credentials(encoded: str) -> tuple[str, str]:
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (ValueError, binascii.Error):
        raise Unauthorized("Malformed Basic credentials.", headers=UNIT_CHALLENGE) from None
    return user, password


def _requires(*roles: str, units: bool = False) -> Callable[[Principal], Principal]:
    allowed = frozenset(roles)

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.type == "unit":
            if units:
                return principal
            raise Forbidden("Border units may read the reference data and their own feed only.")
        if not principal.roles & allowed:
            raise Forbidden(f"This needs one of the roles: {', '.join(sorted(allowed))}.")
        return principal

    return check


async def _unit_only(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.type != "unit":
        raise Forbidden("Only border units have a feed; staff read bundles under /bundles.")
    return principal


BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="ttdn-hub", charset="UTF-8"'}


async def _browser_unit(
    request: Request,
    settings: AppSettings,
    authorization: Annotated[str | None, Security(_auth_header)] = None,
) -> Principal:
    """A unit in a browser: as for the feed, but the challenge names Basic alone, so that the
    browser asks for the unit code and key itself."""
    try:
        principal = await get_principal(request, settings, authorization)
    except Unauthorized as exc:
        raise Unauthorized(exc.detail, headers=BASIC_CHALLENGE) from None
    if principal.type != "unit":
        raise Forbidden("These pages are for border units (HTTP Basic: unit code and key); staff use the API.")
    return principal


# Reference data: every authenticated principal, staff or unit.
AnyPrincipal = Annotated[Principal, Depends(_requires(*STAFF_ROLES, units=True))]
# Reading materials, search, revisions: every staff role.
StaffUser = Annotated[Principal, Depends(_requires(*STAFF_ROLES))]
# Writing materials and bundles.
EditorUser = Annotated[Principal, Depends(_requires("admin", "editor"))]
# Moving materials through review and publication (what each move needs is in the workflow).
WorkflowUser = Annotated[Principal, Depends(_requires("admin", "editor", "reviewer"))]
ReviewerUser = Annotated[Principal, Depends(_requires("admin", "reviewer"))]
AdminUser = Annotated[Principal, Depends(_requires("admin"))]
# Reporting false information: a border unit with its key, or staff who write (not analysts).
ClaimReporter = Annotated[Principal, Depends(_requires("admin", "editor", "reviewer", units=True))]
# Reading claim reports: a unit (only its own, enforced by the service) or any staff.
ClaimReportReader = Annotated[Principal, Depends(_requires(*STAFF_ROLES, units=True))]
# A border unit reading its own feed.
UnitPrincipal = Annotated[Principal, Depends(_unit_only)]
# The same unit reading its feed as pages in a browser.
BrowserUnit = Annotated[Principal, Depends(_browser_unit)]
# Reading the audit trail and reports.
AuditReader = Annotated[Principal, Depends(_requires("admin", "analyst"))]
# The same rule for a whole router that cannot import this module (audit imports no domain).
AUDIT_READERS = Depends(_requires("admin", "analyst"))
