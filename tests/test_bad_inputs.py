"""Bad input gets a 4xx RFC 9457 problem that names the field and the reason, never a 500.

Each case here once gave a 500 or was accepted when it should not have been (issue 7, §5).
"""

import base64
import json

import pytest
from sqlalchemy import func, select

from app.materials.models import Material
from tests.factories import make_material, material_data

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, loc: list | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["detail"]
    if loc is not None:
        assert loc in [error["loc"] for error in body["errors"]], body
    return body


def forged_cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "field, value",
    [
        ("publish_at", "9999-12-31T23:59:59-14:00"),
        ("publish_at", "0001-01-01T00:00:00+14:00"),
        ("expires_at", "9999-12-31T20:00:00-14:00"),
    ],
)
def test_timestamp_out_of_range_in_utc_is_422(client, auth, field, value):
    response = client.post("/api/v1/materials", json=material_data(**{field: value}), headers=auth("editor"))
    body = assert_problem(response, 422, ["body", field])
    assert "range" in body["errors"][0]["msg"]


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00", "9999-12-31T23:59:59.999999-00:01"]
)
def test_a_claim_reports_observed_at_out_of_range_is_422(client, auth, value):
    # Once a 500 (OverflowError in the database type) that any unit's key could cause.
    response = client.post("/api/v1/claim-reports", json={"summary": "x", "observed_at": value}, headers=auth("editor"))
    assert "range" in assert_problem(response, 422, ["body", "observed_at"])["errors"][0]["msg"]


@pytest.mark.parametrize("value", [253402300800, 1700000000.5, "1700000000", "1700000000000", True, "2026"])
def test_a_timestamp_is_rfc3339_text_never_a_number(client, auth, value):
    # Pydantic reads numbers (and strings of digits) as seconds since 1970: 253402300800 was stored
    # as 1978-01-11. The contract's timestamps are RFC 3339.
    for url, body, name in (
        ("/api/v1/materials", material_data(publish_at=value), "publish_at"),
        ("/api/v1/claim-reports", {"summary": "x", "observed_at": value}, "observed_at"),
    ):
        msg = assert_problem(client.post(url, json=body, headers=auth("editor")), 422, ["body", name])["errors"][0]
        assert "RFC 3339" in msg["msg"]
    for url, name in (("/api/v1/search", "published_from"), ("/api/v1/audit", "since"), ("/api/v1/audit", "until")):
        assert_problem(client.get(url, params={name: str(value)}, headers=auth("admin")), 422, ["query", name])


@pytest.mark.parametrize(
    "name, value",
    [
        ("published_from", "0001-01-01T00:00:00+14:00"),
        ("published_to", "9999-12-31T23:59:59-14:00"),
        ("published_to", "9999-12-31T23:59:59.999999-00:01"),
    ],
)
def test_search_dates_out_of_range_are_422(client, auth, name, value):
    assert_problem(client.get("/api/v1/search", params={name: value}, headers=auth("editor")), 422, ["query", name])
    assert_problem(client.get("/api/v1/materials", params={name: value}, headers=auth("editor")), 422, ["query", name])


@pytest.mark.parametrize(
    "name, value",
    [("published_from", "0001-01-01T00:00:00Z"), ("published_to", "9999-12-31T23:59:59.999999Z")],
)
def test_search_dates_at_the_ends_of_the_range_work(client, auth, session, users, index_now, name, value):
    make_material(session, users["editor"], status="published")
    session.commit()
    index_now()
    for path in ("/api/v1/search", "/api/v1/materials"):
        response = client.get(path, params={name: value, "sort": "newest"}, headers=auth("editor"))
        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"s": "newest", "a": ["9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59-14:00", "x"]},
        {"s": "newest", "a": [2**70, 2**70, "0190a000-0000-7000-8000-000000000000"]},
        {"s": "newest", "a": [-(2**70), 0, "0190a000-0000-7000-8000-000000000000"]},
        {"s": "relevance", "a": [float("inf"), "0190a000-0000-7000-8000-000000000000"]},
        {"s": "newest", "a": "x" * 10},
        ["s", "a"],
        "newest",
    ],
)
def test_forged_search_cursors_are_422(client, auth, payload):
    params = {"cursor": forged_cursor(payload), "sort": "newest" if payload != {"s": "relevance"} else "relevance"}
    if isinstance(payload, dict) and payload.get("s") == "relevance":
        params = {**params, "q": "Mông", "sort": "relevance"}
    assert_problem(client.get("/api/v1/search", params=params, headers=auth("editor")), 422, ["query", "cursor"])


