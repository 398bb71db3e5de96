"""Logs an operator can use: one JSON object per line when nobody is watching a terminal.

`configure_logging()` runs once per process (create_app calls it). On a terminal the format is
the human one; otherwise (systemd, containers, files) each record is a JSON line with `level`,
`time`, `logger`, `message` and the request's id, so a log shipper needs no parsing rules.
`AccessLogMiddleware` writes one line per request: principal (type, id, label: never a
credential), method, route template, status and duration. Uvicorn's own access log is turned
off by `ttdn serve` so that each request is logged once.
"""

import logging
import sys
import time
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from starlette.types import Message, Receive, Scope, Send

from app import metrics
from app.context import current_request
from app.http import HttpMiddleware

HUMAN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
_MARKER = "_ttdn_handler"
access_log = logging.getLogger("ttdn.access")


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record is emitted (not when configured), as the
    standard library's last-resort handler does: a test or an embedding tool may replace it."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


class RequestIdFilter(logging.Filter):
    """Adds the current request's id (or "-") to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            info = current_request.get()
            record.request_id = info.request_id if info else "-"
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "%(levelname)s %(asctime)s %(name)s %(message)s %(request_id)s",
        rename_fields={"levelname": "level", "asctime": "time", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        json_ensure_ascii=False,
    )


def configure_logging(log_format: str = "auto", level: str = "INFO") -> None:
    """Idempotent: replaces the handler a previous call installed, leaves others alone."""
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    handler = StderrHandler()
    handler.setFormatter(json_formatter() if use_json else logging.Formatter(HUMAN_FORMAT))
    handler.addFilter(RequestIdFilter())
    setattr(handler, _MARKER, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARKER, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The Elasticsearch client and httpx log every request they send at INFO: a second line per
    # search next to the access log's (which has the duration and the request id). Their warnings
    # and errors still show; LOG_LEVEL=DEBUG shows everything.
    for name in ("elastic_transport", "httpx"):
        logging.getLogger(name).setLevel(logging.NOTSET if level.upper() == "DEBUG" else logging.WARNING)
    # Uvicorn's loggers reach the same handler, in the same format.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def route_template(scope: Scope) -> str:
    """The matched route as a template ("/api/v1/materials/{material_id}"), so metrics keep one
    series per route, not per id; "(unmatched)" when no route matched (404, 405)."""
    if scope.get("route") is None:
        return "(unmatched)"
    segments = scope.get("path", "").split("/")
    for name, value in scope.get("path_params", {}).items():
        segments = [f"{{{name}}}" if segment == str(value) else segment for segment in segments]
    return "/".join(segments)


def _principal(scope: Scope) -> dict[str, Any] | None:
    principal = scope.get("state", {}).get("principal")
    if principal is None:
        return None
    return {"type": principal.type, "id": str(principal.id), "label": principal.label}


class AccessLogMiddleware(HttpMiddleware):
    """One log line and the request metrics per HTTP request (inside RequestContextMiddleware,
    so the line carries the request id; outside everything else, so it sees the final status)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            duration = time.perf_counter() - started
            route = route_template(scope)
            metrics.observe_request(scope["method"], route, status, duration)
            access_log.info(
                "%s %s %s %.1f ms",
                scope["method"],
                scope.get("path", ""),
                status,
                duration * 1000,
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(duration * 1000, 1),
                    "principal": _principal(scope),
                },
            )
