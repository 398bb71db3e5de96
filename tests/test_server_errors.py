"""A 500 (there should be none) still names its request id, carries the security headers and
is logged once, compactly, with that id."""

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.http import SECURITY_HEADERS
from tests.factories import material_data


def _broken(app):
    def fail_deep(depth: int) -> None:
        if depth:
            fail_deep(depth - 1)
        raise RuntimeError("the disk caught fire")

    async def broken() -> None:
        try:
            fail_deep(40)
        except RuntimeError as exc:
            raise LookupError("while reading the thing") from exc

    app.add_api_route("/api/v1/broken", broken, methods=["GET"])


def test_a_500_names_its_request_id_in_header_body_and_log(app, caplog):
    _broken(app)
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/broken", headers={"X-Request-ID": "req-4242"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-4242"
    assert response.json()["request_id"] == "req-4242"
    assert "fire" not in response.text and "Traceback" not in response.text
    for name, value in SECURITY_HEADERS:
        assert response.headers[name.decode()] == value.decode()
    records = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(records) == 1
    message = records[0].getMessage()
    assert message.startswith("request req-4242: GET /api/v1/broken failed: LookupError: while reading the thing")
    assert "caused by RuntimeError: the disk caught fire" in message
    assert len(message.splitlines()) <= 15  # not the 40 frames of the failing call, nor the middleware's


def test_a_500_without_a_given_id_gets_one(app):
    _broken(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/broken")
    assert response.status_code == 500
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_a_failed_commit_names_its_request_id_too(client, auth, session_factory, caplog):
    def refuse(_session) -> None:
        raise RuntimeError("disk full")

    event.listen(session_factory, "before_commit", refuse)
    try:
        with caplog.at_level(logging.ERROR):
            response = client.post(
                "/api/v1/materials", json=material_data(), headers={**auth("editor"), "X-Request-ID": "commit-7"}
            )
    finally:
        event.remove(session_factory, "before_commit", refuse)
    assert response.status_code == 500 and response.json()["request_id"] == "commit-7"
    assert response.headers["x-request-id"] == "commit-7" and response.headers["x-frame-options"] == "DENY"
    assert "disk full" not in response.text
    assert [r.getMessage().splitlines()[0] for r in caplog.records if r.levelno >= logging.ERROR] == [
        "request commit-7: POST /api/v1/materials failed: RuntimeError: disk full"
    ]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/materials/0190d0a8-0000-7000-8000-000000000000", 404),
        ("GET", "/api/v1/materials?limit=0", 422),
        ("GET", "/api/v1/me", 401),
        ("PUT", "/api/v1/materials", 405),
        ("GET", "/api/v1/nothing-here", 404),
    ],
)
def test_every_problem_repeats_the_request_id(client, auth, method, path, status):
    headers = auth("analyst") if path != "/api/v1/me" else {}
    response = client.request(method, path, headers={**headers, "X-Request-ID": "req-problem-1"})
    assert response.status_code == status
    assert response.headers["x-request-id"] == "req-problem-1"
    assert response.json()["request_id"] == "req-problem-1"
