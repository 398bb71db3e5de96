"""Plain ASGI middleware (request ids, security headers, body limits) and file responses."""

import os
import re
import uuid
from abc import ABC, abstractmethod
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, MalformedRangeHeader, RangeNotSatisfiable, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.concurrency import none_match
from app.config import Settings
from app.context import RequestInfo, current_request
from app.errors import log_server_error, problem, server_error
from app.urls import API_PREFIX

_UPLOAD_PATH = re.compile(rf"^{re.escape(API_PREFIX)}/(materials|claim-reports)/[^/]+/attachments/?$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class HttpMiddleware(ABC):
    """Plain ASGI middleware that acts on HTTP requests (`handle`); lifespan and other scopes
    pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None: ...


class TrackedSend:
    """Wraps `send`, remembering whether the response has started: after that, no other answer
    (a problem in place of the response) can be sent."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


class HeadMiddleware(HttpMiddleware):
    """HEAD is GET without the body (RFC 9110 9.3.2): the route that answers GET answers it, with
    the same status and headers (Content-Length included) and no body. FastAPI routes only the
    methods they declare, so a HEAD (a download tool's or a monitor's probe) was a 405."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def headers_only(message: Message) -> None:
            nonlocal finished
            if message["type"] != "http.response.body":
                await send(message)
            elif not finished:
                finished = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class RequestContextMiddleware(HttpMiddleware):
    """Gives every request an id (kept from X-Request-ID when sane) and echoes it back."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        client = scope.get("client")
        token = current_request.set(RequestInfo(request_id=request_id, ip=client[0] if client else None))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request.reset(token)


class SecurityHeadersMiddleware(HttpMiddleware):
    """Adds the headers above to every response that does not set its own: the interactive docs
    (app/docs.py) and the unit's feed pages send a Content-Security-Policy of their own."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class UnhandledErrorMiddleware(HttpMiddleware):
    """Answers an exception no handler took with a 500 problem naming the request id, and logs it
    once, compactly. It sits inside the request-id and security-header middleware so that the
    500 carries both (Starlette's own last-resort handler sits outside every middleware)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        tracked = TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            request_id = scope.get("state", {}).get("request_id")
            log_server_error(exc, request_id, scope["method"], scope["path"])
            if not tracked.started:
                await server_error(request_id)(scope, receive, send)


class BodyTooLarge(HTTPException):
    """An HTTPException so that FastAPI's body parsing re-raises it instead of answering 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes.")


class BodyLimitMiddleware(HttpMiddleware):
    """413 for bodies over the limit: JSON bodies and uploads have separate limits.

    Checks Content-Length up front and counts the bytes of chunked bodies as they arrive.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        super().__init__(app)
        self.settings = settings

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        is_upload = bool(_UPLOAD_PATH.match(scope["path"]))
        limit = self.settings.max_upload_bytes if is_upload else self.settings.max_json_body_bytes
        # Multipart framing adds a little; allow for it so the file itself gets the full limit.
        limit += 64 * 1024 if is_upload else 0
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _send_too_large(scope, receive, send, limit)
            return
        received = 0
        tracked = TrackedSend(send)

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, counting_receive, tracked)
        except BodyTooLarge:
            if not tracked.started:
                await _send_too_large(scope, receive, send, limit)


async def _send_too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """The 413 problem, as every other problem is written (errors.problem: request id included)."""
    response = problem(413, f"The request body is larger than the limit of {limit} bytes.")
    await response(scope, receive, send)


class RangedFileResponse(FileResponse):
    """A FileResponse (Range, If-Range, 206, constant memory). A Range it cannot read (another
    unit than bytes, or not a valid byte range) is ignored and the whole file sent, as RFC 9110
    14.2 asks (Starlette answers a plain-text 400); a range past the end is a 416 problem."""

    def __init__(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        stat = os.stat(path)
        super().__init__(path, stat_result=stat, **kwargs)
        self.size = stat.st_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        requested, if_range = headers.get("range"), headers.get("if-range")
        if requested is not None and (if_range is None or self._should_use_range(if_range)):
            try:
                self._parse_range_header(requested, self.size)
            except MalformedRangeHeader:
                scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"range"]}
            except RangeNotSatisfiable:
                response = problem(
                    416, f"The file has {self.size} bytes.", headers={"Content-Range": f"bytes */{self.size}"}
                )
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def stored_file(
    request: Request, path: str | os.PathLike[str], *, sha256: str, media_type: str, filename: str
) -> Response:
    """A stored file, named by its SHA-256 (the ETag): 304 to a matching If-None-Match, else the
    file with Range support. One place for every route that serves an attachment."""
    tag = f'"{sha256}"'
    if none_match(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    return RangedFileResponse(path, media_type=media_type, filename=filename, headers=headers)
