"""The AppError tree and the one place that renders every error as RFC 9457 problem+json."""

import json
import logging
import re
import traceback
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from app.context import current_request

log = logging.getLogger("ttdn.errors")

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    status = 400
    title = "Bad Request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = headers or {}
        self.extra = extra or {}


class Unauthorized(AppError):
    status = 401
    title = "Unauthorized"

    def __init__(self, detail: str = "Valid credentials are required.", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(AppError):
    status = 403
    title = "Forbidden"


class NotFound(AppError):
    status = 404
    title = "Not Found"


class NotAcceptable(AppError):
    status = 406
    title = "Not Acceptable"


class Conflict(AppError):
    status = 409
    title = "Conflict"


class Gone(AppError):
    status = 410
    title = "Gone"


class PreconditionFailed(AppError):
    status = 412
    title = "Precondition Failed"


class PayloadTooLarge(AppError):
    status = 413
    title = "Content Too Large"


class UnsupportedMediaType(AppError):
    status = 415
    title = "Unsupported Media Type"


class RangeNotSatisfiable(AppError):
    status = 416
    title = "Range Not Satisfiable"


class ValidationFailed(AppError):
    """A value that parsed but means nothing here (unknown code, ambiguous name...)."""

    status = 422
    title = "Unprocessable Content"

    def __init__(self, loc: Sequence[str | int], msg: str, **kw: Any) -> None:
        super().__init__(msg, errors=[{"loc": list(loc), "msg": msg}], **kw)


class PreconditionRequired(AppError):
    status = 428
    title = "Precondition Required"


class TooManyRequests(AppError):
    status = 429
    title = "Too Many Requests"


class ServiceUnavailable(AppError):
    status = 503
    title = "Service Unavailable"


# SQLite's SQLITE_BUSY and SQLITE_LOCKED (primary codes); PostgreSQL's serialization failure,
# deadlock detected and lock not available: the database was busy, not wrong.
_SQLITE_BUSY_CODES = (5, 6)
_POSTGRES_BUSY_STATES = ("40001", "40P01", "55P03")
BUSY_RETRY_AFTER = "5"


def is_contention(exc: BaseException) -> bool:
    """Whether a database error only means "busy right now": a lock wait that ran out, no free
    pooled connection. The same request sent again later can succeed, so it is a 503."""
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_BUSY_CODES
    return getattr(exc.orig, "sqlstate", None) in _POSTGRES_BUSY_STATES


# A row another request wrote at the same moment: PostgreSQL's unique and foreign-key
# violations, SQLite's (extended codes 2067, 1555 and 787).
_POSTGRES_CLASH_STATES = ("23505", "23503")
_SQLITE_CLASH_CODES = (2067, 1555, 787)
_CLASH_FIELD = re.compile(r"Key \((?:lower\()?(\w+)|constraint failed: \w+\.(\w+)")


def clash(exc: BaseException, extra: dict[str, Any] | None = None) -> JSONResponse | None:
    """A 409 for a write that lost a race the service checks for, one request at a time, before
    writing: a second user with the same email created at the same moment, a row that refers to
    one just deleted. The database's constraint refused it; nothing was saved. None otherwise."""
    if not isinstance(exc, sa_exc.IntegrityError):
        return None
    orig = exc.orig
    if getattr(orig, "sqlite_errorcode", None) not in _SQLITE_CLASH_CODES and (
        getattr(orig, "sqlstate", None) not in _POSTGRES_CLASH_STATES
    ):
        return None
    diag = getattr(orig, "diag", None)
    found = _CLASH_FIELD.search(f"{getattr(diag, 'message_detail', None) or ''} {orig}")
    field = next((name for name in found.groups() if name), None) if found else None
    field = None if field == "id" else field  # a key the caller did not choose names nothing
    return problem(
        409,
        f"Another change made at the same moment conflicts with this one{f' (its {field})' if field else ''}; "
        "nothing was saved. Read the current state and try again.",
        errors=[{"loc": ["body", field], "msg": "conflicts with a change made at the same moment"}] if field else None,
        extra=extra,
    )


# RFC 9110's names where Python's (3.11) are the older ones.
_TITLES = {413: "Content Too Large", 416: "Range Not Satisfiable", 422: "Unprocessable Content"}


def status_title(status: int) -> str:
    return _TITLES.get(status) or HTTPStatus(status).phrase


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or status_title(status),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    if (info := current_request.get()) is not None:
        body["request_id"] = info.request_id  # as X-Request-ID says: what the log lines carry
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


SERVER_ERROR_DETAIL = "An unexpected error occurred; nothing was saved."
TRACEBACK_FRAMES = 6


def server_error(request_id: str | None, detail: str = SERVER_ERROR_DETAIL) -> JSONResponse:
    """The 500 problem: it names the request id, which the log line names too."""
    return problem(500, detail, extra={"request_id": request_id} if request_id else None)


def log_server_error(exc: BaseException, request_id: str | None, method: str, path: str) -> None:
    """One compact record: the request, the error and its causes in a line each, and only the
    innermost frames (the framework's middleware frames above them say nothing)."""
    lines = [f"request {request_id}: {method} {path} failed: {type(exc).__name__}: {exc}".splitlines()[0]]
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(lines) < 4:
        lines.append(f"  caused by {type(cause).__name__}: {cause}".splitlines()[0])
        cause = cause.__cause__ or cause.__context__
    frames = traceback.extract_tb(exc.__traceback__)[-TRACEBACK_FRAMES:]
    for entry in traceback.format_list(frames):
        lines += [line for line in entry.rstrip().splitlines() if line.strip(" ^~")]
    log.error("\n".join(lines))


def _clean_loc(loc: Sequence[Any]) -> list[Any]:
    return [part for part in loc if not (isinstance(part, str) and part.startswith("function-"))]


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [{"loc": _clean_loc(err.get("loc", [])), "msg": error_message(err)} for err in exc.errors()]


def error_message(err: Mapping[str, Any]) -> str:
    """A pydantic error's message, in the words of what was sent where pydantic's are not
    (the API's 422s and the CLI's one-line errors alike)."""
    msg = err.get("msg", "invalid value")
    given, ctx = err.get("input"), err.get("ctx") or {}
    if "Expected UploadFile" in msg:  # a form part without a filename: FastAPI names its Python types
        return "Must be a file: a multipart part with a filename."
    # Text checked after it was normalised and stripped: pydantic counts "items" of a "Value".
    if isinstance(given, str) and err.get("type") == "too_short":
        least = ctx.get("min_length", 1)
        return "Must not be empty." if least == 1 else f"Must have at least {least} characters."
    if isinstance(given, str) and err.get("type") == "too_long":
        return f"Must have at most {ctx.get('max_length')} characters, not {ctx.get('actual_length', len(given))}."
    return msg


def unreadable_body_type(request: Request, exc: RequestValidationError) -> str | None:
    """The Content-Type of a body FastAPI did not read as JSON: it reads only JSON types (and,
    against cross-site forms, no body without a type) and passes anything else on as bytes,
    which no model accepts. That is a 415, not a field error."""
    if not any(err.get("loc") == ("body",) and isinstance(err.get("input"), bytes) for err in exc.errors()):
        return None
    return request.headers.get("content-type", "").split(";")[0].strip()


_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def allowed_methods(request: Request, named: str | None) -> str:
    """The Allow header of a 405: every method the application's routes answer on the request's
    path. Starlette names only those of the first route whose path matched, and one path is
    often several routes (GET, PATCH and DELETE of one material); the OpenAPI document lists
    them all. A path the document does not describe keeps the methods Starlette `named`."""
    state = request.app.state
    table = getattr(state, "allowed_methods", None)
    if table is None:
        table = state.allowed_methods = [
            (compile_path(path)[0], {m.upper() for m in operations if m in _HTTP_METHODS})
            for path, operations in request.app.openapi().get("paths", {}).items()
        ]
    methods = {m.strip() for m in (named or "").split(",") if m.strip()}
    for pattern, answered in table:
        if pattern.match(request.url.path):
            methods |= answered
    if "GET" in methods:
        methods.add("HEAD")  # app.http.HeadMiddleware answers it wherever GET is answered
    return ", ".join(sorted(methods))


# Pages a person reads in a browser (the unit's feed pages): a problem on one of these paths is
# also offered as an HTML page, to a client that prefers text/html. The domain that serves the
# pages registers (path pattern, renderer) here; a renderer takes the problem's body and gives
# the page and the headers it needs.
ProblemPage = Callable[[dict[str, Any]], tuple[str, dict[str, str]]]
problem_pages: list[tuple[re.Pattern[str], ProblemPage]] = []


def for_reader(request: Request, response: JSONResponse) -> Response:
    """`response` (a problem) as a page when its path has one and the client prefers HTML."""
    path = request.url.path
    render = next((page for pattern, page in problem_pages if pattern.fullmatch(path)), None)
    if render is None or response.media_type != PROBLEM_JSON:
        return response
    from app import negotiation  # it raises this module's NotAcceptable: imported when needed

    accept = request.headers.get("accept")
    try:
        if negotiation.choose(accept, [PROBLEM_JSON, "application/json", "text/html"]) != "text/html":
            return response
    except AppError:  # accepts none of them: the problem as it is
        return response
    html, page_headers = render(json.loads(response.body))
    kept = {k: v for k, v in response.headers.items() if k.lower() not in ("content-type", "content-length")}
    return HTMLResponse(html, status_code=response.status_code, headers={**kept, **page_headers, "Vary": "Accept"})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        answer = problem(
            exc.status, exc.detail, title=exc.title, errors=exc.errors, headers=exc.headers, extra=exc.extra
        )
        return for_reader(request, answer)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if (sent := unreadable_body_type(request, exc)) is not None:
            said = f"was {sent}" if sent else "had no Content-Type"
            return problem(
                415,
                f"The body must be JSON, sent with Content-Type: application/json; this one {said}.",
                errors=[{"loc": ["header", "content-type"], "msg": f"Unsupported media type: the body {said}."}],
                headers={"Accept": "application/json"},
            )
        errors = validation_errors(exc)
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors[:5])
        return for_reader(request, problem(422, f"Invalid input: {fields}.", errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else status_title(exc.status_code)
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names the methods of the first route whose path matched; a path served
            # by several routes (GET, PATCH, DELETE of one material) allows all of theirs.
            headers = {**(headers or {}), "Allow": allowed_methods(request, (headers or {}).get("Allow"))}
        return for_reader(request, problem(exc.status_code, detail, headers=headers))

    @app.exception_handler(sa_exc.DBAPIError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def _database(request: Request, exc: sa_exc.SQLAlchemyError) -> JSONResponse:
        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            # The connection died under the request (server restart, failover, a terminated
            # backend): its transaction is gone, and the pool drops the connection.
            log.warning("database connection lost on %s %s", request.method, request.url.path)
            return problem(
                503,
                "The database connection was lost; nothing was saved. Try again.",
                headers={"Retry-After": "1"},
            )
        if (conflict := clash(exc)) is not None:
            log.warning("write clash on %s %s: %s", request.method, request.url.path, type(exc.orig).__name__)
            return conflict
        if not is_contention(exc):
            return await _unhandled(request, exc)
        log.warning(
            "database busy on %s %s: %s",
            request.method,
            request.url.path,
            type(getattr(exc, "orig", None) or exc).__name__,
        )
        return problem(
            503,
            "The database is busy with other changes; nothing was saved. Try again shortly.",
            headers={"Retry-After": BUSY_RETRY_AFTER},
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        # Only reached for errors outside UnhandledErrorMiddleware (app/http.py), which answers the rest.
        request_id = getattr(request.state, "request_id", None)
        log_server_error(exc, request_id, request.method, request.url.path)
        return server_error(request_id)
