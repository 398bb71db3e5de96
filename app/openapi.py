"""The OpenAPI document, with every operation's error answers as they really are.

FastAPI lists only the success and a 422 in its own format. Here one function, run whenever the
document is built, derives each operation's problem answers from what the route depends on, so a
route added later is documented without doing anything:

- any parameter or body: 400 (not UTF-8) and 422 (RFC 9457 problem with `errors`);
- a caller resolved from credentials (`get_principal`): 401 and 403;
- an id in the path: 404;
- a write (POST, PUT, PATCH, DELETE): 409; a body: 413, and 415 (not sent as JSON);
- `If-Match`: 412, and on PATCH and DELETE, where API.md requires it, 428 and `required: true`;
- the database (`request_session`): 503 (overloaded, or a backing service down; see Retry-After).

What cannot be derived (429 on sign-in, 415 on upload (the file's type), 416 on ranges, 410 on recalled bundles,
the media type of a route that is not JSON) is named per operation below, or by the route itself
with FastAPI's `responses={status: {"description": ...}}`, whose content this fills in.
"""

from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.accounts.deps import get_principal
from app.db import request_session
from app.errors import PROBLEM_JSON

# The order the document presents the API in (the routers are included in dispatch order,
# hot paths first; see create_app). Operations are listed by their first tag in this order.
OPENAPI_TAGS = (
    "accounts",
    "reference data",
    "materials",
    "search",
    "units",
    "bundles",
    "feeds",
    "organisations",
    "claims",
    "reports",
    "webhooks",
    "audit",
    "operations",
)

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
IF_MATCH_REQUIRED = frozenset({"patch", "delete"})

# Problems a route answers that its dependencies do not show, by operation id.
EXTRA_PROBLEMS: dict[str, set[int]] = {
    "issue_token": {401, 429},
    # A wrong current password counts like a failed sign-in, so the same throttle answers.
    "change_my_password": {429},
    "upload_claim_report_attachment": {415},
    "upload_attachment": {415},
    "download_attachment": {416},
    "download_claim_report_attachment": {416},
    "get_feed_attachment": {410, 416},
    "get_feed_bundle": {410},
    "get_feed_package": {410, 416},
    "acknowledge_bundle": {410},
    "report_yearly": {406},
}
# Answers that are not JSON (or not a problem), by operation id and status.
MEDIA_TYPES: dict[str, dict[int, str]] = {
    "download_attachment": {200: "*/*"},
    "download_claim_report_attachment": {200: "*/*"},
    "get_feed_attachment": {200: "*/*"},
    "get_feed_atom": {200: "application/atom+xml"},
    "get_feed_json_feed": {200: "application/feed+json"},
    "get_feed_package": {200: "application/zip"},
    "metrics": {200: "text/plain"},
    "readyz": {503: "application/json"},
}

DESCRIPTIONS = {
    400: "The query string, form or JSON body is not UTF-8, or a header is malformed",
    401: "Credentials are missing, invalid or expired",
    403: "The caller may not do this",
    404: "Nothing with this id (or not visible to the caller)",
    406: "The Accept header allows none of the media types offered",
    409: "The change conflicts with the current state",
    410: "It existed but was withdrawn",
    412: "If-Match does not match the current ETag (someone else changed it)",
    413: "The body is larger than the limit",
    415: "The content type is not accepted",
    416: "The Range cannot be satisfied",
    422: "A value is invalid; `errors` names each field (`loc`) and the reason (`msg`)",
    428: "If-Match is required",
    429: "Too many attempts; see Retry-After",
    503: "Temporarily unavailable (overloaded, or a backing service is down); see Retry-After",
}

