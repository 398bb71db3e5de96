"""Protection of the acknowledge form against cross-site request forgery.

A browser sends HTTP Basic credentials with every request to the service, whichever site made
it, so a form post needs more than the credentials. Three layers, all checked:

- a per-page token: `expires.nonce.mac`, the MAC an HMAC-SHA256 under the service's secret key
  over (unit, bundle, version, expires, nonce): another unit's, bundle's or version's token, an
  old or altered one, fails;
- the same nonce in a cookie set with the page (HttpOnly, SameSite=Strict, scoped to the page's
  path): another site can neither read the token nor make the browser send the cookie;
- the request's own Origin (or Referer) and Sec-Fetch-Site must say it came from this service.
"""

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass

from fastapi import Request

from app.errors import Forbidden

TOKEN_TTL = 4 * 3600
COOKIE = "ttdn_ack"
_SAME_SITE_FETCH = {"same-origin", "none"}


@dataclass(frozen=True)
class Binding:
    unit_id: uuid.UUID
    bundle_id: uuid.UUID
    version: int


def _mac(secret: str, binding: Binding, expires: int, nonce: str) -> str:
    message = f"feed-ack|{binding.unit_id}|{binding.bundle_id}|{binding.version}|{expires}|{nonce}"
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def valid_nonce(value: str | None) -> bool:
    return bool(value) and 16 <= len(value or "") <= 64 and all(c.isalnum() or c in "-_" for c in value or "")


def issue(secret: str, binding: Binding, nonce: str, now: float | None = None) -> str:
    expires = int(now if now is not None else time.time()) + TOKEN_TTL
    return f"{expires}.{nonce}.{_mac(secret, binding, expires, nonce)}"


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def _origin_of(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if sep else url


def check_origin(request: Request) -> None:
    """Refuse a post that the browser says came from elsewhere."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in _SAME_SITE_FETCH:
        raise Forbidden(f"Cross-site form post refused (Sec-Fetch-Site: {fetch_site}).")
    origin = request.headers.get("origin")
    referer = request.headers.get("referer")
    claimed = origin if origin is not None else (_origin_of(referer) if referer else None)
    if claimed is None and fetch_site is None:
        # Every browser that shows the page names where a form post comes from (Origin, or at
        # least Sec-Fetch-Site or Referer); a post that names nothing shows no origin at all.
        raise Forbidden("Form post with no origin refused; acknowledge from the bundle's page.")
    if claimed is not None and claimed != own_origin(request):
        raise Forbidden(f"Form post from another origin refused ({claimed}); acknowledge from the bundle's page.")


def check(request: Request, secret: str, binding: Binding, token: str, now: float | None = None) -> None:
    """Raise Forbidden (403 problem) unless this post carries a valid token for this unit,
    bundle and version, with the page's cookie, from this service's own pages."""
    check_origin(request)
    if not token:
        raise Forbidden("The form has no token; reload the bundle's page and acknowledge from there.")
    expires_text, _, rest = token.partition(".")
    nonce, _, mac = rest.partition(".")
    if not expires_text.isdigit() or not valid_nonce(nonce) or not mac:
        raise Forbidden("The form's token is malformed; reload the bundle's page.")
    if not hmac.compare_digest(mac, _mac(secret, binding, int(expires_text), nonce)):
        raise Forbidden("The form's token is not for this unit, bundle and version; reload the bundle's page.")
    if int(expires_text) < int(now if now is not None else time.time()):
        raise Forbidden("The form's token has expired; reload the bundle's page.")
    cookie = request.cookies.get(COOKIE)
    if cookie is None or not hmac.compare_digest(cookie, nonce):
        raise Forbidden("The page's cookie is missing or does not match the form; reload the bundle's page.")
