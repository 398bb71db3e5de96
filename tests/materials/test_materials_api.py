"""Materials over HTTP: create, read, list, update with If-Match, delete, errors."""

import uuid

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.materials.models import Material, MaterialRevision, SearchOutbox
from tests.factories import make_material, material_data
from tests.paging import pages

PROBLEM = "application/problem+json"


@pytest.fixture
def created(client, auth):
    response = client.post(
        "/api/v1/materials",
        json=material_data(title="Chính sách dân tộc Mông", ethnic_groups=["Mông"], border_routes=["lao"]),
        headers=auth("editor"),
    )
    assert response.status_code == 201, response.text
    return response


def test_create_answers_201_with_location_etag_and_resolved_codes(created):
    body = created.json()
    assert created.headers["location"] == f"/api/v1/materials/{body['id']}"
    assert created.headers["etag"] == f'"{body["id"]}-v1"'
    assert uuid.UUID(body["id"]).version == 7
    assert body["ethnic_groups"] == ["08"]
    assert body["border_routes"] == ["VN-LA"]
    assert body["status"] == "draft" and body["version"] == 1
    assert body["title"] == "Chính sách dân tộc Mông"


def test_create_stores_nfc_text_and_normalised_language(client, auth):
    decomposed = "Tie\u0302\u0301ng Mông"  # "Tiếng" written with combining marks
    response = client.post(
        "/api/v1/materials", json=material_data(title=decomposed, language="VI-vn"), headers=auth("editor")
    )
    assert response.status_code == 201
    assert response.json()["title"] == "Tiếng Mông"
    assert response.json()["language"] == "vi-VN"


def test_province_name_means_the_province_holding_it_today(client, auth):
    response = client.post("/api/v1/materials", json=material_data(provinces=["Quảng Trị"]), headers=auth("editor"))
    assert response.status_code == 201
    today = client.get("/api/v1/provinces", headers=auth("editor")).json()["items"]
    quang_tri_now = next(p for p in today if p["name"] == "Quảng Trị")
    assert response.json()["provinces"] == [quang_tri_now["id"]]


