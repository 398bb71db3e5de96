"""What an operator sees: JSON log lines with the request id and principal (never a secret), and
the metrics an on-call person looks at."""

import json
import re

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.factories import TEST_PASSWORD, material_data


def _json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.fixture
def json_client(settings, session_factory, search_backend, capsys):
    chosen = settings.model_copy(update={"log_format": "json"})
    app = create_app(chosen, session_factory=session_factory, search_backend=search_backend)
    with TestClient(app, raise_server_exceptions=False) as client:
        capsys.readouterr()
        yield client


def test_access_log_is_json_with_request_id_and_principal(json_client, auth, users, capsys):
    headers = auth("editor")
    response = json_client.get("/api/v1/me", headers={**headers, "X-Request-ID": "trace-me-123"})
    assert response.status_code == 200
    err = capsys.readouterr().err
    lines = _json_lines(err)
    access = [line for line in lines if line.get("logger") == "ttdn.access" and line.get("route") == "/api/v1/me"]
    assert access, err
    line = access[-1]
    assert line["level"] == "INFO"
    assert line["request_id"] == "trace-me-123"
    assert line["status"] == 200 and line["method"] == "GET"
    assert isinstance(line["duration_ms"], int | float)
    assert line["principal"] == {"type": "user", "id": str(users["editor"].id), "label": "editor@example.test"}
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", line["time"])
    token = headers["Authorization"].split(" ", 1)[1]
    assert token not in json.dumps(lines)


def test_failed_sign_in_is_logged_without_the_password(json_client, users, capsys):
    wrong = "definitely-not-" + TEST_PASSWORD
    response = json_client.post("/api/v1/auth/token", data={"username": "editor@example.test", "password": wrong})
    assert response.status_code == 401
    err = capsys.readouterr().err
    lines = _json_lines(err)
    assert any(line.get("route") == "/api/v1/auth/token" and line.get("status") == 401 for line in lines)
    assert wrong not in err and TEST_PASSWORD not in err


def test_text_format_on_request(settings, session_factory, search_backend, capsys):
    chosen = settings.model_copy(update={"log_format": "text"})
    app = create_app(chosen, session_factory=session_factory, search_backend=search_backend)
    with TestClient(app) as client:
        capsys.readouterr()
        client.get("/healthz", headers={"X-Request-ID": "plain-42"})
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if "ttdn.access" in line and "/healthz" in line)
    assert "[plain-42]" in line and not line.lstrip().startswith("{")


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        if head.split("{")[0] != name:
            continue
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    return 0.0


def test_metrics_show_backlog_feed_fetches_and_requests(client, auth, users, make_unit, index_now):
    index_now()
    before = client.get("/metrics").text
    assert _metric(before, "ttdn_indexing_backlog") == 0
    created = client.post("/api/v1/materials", json=material_data(), headers=auth("editor"))
    assert created.status_code == 201
    assert client.get(f"/api/v1/materials/{created.json()['id']}", headers=auth("editor")).status_code == 200
    unit = make_unit("OPS-1", type="police")
    assert client.get("/api/v1/feed", headers=unit.headers).status_code == 200
    assert client.get("/api/v1/feed.atom", headers=unit.basic).status_code == 200

    after = client.get("/metrics")
    assert after.status_code == 200 and after.headers["content-type"].startswith("text/plain")
    text = after.text
    assert _metric(text, "ttdn_database_up") == 1
    assert _metric(text, "ttdn_indexing_backlog") == 1
    assert _metric(text, "ttdn_indexing_backlog_age_seconds") >= 0
    for fmt in ("json", "atom"):
        grown = _metric(text, "ttdn_feed_fetches_total", unit_type="police", format=fmt) - _metric(
            before, "ttdn_feed_fetches_total", unit_type="police", format=fmt
        )
        assert grown == 1
    route = "/api/v1/materials"
    made = _metric(text, "ttdn_http_requests_total", method="POST", route=route, status="201") - _metric(
        before, "ttdn_http_requests_total", method="POST", route=route, status="201"
    )
    assert made == 1
    assert "ttdn_db_pool_checked_out" in text
    # One series per route template, not one per id.
    assert _metric(text, "ttdn_http_requests_total", route="/api/v1/materials/{material_id}", status="200") >= 1, [
        line for line in text.splitlines() if "materials" in line
    ]
    assert created.json()["id"] not in text
    # Nothing secret in the metrics: no key, no token.
    assert unit.key not in text

    index_now()
    assert _metric(client.get("/metrics").text, "ttdn_indexing_backlog") == 0
