"""Bundles: CRUD with If-Match, what may go in, targets by name, four eyes on publish and recall."""

import pytest

from app.accounts.models import User
from tests.factories import make_material
from tests.paging import pages

ROUTE_LA = {"border_routes": ["Lào"]}


def test_create_resolves_targets_and_answers_201_with_location_and_etag(client, auth, make_unit, make_bundle):
    unit = make_unit("DBP-TAM-CHUNG", province="Điện Biên", border_routes=["VN-LA"])
    targets = {
        "units": ["dbp-tam-chung"],
        "border_routes": ["lao"],
        "provinces": ["Lạng Sơn"],
        "unit_types": ["police"],
    }
    bundle = make_bundle(targets)
    assert bundle["status"] == "draft" and bundle["version"] == 1 and bundle["priority"] == "normal"
    assert bundle["targets"]["units"] == [unit.id]
    assert bundle["targets"]["border_routes"] == ["VN-LA"]
    assert bundle["targets"]["unit_types"] == ["police"]
    provinces = client.get("/api/v1/provinces", headers=auth("editor")).json()["items"]
    assert bundle["targets"]["provinces"] == [next(p["id"] for p in provinces if p["name"] == "Lạng Sơn")]
    got = client.get(f"/api/v1/bundles/{bundle['id']}", headers=auth("analyst"))
    assert got.status_code == 200 and got.headers["etag"] == f'"{bundle["id"]}-v1"'
    assert [item["note"] for item in got.json()["items"]] == ["Ghi chú 0", "Ghi chú 1"]


def test_unknown_targets_are_422_naming_the_value(client, auth, approved):
    items = [{"material_id": approved()[0]}]
    for targets, loc in (
        ({"units": ["NO-SUCH-UNIT"]}, ["body", "targets", "units", 0]),
        ({"border_routes": ["Mars"]}, ["body", "targets", "border_routes"]),
        ({"unit_types": ["army"]}, ["body", "targets", "unit_types", 0]),
    ):
        body = {"title": "X", "items": items, "targets": targets}
        response = client.post("/api/v1/bundles", json=body, headers=auth("editor"))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["loc"] == loc


@pytest.mark.parametrize("status", ["draft", "in_review", "archived"])
def test_only_approved_or_published_materials_may_be_items(client, auth, session, users, approved, status):
    good = approved()[0]
    bad = str(make_material(session, users["editor"], status=status).id)
    session.commit()
    body = {"title": "Gói", "items": [{"material_id": good}, {"material_id": bad}], "targets": ROUTE_LA}
    response = client.post("/api/v1/bundles", json=body, headers=auth("editor"))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["loc"] == ["body", "items", 1, "material_id"] and status in error["msg"]


def test_unknown_and_repeated_materials_are_422(client, auth, approved):
    good = approved()[0]
    missing = "0190d0a8-0000-7000-8000-000000000000"
    for items, index in (([good, missing], 1), ([good, good], 1)):
        body = {"title": "Gói", "items": [{"material_id": m} for m in items]}
        response = client.post("/api/v1/bundles", json=body, headers=auth("editor"))
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "items", index, "material_id"]


def test_published_materials_may_go_in_too(client, auth, session, users):
    material = make_material(session, users["editor"], status="published")
    session.commit()
    body = {"title": "Gói", "items": [{"material_id": str(material.id)}]}
    assert client.post("/api/v1/bundles", json=body, headers=auth("editor")).status_code == 201


def test_patch_needs_if_match(client, auth, make_bundle):
    bundle = make_bundle(ROUTE_LA)
    url = f"/api/v1/bundles/{bundle['id']}"
    assert client.patch(url, json={"title": "Mới"}, headers=auth("editor")).status_code == 428
    stale = client.patch(url, json={"title": "Mới"}, headers={**auth("editor"), "If-Match": '"x-v9"'})
    assert stale.status_code == 412
    etag = client.get(url, headers=auth("editor")).headers["etag"]
    ok = client.patch(url, json={"title": "Mới", "priority": "urgent"}, headers={**auth("editor"), "If-Match": etag})
    assert ok.status_code == 200 and ok.json()["version"] == 2 and ok.json()["priority"] == "urgent"
    assert (
        client.patch(url, json={"title": None}, headers={**auth("editor"), "If-Match": ok.headers["etag"]}).status_code
        == 422
    )


