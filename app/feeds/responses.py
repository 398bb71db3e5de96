"""HTTP for feeds: conditional GET from a cheap version, gzip for text, ranges for packages."""

import gzip
import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request, Response

from app.concurrency import none_match
from app.http import RangedFileResponse

CACHE_CONTROL = "private, no-cache"
VARY = "Accept-Encoding, Authorization"
GZIP_LEVEL = 6


def strong_etag(*parts: object) -> str:
    return '"' + hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:40] + '"'


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether Accept-Encoding allows gzip (by name, or by `*`), honouring q=0."""
    weights: dict[str, float] = {}
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.strip().partition(";")
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
        if coding:
            weights[coding.strip().lower()] = q
    for coding in ("gzip", "x-gzip"):
        if coding in weights:
            return weights[coding] > 0
    return weights.get("*", 0.0) > 0


def last_modified(at: datetime | None, now: datetime) -> datetime | None:
    """The Last-Modified to announce: the second of the latest change, once that second is over;
    during it, the second before. HTTP dates count whole seconds, and another change could follow
    in the same second: a client whose copy dates from that second is then told "modified since"
    (one more full answer) rather than a wrong 304 (RFC 9110 §8.8.2.2, §13.1.3)."""
    if at is None:
        return None
    second = at.replace(microsecond=0)
    return second if int(now.timestamp()) > int(at.timestamp()) else second - timedelta(seconds=1)


def not_modified_since(request: Request, changed_at: datetime | None) -> bool:
    """If-Modified-Since (ignored beside If-None-Match) names a second no change came after."""
    given = request.headers.get("if-modified-since")
    if given is None or changed_at is None or "if-none-match" in request.headers:
        return False
    try:
        since = parsedate_to_datetime(given)
    except (TypeError, ValueError):
        return False
    # A date later than the server's clock says nothing of what the client holds: ignored.
    if since.tzinfo is None or since > datetime.now(UTC):
        return False
    return changed_at.replace(microsecond=0) <= since


def _conditional(request: Request, version_tag: str, changed_at: datetime | None) -> tuple[dict[str, str], bool, bool]:
    """(headers, gzipped, whether the caller's copy is current) for a feed representation."""
    gzipped = accepts_gzip(request.headers.get("accept-encoding"))
    plain, compressed = version_tag, version_tag[:-1] + '-gzip"'
    etag = compressed if gzipped else plain
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": VARY}
    if (modified := last_modified(changed_at, datetime.now(UTC))) is not None:
        headers["Last-Modified"] = format_datetime(modified, usegmt=True)
    # Either encoding's tag names the same version of the feed: a client that fetched it with
    # gzip and polls without (or the other way round) holds it all the same.
    current = none_match(request, plain) or none_match(request, compressed)
    return headers, gzipped, current or not_modified_since(request, changed_at)


def not_modified(request: Request, version_tag: str, changed_at: datetime | None) -> Response | None:
    """The 304 for a caller whose copy is current, else None (the body must be built)."""
    headers, _, current = _conditional(request, version_tag, changed_at)
    return Response(status_code=304, headers=headers) if current else None


def feed_response(
    request: Request, render: Callable[[], bytes], media_type: str, version_tag: str, changed_at: datetime | None
) -> Response:
    """200 (gzipped when allowed) or 304, with a strong ETag per representation; `render` runs
    only when the body is actually needed."""
    headers, gzipped, current = _conditional(request, version_tag, changed_at)
    if current:
        return Response(status_code=304, headers=headers)
    body = render()
    if gzipped:
        body = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=media_type, headers=headers)


class PackageResponse(RangedFileResponse):
    """An offline package: a zip served with Range support, its SHA-256 as the ETag."""

    def __init__(self, path: str | os.PathLike[str], etag: str, filename: str) -> None:
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
        super().__init__(path, headers=headers, media_type="application/zip", filename=filename)
