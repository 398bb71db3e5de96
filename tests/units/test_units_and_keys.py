"""Units (the register) and their API keys: issue, use, rotate, revoke."""

import base64

import pytest
from sqlalchemy import select

from app.units import keys
from app.units.models import ApiKey
from tests.paging import pages


def unit_body(**fields):
    body = {
        "code": "DBP-MUONG-NHE",
        "name": "Đồn Biên phòng Mường Nhé",
        "type": "border_guard_post",
        "province": "Điện Biên",
        "border_routes": ["Lào"],
    }
    body.update(fields)
    return body


@pytest.fixture
def unit(client, auth):
    response = client.post("/api/v1/units", json=unit_body(), headers=auth("admin"))
    assert response.status_code == 201, response.text
    return response


@pytest.fixture
def unit_key(client, auth, unit):
    response = client.post(f"/api/v1/units/{unit.json()['id']}/keys", headers=auth("admin"))
    assert response.status_code == 201, response.text
    return response.json()


def test_unit_is_created_with_resolved_province_and_routes(client, auth, unit):
    body = unit.json()
    assert body["border_routes"] == ["VN-LA"] and body["active"] is True
    provinces = client.get("/api/v1/provinces", headers=auth("admin")).json()["items"]
    assert body["province"] == next(p["id"] for p in provinces if p["name"] == "Điện Biên")
    assert unit.headers["location"] == f"/api/v1/units/{body['id']}"