SCHEMAS: dict[str, Any] = {
    "ProblemError": {
        "type": "object",
        "required": ["loc", "msg"],
        "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"},
        },
    },
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ProblemError"}},
            "request_id": {"type": "string"},
        },
    },
    "ValidationProblem": {
        "allOf": [{"$ref": "#/components/schemas/Problem"}, {"type": "object", "required": ["errors"]}],
    },
}


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` (and /openapi.json) return the document with its errors described."""
    build = app.openapi
    described: list[int] = []

    def openapi() -> dict[str, Any]:
        schema = build()
        if described != [id(schema)]:
            describe_errors(schema, app)
            in_documentation_order(schema)
            described[:] = [id(schema)]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def in_documentation_order(schema: dict[str, Any]) -> None:
    """Paths grouped by their first operation's first tag, in OPENAPI_TAGS order (a stable
    sort: within a tag, the order the routes were declared in)."""

    def rank(item: tuple[str, dict[str, Any]]) -> int:
        tags = [tag for operation in item[1].values() for tag in operation.get("tags", [])]
        return OPENAPI_TAGS.index(tags[0]) if tags and tags[0] in OPENAPI_TAGS else len(OPENAPI_TAGS)

    schema["paths"] = dict(sorted(schema["paths"].items(), key=rank))
    schema["tags"] = [{"name": tag} for tag in OPENAPI_TAGS]


def describe_errors(schema: dict[str, Any], app: FastAPI) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(SCHEMAS)
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, method, route in _operations(app):
        operation = schema["paths"].get(path, {}).get(method)
        if operation is None:
            continue
        operation_id = operation.get("operationId", "")
        declared = {int(code) for code in route.responses if str(code).isdigit() and int(code) >= 400}
        media_types = MEDIA_TYPES.get(operation_id, {})
        for status in sorted(derived_statuses(route, method) | declared | EXTRA_PROBLEMS.get(operation_id, set())):
            if status not in media_types:
                _problem_response(operation, status)
        for status, media_type in media_types.items():
            response = operation["responses"].setdefault(str(status), {"description": HTTPStatus(status).phrase})
            response["content"] = {
                media_type: {"schema": response.get("content", {}).get("application/json", {}).get("schema", {})}
            }
        if "if_match" in _header_names(route.dependant) and method in IF_MATCH_REQUIRED:
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
                    parameter["required"] = True
                    parameter["schema"] = {"type": "string"}


def derived_statuses(route: Any, method: str) -> set[int]:
    dependant: Dependant = route.dependant
    calls = set(_calls(dependant))
    params = list(_all_params(dependant))
    statuses: set[int] = set()
    if params:
        statuses |= {400, 422}
    if get_principal in calls:
        statuses |= {401, 403}
    if any(node.path_params for node in _nodes(dependant)):
        statuses.add(404)
    if method in WRITE_METHODS:
        statuses.add(409)
    if any(node.body_params for node in _nodes(dependant)):
        statuses |= {413, 415}
    if "if_match" in _header_names(dependant):
        statuses |= {412, 428} if method in IF_MATCH_REQUIRED else {412}
    if request_session in calls or get_principal in calls:
        statuses.add(503)
    return statuses


def _problem_response(operation: dict[str, Any], status: int) -> None:
    schema = "ValidationProblem" if status == 422 else "Problem"
    response = operation.setdefault("responses", {}).setdefault(str(status), {})
    if not response.get("description") or status == 422:
        response["description"] = DESCRIPTIONS.get(status, HTTPStatus(status).phrase)
    response["content"] = {PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _operations(app: FastAPI) -> Iterator[tuple[str, str, Any]]:
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            for method in context.methods or ():
                yield context.path_format, method.lower(), context


def _nodes(dependant: Dependant) -> Iterator[Dependant]:
    stack = [dependant]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.dependencies)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for node in _nodes(dependant):
        if node.call is not None:
            yield node.call


def _all_params(dependant: Dependant) -> Iterator[Any]:
    for node in _nodes(dependant):
        yield from node.path_params
        yield from node.query_params
        yield from node.header_params
        yield from node.cookie_params
        yield from node.body_params


def _header_names(dependant: Dependant) -> set[str]:
    return {field.name for node in _nodes(dependant) for field in node.header_params}