def test_a_patch_that_changes_nothing_saves_no_version(client, auth, make_bundle):
    bundle = make_bundle(ROUTE_LA)
    url = f"/api/v1/bundles/{bundle['id']}"
    etag = client.get(url, headers=auth("editor")).headers["etag"]
    for body in ({}, {"title": bundle["title"]}):
        same = client.patch(url, json=body, headers={**auth("editor"), "If-Match": etag})
        assert same.status_code == 200 and same.json()["version"] == 1 and same.headers["etag"] == etag


def test_delete_drafts_only(client, auth, make_bundle, publish):
    draft = make_bundle(ROUTE_LA)
    url = f"/api/v1/bundles/{draft['id']}"
    assert client.delete(url, headers={**auth("editor"), "If-Match": '"nope"'}).status_code == 412
    assert client.delete(url, headers={**auth("editor"), "If-Match": f'"{draft["id"]}-v1"'}).status_code == 204
    assert client.get(url, headers=auth("editor")).status_code == 404
    published = publish(ROUTE_LA)
    refused = client.delete(f"/api/v1/bundles/{published['id']}", headers={**auth("editor"), "If-Match": "*"})
    assert refused.status_code == 409


def test_analysts_and_reviewers_cannot_write_bundles(client, auth, approved):
    body = {"title": "Gói", "items": [{"material_id": approved()[0]}]}
    for role in ("analyst", "reviewer"):
        assert client.post("/api/v1/bundles", json=body, headers=auth(role)).status_code == 403


def test_four_eyes_on_publish_and_recall(client, auth, approved, make_unit):
    make_unit("FOUR-EYES", border_routes=["VN-LA"])
    body = {"title": "Gói của admin", "items": [{"material_id": approved()[0]}], "targets": ROUTE_LA}
    bundle = client.post("/api/v1/bundles", json=body, headers=auth("admin")).json()
    url = f"/api/v1/bundles/{bundle['id']}"
    assert client.post(f"{url}/publish", headers=auth("editor")).status_code == 403  # not a reviewer
    refused = client.post(f"{url}/publish", headers=auth("admin"))
    assert refused.status_code == 403 and "Four eyes" in refused.json()["detail"]
    published = client.post(f"{url}/publish", headers=auth("reviewer"))
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert client.post(f"{url}/recall", headers=auth("admin")).status_code == 403
    recalled = client.post(f"{url}/recall", headers=auth("reviewer2"))
    assert recalled.status_code == 200 and recalled.json()["status"] == "recalled"


def test_last_editor_cannot_publish(client, auth, make_bundle):
    bundle = make_bundle(ROUTE_LA)
    url = f"/api/v1/bundles/{bundle['id']}"
    edited = client.patch(
        url, json={"title": "Sửa bởi admin"}, headers={**auth("admin"), "If-Match": f'"{bundle["id"]}-v1"'}
    )
    assert edited.status_code == 200
    assert client.post(f"{url}/publish", headers=auth("admin")).status_code == 403
    assert client.post(f"{url}/publish", headers=auth("reviewer")).status_code == 200


def test_illegal_moves_are_409(client, auth, make_bundle, publish):
    draft = make_bundle(ROUTE_LA)
    assert client.post(f"/api/v1/bundles/{draft['id']}/recall", headers=auth("reviewer")).status_code == 409
    bundle = publish(ROUTE_LA)
    url = f"/api/v1/bundles/{bundle['id']}"
    again = client.post(f"{url}/publish", headers=auth("reviewer"))
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert client.post(f"{url}/recall", headers=auth("reviewer")).status_code == 200
    assert client.post(f"{url}/recall", headers=auth("reviewer")).status_code == 409
    assert client.post(f"{url}/publish", headers=auth("reviewer")).status_code == 409
    edit = client.patch(url, json={"title": "X"}, headers={**auth("editor"), "If-Match": "*"})
    assert edit.status_code == 409