def test_deeply_nested_cursor_is_422(client, auth):
    short = base64.urlsafe_b64encode(("[" * 1400).encode()).decode().rstrip("=")
    for path in ("/api/v1/search", "/api/v1/materials"):
        response = client.get(path, params={"cursor": short}, headers=auth("editor"))
        assert_problem(response, 422, ["query", "cursor"])


@pytest.mark.parametrize("field", ["title", "summary", "body", "source"])
@pytest.mark.parametrize("bad", ["\ud800", "a\x00b"])
def test_lone_surrogates_and_nul_in_json_text_are_422(client, auth, field, bad):
    raw = json.dumps(material_data(**{field: f"Tiêu đề {bad} cuối"}))  # ASCII-escaped: \ud800, \u0000
    response = client.post(
        "/api/v1/materials", content=raw, headers={**auth("editor"), "Content-Type": "application/json"}
    )
    body = assert_problem(response, 422, ["body", field])
    assert "surrogate" in body["errors"][0]["msg"] or "NUL" in body["errors"][0]["msg"]


def test_nul_in_a_nested_list_names_the_position(client, auth):
    response = client.post(
        "/api/v1/materials", json=material_data(topics=["culture-heritage", "x\x00"]), headers=auth("editor")
    )
    assert_problem(response, 422, ["body", "topics", 1])


def test_nul_in_a_form_field_and_a_query_is_422(client, auth):
    signin = client.post("/api/v1/auth/token", data={"username": "admin@example.test\x00", "password": "x"})
    assert_problem(signin, 422, ["body", "username"])
    listed = client.get("/api/v1/materials", params={"ethnic_group": "m\x00ng"}, headers=auth("editor"))
    assert_problem(listed, 422, ["query", "ethnic_group"])


