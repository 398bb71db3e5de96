"""What is known about the current request outside the route: its id and the caller's address.

Set by RequestContextMiddleware; read by the audit trail. Context variables follow the request
into the worker thread that runs a sync route.
"""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    request_id: str
    ip: str | None


current_request: ContextVar[RequestInfo | None] = ContextVar("current_request", default=None)