@pytest.mark.parametrize(
    ("field", "value", "loc"),
    [
        ("ethnic_groups", ["Không có"], ["body", "ethnic_groups"]),
        ("border_routes", ["VN-XX"], ["body", "border_routes"]),
        ("topics", ["no-such-topic"], ["body", "topics"]),
        ("language", "not a tag", ["body", "language"]),
        ("kind", "poem", ["body", "kind"]),
        ("classification", "secret", ["body", "classification"]),
        ("title", "", ["body", "title"]),
        ("unknown_field", 1, ["body", "unknown_field"]),
    ],
)
def test_bad_fields_are_422_problems_naming_the_field(client, auth, session, field, value, loc):
    before = session.scalar(select(Material.id).limit(1))
    response = client.post("/api/v1/materials", json=material_data(**{field: value}), headers=auth("editor"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["status"] == 422 and problem["title"] and problem["detail"]
    assert any(e["loc"][: len(loc)] == loc for e in problem["errors"]), problem
    assert session.scalar(select(Material.id).limit(1)) == before  # nothing written


def test_expiry_must_follow_publication(client, auth):
    response = client.post(
        "/api/v1/materials",
        json=material_data(publish_at="2026-01-02T00:00:00Z", expires_at="2026-01-01T00:00:00Z"),
        headers=auth("editor"),
    )
    assert response.status_code == 422
    naive = client.post(
        "/api/v1/materials", json=material_data(publish_at="2026-01-02T00:00:00"), headers=auth("editor")
    )
    assert naive.status_code == 422


def test_malformed_json_is_a_problem_not_a_500(client, auth):
    response = client.post(
        "/api/v1/materials",
        content=b"{not json",
        headers={**auth("editor"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)


@pytest.mark.parametrize("role", ["analyst", "reviewer"])
def test_only_editors_and_admins_create(client, auth, role):
    response = client.post("/api/v1/materials", json=material_data(), headers=auth(role))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith(PROBLEM)


def test_admin_may_create(client, auth):
    assert client.post("/api/v1/materials", json=material_data(), headers=auth("admin")).status_code == 201


def test_without_credentials_is_401(client):
    response = client.post("/api/v1/materials", json=material_data())
    assert response.status_code == 401
    assert response.headers["www-authenticate"].lower().startswith("bearer")
    assert client.get("/api/v1/materials").status_code == 401
    assert client.get("/api/v1/materials", headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_unknown_material_and_bad_id(client, auth):
    missing = client.get(f"/api/v1/materials/{uuid.uuid4()}", headers=auth("analyst"))
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)
    bad = client.get("/api/v1/materials/not-a-uuid", headers=auth("analyst"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["path", "material_id"]


def test_unknown_route_and_method_are_problems(client, auth):
    assert client.get("/api/v1/nothing-here", headers=auth("admin")).headers["content-type"].startswith(PROBLEM)
    response = client.put("/api/v1/materials", headers=auth("admin"))
    assert response.status_code == 405 and response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        # One path, several routes: Allow names every method any of them answers.
        ("PUT", f"/api/v1/materials/{uuid.uuid4()}", {"GET", "PATCH", "DELETE"}),
        ("PUT", "/api/v1/organisations", {"GET", "POST"}),
        ("DELETE", f"/api/v1/users/{uuid.uuid4()}", {"GET", "PATCH"}),
    ],
)
def test_a_405_allows_every_method_of_the_path(client, auth, method, path, allow):
    response = client.request(method, path, headers=auth("admin"))
    assert response.status_code == 405 and response.headers["content-type"].startswith(PROBLEM)
    assert set(response.headers["allow"].split(", ")) - {"HEAD"} == allow


def test_update_needs_if_match_and_rejects_stale(client, auth, created):
    url = created.headers["location"]
    etag = created.headers["etag"]
    assert client.patch(url, json={"title": "Mới"}, headers=auth("editor")).status_code == 428
    ok = client.patch(url, json={"title": "Mới"}, headers={**auth("editor"), "If-Match": etag})
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2 and ok.headers["etag"] != etag
    stale = client.patch(url, json={"title": "Cũ"}, headers={**auth("editor"), "If-Match": etag})
    assert stale.status_code == 412
    assert stale.headers["content-type"].startswith(PROBLEM)
    assert client.get(url, headers=auth("editor")).json()["title"] == "Mới"


def test_update_changes_only_sent_fields_and_rejects_null_title(client, auth, created):
    url, etag = created.headers["location"], created.headers["etag"]
    response = client.patch(url, json={"summary": "Tóm tắt mới"}, headers={**auth("editor"), "If-Match": etag})
    assert response.json()["title"] == "Chính sách dân tộc Mông"
    assert response.json()["ethnic_groups"] == ["08"]
    bad = client.patch(url, json={"title": None}, headers={**auth("editor"), "If-Match": response.headers["etag"]})
    assert bad.status_code == 422


def test_a_patch_that_changes_nothing_saves_no_version(client, auth, created):
    url, etag = created.headers["location"], created.headers["etag"]
    headers = {**auth("editor"), "If-Match": etag}
    for body in ({}, {"title": "Chính sách dân tộc Mông", "ethnic_groups": ["Mông"]}):
        same = client.patch(url, json=body, headers=headers)
        assert same.status_code == 200 and same.json()["version"] == 1 and same.headers["etag"] == etag
    assert [r["version"] for r in client.get(f"{url}/revisions", headers=auth("analyst")).json()["items"]] == [1]
    changed = client.patch(url, json={"title": "Khác"}, headers=headers)
    assert changed.json()["version"] == 2  # the ETag read before the no-op edits still holds


def test_every_version_is_kept_whole(client, auth, created):
    url, etag = created.headers["location"], created.headers["etag"]
    client.patch(
        url, json={"title": "Phiên bản hai", "topics": ["ethnic-policy"]}, headers={**auth("editor"), "If-Match": etag}
    )
    revisions = client.get(f"{url}/revisions", headers=auth("analyst")).json()["items"]
    assert [r["version"] for r in revisions] == [1, 2]
    assert [r["change"] for r in revisions] == ["created", "updated"]
    assert [r["title"] for r in revisions] == ["Chính sách dân tộc Mông", "Phiên bản hai"]
    first = client.get(f"{url}/revisions/1", headers=auth("analyst")).json()
    assert first["title"] == "Chính sách dân tộc Mông" and first["topics"] == [] and first["version"] == 1
    assert first == revisions[0]
    # A revision is the material as it was: every field a read shows, and who saved it when.
    current = client.get(url, headers=auth("analyst")).json()
    second = client.get(f"{url}/revisions/2", headers=auth("analyst")).json()
    assert second.keys() == current.keys() | {"saved_at", "saved_by", "change"}
    assert {k: v for k, v in second.items() if k in current} == current
    assert client.get(f"{url}/revisions/3", headers=auth("analyst")).status_code == 404


def test_revisions_page_with_limit_and_cursor(client, auth, created):
    url, etag = created.headers["location"], created.headers["etag"]
    for n in range(4):
        etag = client.patch(url, json={"summary": f"Lần {n}"}, headers={**auth("editor"), "If-Match": etag}).headers[
            "etag"
        ]
    walked = pages(client, f"{url}/revisions", auth("analyst"), limit=2)
    assert all(len(page) <= 2 for page in walked)
    assert [r["version"] for page in walked for r in page] == [1, 2, 3, 4, 5]
    for bad in ("not-a-cursor", "IjEi", "LTE"):  # garbage, "1" as text, -1
        response = client.get(f"{url}/revisions", params={"cursor": bad}, headers=auth("analyst"))
        assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["query", "cursor"]


def test_delete_only_drafts_with_if_match(client, auth, created, session):
    url, etag = created.headers["location"], created.headers["etag"]
    assert client.delete(url, headers=auth("editor")).status_code == 428
    assert client.delete(url, headers={**auth("editor"), "If-Match": '"stale"'}).status_code == 412
    assert client.delete(url, headers={**auth("analyst"), "If-Match": etag}).status_code == 403
    assert client.delete(url, headers={**auth("editor"), "If-Match": etag}).status_code == 204
    assert client.get(url, headers=auth("editor")).status_code == 404
    material_id = uuid.UUID(created.json()["id"])
    assert session.scalar(select(MaterialRevision).where(MaterialRevision.material_id == material_id)) is None
    # The deletion is queued for the search index with a version above every earlier one.
    versions = session.scalars(select(SearchOutbox.version).where(SearchOutbox.material_id == material_id)).all()
    assert max(versions) == 2


def test_published_material_cannot_be_deleted(client, auth, session, users):
    material = make_material(session, users["editor"], status="published")
    session.commit()
    url = f"/api/v1/materials/{material.id}"
    etag = client.get(url, headers=auth("editor")).headers["etag"]
    response = client.delete(url, headers={**auth("editor"), "If-Match": etag})
    assert response.status_code == 409


def test_write_and_outbox_row_commit_together(client, auth, session, created):
    material_id = uuid.UUID(created.json()["id"])
    rows = session.scalars(select(SearchOutbox).where(SearchOutbox.material_id == material_id)).all()
    assert [r.version for r in rows] == [1]


def test_a_failed_commit_is_a_500_and_nothing_is_saved(client, auth, session_factory, session):
    def refuse(_session: Session) -> None:
        raise RuntimeError("disk full")

    event.listen(session_factory, "before_commit", refuse)
    try:
        response = client.post("/api/v1/materials", json=material_data(title="Không lưu được"), headers=auth("editor"))
    finally:
        event.remove(session_factory, "before_commit", refuse)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "disk full" not in response.text and "Traceback" not in response.text
    assert session.scalar(select(Material).where(Material.title == "Không lưu được")) is None


def test_json_body_over_the_limit_is_413(client, auth, settings):
    big = material_data(body="x" * (settings.max_json_body_bytes + 10))
    response = client.post("/api/v1/materials", json=big, headers={**auth("editor"), "X-Request-ID": "big-1"})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM)
    # Written like every other problem: RFC 9110's title, and the request id the log lines carry.
    assert response.json()["title"] == "Content Too Large" and response.json()["request_id"] == "big-1"


def test_every_422_has_one_title(client, auth):
    """A body of the wrong shape (checked by the framework) and a value refused by a rule alike."""
    shape = client.post("/api/v1/materials", json={"title": 5}, headers=auth("editor"))
    rule = client.get("/api/v1/search", params={"ethnic_group": "no such people"}, headers=auth("editor"))
    assert shape.status_code == rule.status_code == 422
    assert shape.json()["title"] == rule.json()["title"] == "Unprocessable Content"


def test_security_headers_and_request_id(client, auth):
    response = client.get("/api/v1/materials", headers={**auth("analyst"), "X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
