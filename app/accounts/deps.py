"""Who is calling, resolved once per request; every route declares what it needs here.

Routes under /api/v1 take one of the aliases below. Role checks live in these aliases, never in
handler bodies; rules that depend on the object (four eyes) live in the services.
"""

import base64
import binascii
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from app.accounts import security
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


def get_principal(
    request: Request,
    settings: AppSettings,
    authorization: Annotated[str | None, Security(_auth_header)] = None,
) -> Principal:
    """The caller, from `Authorization: Bearer <access token or unit key>` or HTTP Basic
    (unit code and key, for generic feed readers). Resolved once per request.

    The request's database session is opened only when it is needed: a unit key found in the
    key cache (keys.py) needs none, so such a request makes no database round trip at all."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    scheme, _, credentials = (authorization or "").partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if request.method in SAFE_METHODS:
        principal = _principal(request, settings, scheme, credentials)
    else:
        with reading_first(get_session(request)):
            principal = _principal(request, settings, scheme, credentials)
    request.state.principal = principal
    return principal


def _principal(request: Request, settings: Settings, scheme: str, credentials: str) -> Principal:
    if scheme == "bearer" and keys.looks_like_key(credentials):
        principal = _unit_principal(request, credentials, None)
    elif scheme == "bearer" and credentials:
        principal = _staff_principal(get_session(request), settings, credentials)
    elif scheme == "basic" and credentials:
        unit_code, key = _basic_credentials(credentials)
        principal = _unit_principal(request, key, unit_code)
    else:
        raise Unauthorized(headers=UNIT_CHALLENGE)
    return principal


def _staff_principal(session: Session, settings: Settings, token: str) -> Principal:
    claims = security.read_access_token(token, settings.secret_key or "")
    user = accounts_service.get_active_user(session, claims[0]) if claims else None
    # A token from before the last password change or disable carries an older generation.
    if user is None or claims is None or claims[1] != user.token_generation:
        raise Unauthorized(
            "The access token is invalid, expired, replaced by a password change, or its account is disabled."
        )
    return Principal(type="user", id=user.id, label=user.email, roles=frozenset(user.roles))


def _unit_principal(request: Request, key: str, unit_code: str | None) -> Principal:
    owner = keys.owner_of(lambda: get_session(request), key, unit_code)
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


def _browser_unit(
    request: Request,
    settings: AppSettings,
    authorization: Annotated[str | None, Security(_auth_header)] = None,
) -> Principal:
    """A unit in a browser: as for the feed, but the challenge names Basic alone, so that the
    browser asks for the unit code and key itself."""
    try:
        principal = get_principal(request, settings, authorization)
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
