"""Admins manage staff accounts; passwords must be long and not guessable."""

import unicodedata

import pytest

from tests.factories import TEST_PASSWORD
from tests.paging import pages


def new_user(**fields):
    body = {"email": "bien.tap@example.test", "password": "núi rừng biên cương xanh", "roles": ["editor"]}
    body.update(fields)
    return body


def test_admin_creates_a_user_who_can_sign_in(client, auth):
    response = client.post("/api/v1/users", json=new_user(), headers=auth("admin"))
    assert response.status_code == 201, response.text
    assert "password" not in response.text and "argon2" not in response.text
    token = client.post(
        "/api/v1/auth/token", data={"username": "bien.tap@example.test", "password": "núi rừng biên cương xanh"}
    )
    assert token.status_code == 200


def test_a_full_name_is_stored_nfc_and_trimmed(client, auth):
    decomposed = unicodedata.normalize("NFD", "  Nguyễn Thị Ánh ")
    created = client.post("/api/v1/users", json=new_user(full_name=decomposed), headers=auth("admin"))
    assert created.status_code == 201 and created.json()["full_name"] == "Nguyễn Thị Ánh"
    url = f"/api/v1/users/{created.json()['id']}"
    changed = client.patch(
        url, json={"full_name": "   "}, headers={**auth("admin"), "If-Match": created.headers["etag"]}
    )
    assert changed.status_code == 200 and changed.json()["full_name"] == ""


@pytest.mark.parametrize("password", ["short", "password1234", "qwertyuiop123", "aaaaaaaaaaaa"])
def test_weak_and_common_passwords_are_refused(client, auth, password):
    response = client.post("/api/v1/users", json=new_user(password=password), headers=auth("admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "password"]


@pytest.mark.parametrize("role", ["editor", "reviewer", "analyst"])
def test_only_admins_manage_users(client, auth, role, users):
    assert client.post("/api/v1/users", json=new_user(), headers=auth(role)).status_code == 403
    assert client.get("/api/v1/users", headers=auth(role)).status_code == 403
    assert client.patch(f"/api/v1/users/{users['editor'].id}", json={}, headers=auth(role)).status_code == 403


def test_disable_and_re_enable(client, auth, users):
    url = f"/api/v1/users/{users['editor'].id}"
    editor_headers = auth("editor")
    assert client.get("/api/v1/me", headers=editor_headers).status_code == 200  # the token is now remembered
    etag = client.get(url, headers=auth("admin")).headers["etag"]
    assert client.patch(url, json={"active": False}, headers=auth("admin")).status_code == 428
    disabled = client.patch(url, json={"active": False}, headers={**auth("admin"), "If-Match": etag})
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert client.get("/api/v1/me", headers=editor_headers).status_code == 401
    enabled = client.patch(url, json={"active": True}, headers={**auth("admin"), "If-Match": disabled.headers["etag"]})
    assert enabled.json()["active"] is True
    # Tokens issued before the disable stay refused (API.md); signing in again gives a new one.
    assert client.get("/api/v1/me", headers=editor_headers).status_code == 401
    token = client.post("/api/v1/auth/token", data={"username": "editor@example.test", "password": TEST_PASSWORD})
    assert token.status_code == 200
    fresh = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert client.get("/api/v1/me", headers=fresh).status_code == 200


def test_admin_password_change_refuses_the_users_old_tokens(client, auth, users):
    url = f"/api/v1/users/{users['editor'].id}"
    editor_headers = auth("editor")
    assert client.get("/api/v1/me", headers=editor_headers).status_code == 200
    etag = client.get(url, headers=auth("admin")).headers["etag"]
    changed = client.patch(
        url, json={"password": "đèo Pha Đin mây trắng bay"}, headers={**auth("admin"), "If-Match": etag}
    )
    assert changed.status_code == 200
    assert client.get("/api/v1/me", headers=editor_headers).status_code == 401
    token = client.post(
        "/api/v1/auth/token", data={"username": "editor@example.test", "password": "đèo Pha Đin mây trắng bay"}
    )
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}).json()["label"]
        == "editor@example.test"
    )
    # A change of name alone leaves tokens alone.
    etag = client.get(url, headers=auth("admin")).headers["etag"]
    client.patch(url, json={"full_name": "Biên tập viên"}, headers={**auth("admin"), "If-Match": etag})
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}).status_code == 200
    )


def test_admin_cannot_lock_themselves_out(client, auth, users):
    url = f"/api/v1/users/{users['admin'].id}"
    etag = client.get(url, headers=auth("admin")).headers["etag"]
    assert client.patch(url, json={"active": False}, headers={**auth("admin"), "If-Match": etag}).status_code == 409
    assert client.patch(url, json={"roles": ["editor"]}, headers={**auth("admin"), "If-Match": etag}).status_code == 409


def test_role_change_takes_effect_on_the_next_request(client, auth, users):
    headers = auth("analyst")
    assert (
        client.post(
            "/api/v1/materials", json={"title": "x", "kind": "news", "language": "vi"}, headers=headers
        ).status_code
        == 403
    )
    url = f"/api/v1/users/{users['analyst'].id}"
    etag = client.get(url, headers=auth("admin")).headers["etag"]
    client.patch(url, json={"roles": ["editor"]}, headers={**auth("admin"), "If-Match": etag})
    assert (
        client.post(
            "/api/v1/materials", json={"title": "x", "kind": "news", "language": "vi"}, headers=headers
        ).status_code
        == 201
    )


def test_user_changes_are_audited_without_the_password(client, auth, users):
    url = f"/api/v1/users/{users['editor'].id}"
    etag = client.get(url, headers=auth("admin")).headers["etag"]
    client.patch(url, json={"password": "mây trắng đầu non xa"}, headers={**auth("admin"), "If-Match": etag})
    records = client.get("/api/v1/audit", params={"entity_id": str(users["editor"].id)}, headers=auth("admin")).json()
    assert records["items"][0]["changes"] == {"password": ["(set)", "(changed)"]}
    assert "mây trắng" not in str(records)


def test_a_role_removed_through_the_api_applies_to_a_remembered_token_at_once(client, auth, users):
    url = f"/api/v1/users/{users['editor'].id}"
    editor_headers = auth("editor")
    assert client.get("/api/v1/me", headers=editor_headers).json()["roles"] == ["editor"]
    etag = client.get(url, headers=auth("admin")).headers["etag"]
    changed = client.patch(url, json={"roles": ["analyst"]}, headers={**auth("admin"), "If-Match": etag})
    assert changed.status_code == 200
    assert client.get("/api/v1/me", headers=editor_headers).json()["roles"] == ["analyst"]
    assert client.post("/api/v1/materials", json={}, headers=editor_headers).status_code == 403


def test_users_page_by_id(client, auth, users):
    for n in range(4):
        body = new_user(email=f"nguoi.dung.{n}@example.test")
        assert client.post("/api/v1/users", json=body, headers=auth("admin")).status_code == 201
    walked = pages(client, "/api/v1/users", auth("admin"), limit=2)
    ids = [u["id"] for page in walked for u in page]
    assert len(ids) == len(set(ids)) == len(users) + 4 and ids == sorted(ids)
    assert all(len(page) == 2 for page in walked[:-1])
