"""Walks the application's own route table: no /api/v1 route but /auth/token answers without credentials."""

import re

from fastapi.routing import iter_route_contexts

PUBLIC = {("POST", "/api/v1/auth/token")}
UNAUTHENTICATED_OPS = {"/healthz", "/readyz", "/metrics"}


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "0190d0a8-0000-7000-8000-000000000000", path)


def api_routes(app):
    """(method, path) of every route the application serves, included routers flattened."""
    for route in iter_route_contexts(app.routes):
        if route.path.startswith("/api/v1"):
            for method in (route.methods or set()) - {"HEAD", "OPTIONS"}:
                yield method, route.path


def test_every_api_route_refuses_anonymous_callers(app, client):
    routes = list(api_routes(app))
    assert len(routes) > 15
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        response = client.request(method, concrete(path))
        assert response.status_code == 401, f"{method} {path} answered {response.status_code} without credentials"


def test_operations_endpoints_are_open(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/metrics").status_code == 200