def test_publish_refuses_items_that_are_no_longer_approved(client, auth, approved, make_bundle):
    materials = approved(2)
    bundle = make_bundle(ROUTE_LA, materials=materials)
    moved = client.post(f"/api/v1/materials/{materials[1]}/transitions", json={"to": "draft"}, headers=auth("editor"))
    assert moved.status_code == 200
    refused = client.post(f"/api/v1/bundles/{bundle['id']}/publish", headers=auth("reviewer"))
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["loc"] == ["items", 1, "material_id"]


def test_publish_needs_items_and_targets(client, auth, approved):
    for body in (
        {"title": "Trống", "targets": ROUTE_LA},
        {"title": "Không ai", "items": [{"material_id": approved()[0]}]},
    ):
        bundle = client.post("/api/v1/bundles", json=body, headers=auth("editor")).json()
        assert client.post(f"/api/v1/bundles/{bundle['id']}/publish", headers=auth("reviewer")).status_code == 409


def test_publish_checks_if_match_when_sent(client, auth, make_bundle):
    bundle = make_bundle(ROUTE_LA)
    url = f"/api/v1/bundles/{bundle['id']}/publish"
    assert client.post(url, headers={**auth("reviewer"), "If-Match": '"old-v0"'}).status_code == 412
    assert client.post(url, headers={**auth("reviewer"), "If-Match": f'"{bundle["id"]}-v1"'}).status_code == 200


def test_publishing_and_recalling_change_the_etag(client, auth, make_bundle):
    """The version counts the content; the ETag names the representation, whose status changes."""
    bundle = make_bundle(ROUTE_LA)
    url = f"/api/v1/bundles/{bundle['id']}"
    draft_tag = client.get(url, headers=auth("editor")).headers["etag"]
    published = client.post(f"{url}/publish", headers={**auth("reviewer"), "If-Match": draft_tag})
    assert published.status_code == 200 and published.json()["version"] == 1
    assert published.headers["etag"] != draft_tag
    assert client.get(url, headers=auth("editor")).headers["etag"] == published.headers["etag"]
    stale = client.patch(url, json={"title": "Sửa bản nháp cũ"}, headers={**auth("editor"), "If-Match": draft_tag})
    assert stale.status_code == 412 and stale.json()["current_version"] == 1
    recalled = client.post(f"{url}/recall", headers={**auth("reviewer"), "If-Match": published.headers["etag"]})
    assert recalled.status_code == 200 and recalled.headers["etag"] not in (draft_tag, published.headers["etag"])
    again = client.post(f"{url}/recall", headers={**auth("reviewer"), "If-Match": published.headers["etag"]})
    assert again.status_code == 412


def test_republishing_an_edit_changes_the_etag(client, auth, make_bundle):
    bundle = make_bundle(ROUTE_LA)
    url = f"/api/v1/bundles/{bundle['id']}"
    first = client.post(f"{url}/publish", headers=auth("reviewer")).headers["etag"]
    edited = client.patch(url, json={"title": "Bản sửa"}, headers={**auth("editor"), "If-Match": first})
    assert edited.status_code == 200 and edited.headers["etag"] != first
    republished = client.post(f"{url}/publish", headers={**auth("reviewer"), "If-Match": edited.headers["etag"]})
    assert republished.status_code == 200 and republished.json()["published_version"] == 2
    assert republished.headers["etag"] != edited.headers["etag"]


def test_every_write_is_audited(client, auth, make_bundle):
    bundle = make_bundle(ROUTE_LA)
    url = f"/api/v1/bundles/{bundle['id']}"
    client.patch(url, json={"description": "Mô tả mới"}, headers={**auth("editor"), "If-Match": f'"{bundle["id"]}-v1"'})
    client.post(f"{url}/publish", headers=auth("reviewer"))
    client.post(f"{url}/recall", headers=auth("reviewer"))
    records = client.get("/api/v1/audit", params={"entity_id": bundle["id"]}, headers=auth("admin")).json()["items"]
    actions = {r["action"] for r in records}
    assert {"bundle.created", "bundle.updated", "bundle.published", "bundle.recalled"} <= actions
    updated = next(r for r in records if r["action"] == "bundle.updated")
    assert updated["changes"]["description"][1] == "Mô tả mới" and updated["actor"]["label"] == "editor@example.test"