def test_duplicate_code_is_409_and_bad_values_422(client, auth, unit):
    assert client.post("/api/v1/units", json=unit_body(), headers=auth("admin")).status_code == 409
    bad = client.post("/api/v1/units", json=unit_body(code="X2", province="Atlantis"), headers=auth("admin"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "province"]
    assert (
        client.post("/api/v1/units", json=unit_body(code="X3", type="army"), headers=auth("admin")).status_code == 422
    )


@pytest.mark.parametrize("province", ["", "   "])
def test_an_empty_province_is_refused_not_read_as_none(client, auth, province):
    response = client.post("/api/v1/units", json=unit_body(code="X4", province=province), headers=auth("admin"))
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["body", "province"]


def test_null_border_routes_are_refused_and_nothing_changes(client, auth, unit):
    url = f"/api/v1/units/{unit.json()['id']}"
    nulled = client.patch(
        url, json={"border_routes": None}, headers={**auth("admin"), "If-Match": unit.headers["etag"]}
    )
    assert nulled.status_code == 422 and nulled.json()["errors"][0]["loc"] == ["body", "border_routes"]
    assert client.get(url, headers=auth("admin")).json() == unit.json()


def test_only_admins_create_rename_or_deactivate_units(client, auth, unit):
    """API.md: admins manage users, units and keys; editors write materials and bundles only."""
    url = f"/api/v1/units/{unit.json()['id']}"
    for role in ("editor", "analyst", "reviewer"):
        headers = auth(role)
        assert client.post("/api/v1/units", json=unit_body(code=f"U-{role}"), headers=headers).status_code == 403
        renamed = client.patch(url, json={"name": "Đổi tên"}, headers={**headers, "If-Match": unit.headers["etag"]})
        assert renamed.status_code == 403
        assert client.delete(url, headers={**headers, "If-Match": unit.headers["etag"]}).status_code == 403
    after = client.get(url, headers=auth("editor")).json()
    assert after["name"] == unit.json()["name"] and after["active"] is True
    assert client.get("/api/v1/units", params={"active": True}, headers=auth("editor")).json()["items"] == [after]


def test_unit_parent_cannot_make_a_cycle(client, auth, unit):
    parent_id = unit.json()["id"]
    child = client.post("/api/v1/units", json=unit_body(code="CHILD", parent_id=parent_id), headers=auth("admin"))
    assert child.status_code == 201
    patched = client.patch(
        f"/api/v1/units/{parent_id}",
        json={"parent_id": child.json()["id"]},
        headers={**auth("admin"), "If-Match": unit.headers["etag"]},
    )
    assert patched.status_code == 422


def test_key_is_shown_once_and_stored_as_a_hash(client, auth, unit, unit_key, session):
    assert unit_key["key"].startswith(f"ttdn_{unit_key['prefix']}_")
    listed = client.get(f"/api/v1/units/{unit.json()['id']}/keys", headers=auth("admin")).json()["items"]
    assert listed[0]["prefix"] == unit_key["prefix"] and "key" not in listed[0]
    stored = session.scalar(select(ApiKey).where(ApiKey.prefix == unit_key["prefix"]))
    assert stored.key_hash == keys.hash_key(unit_key["key"]) and unit_key["key"] not in stored.key_hash


def test_keys_list_pages_oldest_first(client, auth, unit):
    url = f"/api/v1/units/{unit.json()['id']}/keys"
    made = [client.post(url, headers=auth("admin")).json()["id"] for _ in range(5)]
    walked = pages(client, url, auth("admin"), limit=2)
    assert all(len(page) <= 2 for page in walked)
    assert [k["id"] for page in walked for k in page] == made
    assert client.get(url, params={"limit": 101}, headers=auth("admin")).status_code == 422


def test_a_new_key_is_located_at_a_readable_url_that_never_shows_the_secret(client, auth, unit):
    url = f"/api/v1/units/{unit.json()['id']}/keys"
    created = client.post(url, headers=auth("admin"))
    location = created.headers["location"]
    assert location.endswith(f"{url}/{created.json()['id']}")
    read = client.get(location, headers=auth("admin"))
    assert read.status_code == 200 and read.json()["prefix"] == created.json()["prefix"]
    assert "key" not in read.json() and created.json()["key"] not in read.text
    assert client.get(location, headers=auth("editor")).status_code == 403
    other = client.post(
        "/api/v1/units", json={"code": "KEY-OTHER", "name": "Đồn khác", "type": "police"}, headers=auth("admin")
    )
    assert (
        client.get(f"/api/v1/units/{other.json()['id']}/keys/{created.json()['id']}", headers=auth("admin")).status_code
        == 404
    )


def test_only_admins_manage_keys(client, auth, unit):
    url = f"/api/v1/units/{unit.json()['id']}/keys"
    assert client.post(url, headers=auth("editor")).status_code == 403
    assert client.get(url, headers=auth("editor")).status_code == 403


def test_unit_key_works_as_bearer_and_basic_and_reaches_reference_data_only(client, unit, unit_key):
    bearer = {"Authorization": f"Bearer {unit_key['key']}"}
    basic_raw = base64.b64encode(f"{unit.json()['code']}:{unit_key['key']}".encode()).decode()
    basic = {"Authorization": f"Basic {basic_raw}"}
    for headers in (bearer, basic):
        me = client.get("/api/v1/me", headers=headers).json()
        assert me["type"] == "unit" and me["label"] == "DBP-MUONG-NHE"
        assert client.get("/api/v1/ethnic-groups", headers=headers).status_code == 200
        assert client.get("/api/v1/border-routes", headers=headers).status_code == 200
        for path in ("/api/v1/materials", "/api/v1/search", "/api/v1/units", "/api/v1/audit"):
            assert client.get(path, headers=headers).status_code == 403, path


def test_basic_takes_the_unit_code_in_any_case(client, unit, unit_key):
    code = unit.json()["code"]
    for typed in (code.lower(), code.upper(), code.swapcase()):
        raw = base64.b64encode(f"{typed}:{unit_key['key']}".encode()).decode()
        assert client.get("/api/v1/me", headers={"Authorization": f"Basic {raw}"}).status_code == 200, typed


def test_basic_with_another_units_code_is_refused(client, auth, unit_key):
    client.post("/api/v1/units", json=unit_body(code="OTHER"), headers=auth("admin"))
    raw = base64.b64encode(f"OTHER:{unit_key['key']}".encode()).decode()
    assert client.get("/api/v1/me", headers={"Authorization": f"Basic {raw}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic !!!"}).status_code == 401


def test_rotation_then_revocation(client, auth, unit, unit_key):
    url = f"/api/v1/units/{unit.json()['id']}/keys"
    new_key = client.post(url, headers=auth("admin")).json()
    old_headers = {"Authorization": f"Bearer {unit_key['key']}"}
    new_headers = {"Authorization": f"Bearer {new_key['key']}"}
    assert client.get("/api/v1/me", headers=old_headers).status_code == 200
    assert client.get("/api/v1/me", headers=new_headers).status_code == 200
    assert client.delete(f"{url}/{unit_key['id']}", headers=auth("admin")).status_code == 204
    assert client.get("/api/v1/me", headers=old_headers).status_code == 401
    assert client.get("/api/v1/me", headers=new_headers).status_code == 200
    listed = {k["id"]: k for k in client.get(url, headers=auth("admin")).json()["items"]}
    assert listed[unit_key["id"]]["revoked_at"] and listed[new_key["id"]]["last_used_at"]
    assert client.delete(f"{url}/{unit_key['id']}", headers=auth("admin")).status_code == 204  # idempotent


def test_wrong_secret_with_a_real_prefix_is_refused(client, unit_key):
    forged = unit_key["key"][:-4] + "AAAA"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_deactivated_unit_keys_stop_at_once(client, auth, unit, unit_key):
    headers = {"Authorization": f"Bearer {unit_key['key']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    url = unit.headers["location"]
    assert client.delete(url, headers=auth("admin")).status_code == 428
    deactivated = client.delete(url, headers={**auth("admin"), "If-Match": unit.headers["etag"]})
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get(url, headers=auth("admin")).json()["active"] is False  # kept, not deleted


def test_a_deactivated_unit_gets_no_new_key_until_reactivated(client, auth, unit):
    url = unit.headers["location"]
    deactivated = client.delete(url, headers={**auth("admin"), "If-Match": unit.headers["etag"]})
    assert deactivated.status_code == 200
    keys_url = f"{url}/keys"
    refused = client.post(keys_url, headers=auth("admin"))
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
    assert "reactivate" in refused.json()["detail"] and "key" not in refused.json()
    assert client.get(keys_url, headers=auth("admin")).json()["items"] == []
    again = client.patch(url, json={"active": True}, headers={**auth("admin"), "If-Match": deactivated.headers["etag"]})
    assert again.status_code == 200
    issued = client.post(keys_url, headers=auth("admin"))
    assert issued.status_code == 201
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued.json()['key']}"}).status_code == 200