def test_utf16_json_body_is_refused(client, auth):
    raw = json.dumps(material_data(), ensure_ascii=False).encode("utf-16")
    response = client.post(
        "/api/v1/materials", content=raw, headers={**auth("editor"), "Content-Type": "application/json"}
    )
    body = assert_problem(response, 400)
    assert "UTF-8" in body["detail"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_json_is_a_415_naming_its_type(client, auth, session, content_type):
    raw = json.dumps(material_data(), ensure_ascii=False).encode()
    before = session.scalar(select(func.count()).select_from(Material))
    response = client.post("/api/v1/materials", content=raw, headers={**auth("editor"), "Content-Type": content_type})
    body = assert_problem(response, 415, ["header", "content-type"])
    assert content_type.split(";")[0] in body["detail"] and response.headers["accept"] == "application/json"
    assert session.scalar(select(func.count()).select_from(Material)) == before
    # JSON under a +json type is read as JSON; a JSON type with a body that is not JSON stays a
    # 422 naming the body.
    merge = client.post(
        "/api/v1/materials", content=raw, headers={**auth("editor"), "Content-Type": "application/merge-patch+json"}
    )
    assert merge.status_code == 201
    broken = client.post(
        "/api/v1/materials", content=b"{not json", headers={**auth("editor"), "Content-Type": "application/json"}
    )
    assert_problem(broken, 422, ["body", 1])


def test_a_body_without_a_content_type_is_a_415(client, auth):
    raw = json.dumps(material_data(), ensure_ascii=False).encode()
    response = client.post("/api/v1/materials", content=raw, headers=auth("editor"))
    assert "had no Content-Type" in assert_problem(response, 415, ["header", "content-type"])["detail"]
    assert client.post("/api/v1/materials", headers=auth("editor")).status_code == 422  # no body at all


def test_text_too_short_or_too_long_after_trimming_names_characters(client, auth):
    # Checked after the text is normalised and trimmed, pydantic spoke of "items" of a "Value".
    empty = client.post(
        "/api/v1/organisations", json={"code": "X-1", "name": "  ", "kind": "other"}, headers=auth("admin")
    )
    assert assert_problem(empty, 422, ["body", "name"])["errors"][0]["msg"] == "Must not be empty."
    long = client.post(
        "/api/v1/organisations", json={"code": "X-1", "name": "x" * 301, "kind": "other"}, headers=auth("admin")
    )
    assert (
        assert_problem(long, 422, ["body", "name"])["errors"][0]["msg"] == "Must have at most 300 characters, not 301."
    )


def test_invalid_utf8_in_the_query_string_is_400_not_every_material(client, auth, session, users, index_now):
    make_material(session, users["editor"])
    session.commit()
    index_now()
    for path in ("/api/v1/search?q=%FF", "/api/v1/materials?cursor=%C3%28", "/api/v1/search?q=ok&topic=%ED%A0%80"):
        body = assert_problem(client.get(path, headers=auth("editor")), 400)
        assert "UTF-8" in body["detail"]


def test_revision_number_beyond_the_database_integer_is_422(client, auth, session, users):
    material = make_material(session, users["editor"])
    session.commit()
    for version in (2**64, 2**31, -1, 0):
        response = client.get(f"/api/v1/materials/{material.id}/revisions/{version}", headers=auth("editor"))
        assert_problem(response, 422, ["path", "version"])
    assert client.get(f"/api/v1/materials/{material.id}/revisions/1", headers=auth("editor")).status_code == 200


def test_attachment_ranges_past_the_end_are_problems_and_unreadable_ones_ignored(client, auth, session, users):
    material = make_material(session, users["editor"])
    session.commit()
    data = b"%PDF-1.4\n" + b"x" * 3000
    files = {"file": ("a.pdf", data, "application/pdf")}
    url = client.post(f"/api/v1/materials/{material.id}/attachments", files=files, headers=auth("editor")).json()["url"]
    unknown_unit = client.get(url, headers={**auth("analyst"), "Range": "lines=1-2"})
    assert unknown_unit.status_code == 200 and unknown_unit.content == data  # RFC 9110 14.2: ignored
    beyond = client.get(url, headers={**auth("analyst"), "Range": f"bytes={len(data) + 10}-"})
    assert_problem(beyond, 416)
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"
    assert client.get(url, headers={**auth("analyst"), "Range": "bytes=0-9"}).content == data[:10]


def test_rules_between_fields_name_the_field_they_refuse(client, auth, session, users):
    material = make_material(session, users["editor"], status="approved")
    session.commit()
    # A required field set to null on PATCH (materials and bundles).
    created = client.post("/api/v1/materials", json=material_data(), headers=auth("editor"))
    nulled = client.patch(
        created.headers["location"], json={"title": None}, headers={**auth("editor"), "If-Match": "*"}
    )
    assert_problem(nulled, 422, ["body", "title"])
    bundle_body = {
        "title": "Gói",
        "items": [{"material_id": str(material.id)}],
        "targets": {"border_routes": ["VN-LA"]},
    }
    bundle = client.post("/api/v1/bundles", json=bundle_body, headers=auth("editor"))
    assert bundle.status_code == 201, bundle.text
    url = f"/api/v1/bundles/{bundle.json()['id']}"
    for field in ("title", "targets"):
        nulled = client.patch(url, json={field: None}, headers={**auth("editor"), "If-Match": "*"})
        assert_problem(nulled, 422, ["body", field])
    # Expiry before publication: expires_at is what is wrong.
    schedule = {"publish_at": "2026-06-01T00:00:00Z", "expires_at": "2026-05-01T00:00:00Z"}
    for path in ("/api/v1/materials", "/api/v1/bundles"):
        body = material_data(**schedule) if path.endswith("materials") else {**bundle_body, **schedule}
        refused = assert_problem(client.post(path, json=body, headers=auth("editor")), 422, ["body", "expires_at"])
        assert len(refused["errors"]) == 1
    # A webhook for an organisation and a unit at once: the second owner is refused.
    both = {
        "url": "http://127.0.0.1:9/hook",
        "events": ["claim.created"],
        "organisation_id": "0190d0a8-0000-7000-8000-000000000001",
        "unit_id": "0190d0a8-0000-7000-8000-000000000002",
    }
    assert_problem(client.post("/api/v1/webhooks", json=both, headers=auth("admin")), 422, ["body", "unit_id"])