def test_list_filters_by_status_and_pages(client, auth, make_bundle, publish):
    drafts = [make_bundle(ROUTE_LA)["id"] for _ in range(2)]
    published = publish(ROUTE_LA)["id"]
    listed = client.get("/api/v1/bundles", params={"status": "draft"}, headers=auth("analyst")).json()
    assert {b["id"] for b in listed["items"]} >= set(drafts) and published not in {b["id"] for b in listed["items"]}
    first = client.get("/api/v1/bundles", params={"limit": 1}, headers=auth("analyst")).json()
    assert first["items"][0]["id"] == published and first["next_cursor"]
    second = client.get("/api/v1/bundles", params={"limit": 1, "cursor": first["next_cursor"]}, headers=auth("analyst"))
    assert second.json()["items"][0]["id"] == drafts[1]


def test_a_material_in_a_bundle_cannot_be_deleted(client, auth, make_bundle, approved):
    material_id = approved(1)[0]
    make_bundle(ROUTE_LA, materials=[material_id])
    url = f"/api/v1/materials/{material_id}"
    back = client.post(f"{url}/transitions", json={"to": "draft"}, headers=auth("editor"))
    assert back.status_code == 200
    refused = client.delete(url, headers={**auth("editor"), "If-Match": back.headers["etag"]})
    assert refused.status_code == 409
    assert "bundle" in refused.json()["detail"]
    assert client.get(url, headers=auth("editor")).status_code == 200


def patch_bundle(client, headers, url, **fields):
    etag = client.get(url, headers=headers).headers["etag"]
    response = client.patch(url, json=fields, headers={**headers, "If-Match": etag})
    assert response.status_code == 200, response.text


def test_four_eyes_counts_every_writer_since_the_last_publication(client, auth, session, users, make_unit, make_bundle):
    both = User(email="both@example.test", password_hash="!", roles=["editor", "reviewer"], full_name="both")
    session.add(both)
    session.commit()
    users["both"] = both
    make_unit("FOUR-EYES-2", border_routes=["VN-LA"])
    bundle = make_bundle(ROUTE_LA)
    url = f"/api/v1/bundles/{bundle['id']}"
    patch_bundle(client, auth("both"), url, description="Lời dẫn do người vừa biên tập vừa duyệt viết.")
    patch_bundle(client, auth("editor2"), url, title="Tiêu đề do người khác sửa lần cuối")
    refused = client.post(f"{url}/publish", headers=auth("both"))
    assert refused.status_code == 403 and "Four eyes" in refused.json()["detail"]
    assert client.get(url, headers=auth("analyst")).json()["status"] == "draft"
    assert client.post(f"{url}/publish", headers=auth("reviewer")).status_code == 200
    # Their part went out under someone else's approval; a later version written by others is
    # theirs to review.
    patch_bundle(client, auth("editor2"), url, description="Bản sửa sau khi phát hành")
    assert client.post(f"{url}/publish", headers=auth("both")).status_code == 200


def test_publications_list_pages_oldest_first(client, auth, make_unit, publish):
    unit = make_unit("LIST-PUB1")
    bundle = publish({"units": [unit.id]})
    url = f"/api/v1/bundles/{bundle['id']}"
    for n in range(2):
        etag = client.get(url, headers=auth("editor")).headers["etag"]
        edited = client.patch(url, json={"description": f"Sửa lần {n}"}, headers={**auth("editor"), "If-Match": etag})
        assert edited.status_code == 200, edited.text
        assert client.post(f"{url}/publish", headers=auth("reviewer")).status_code == 200
    whole = client.get(f"{url}/publications", params={"limit": 100}, headers=auth("analyst")).json()
    assert whole["next_cursor"] is None and len(whole["items"]) == 3
    walked = pages(client, f"{url}/publications", auth("analyst"), limit=2)
    assert [len(p) for p in walked] == [2, 1]
    assert [p for page in walked for p in page] == whole["items"]
    versions = [p["version"] for p in whole["items"]]
    assert versions == sorted(versions) and len(set(versions)) == 3
    bad = client.get(f"{url}/publications", params={"cursor": "x"}, headers=auth("analyst"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "cursor"]
