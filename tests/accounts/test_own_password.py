"""POST /api/v1/me/password: anyone signed in changes their own password; old tokens stop."""

import re

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.accounts import throttle
from app.cli import cli
from app.config import get_settings
from app.main import create_app
from tests.factories import TEST_PASSWORD

NEW_PASSWORD = "mây trắng đèo Pha Đin năm ấy"


def sign_in(client, username, password):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def bearer(response):
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def change(client, headers, current, new):
    return client.post("/api/v1/me/password", json={"current_password": current, "new_password": new}, headers=headers)


def test_change_refuses_every_older_token_and_the_old_password(client, auth, users):
    old_token = auth("editor")
    also_old = bearer(sign_in(client, "editor@example.test", TEST_PASSWORD))
    response = change(client, old_token, TEST_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 204 and response.content == b""
    for headers in (old_token, also_old):
        assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert sign_in(client, "editor@example.test", TEST_PASSWORD).status_code == 401
    fresh = sign_in(client, "editor@example.test", NEW_PASSWORD)
    assert fresh.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(fresh)).json()["label"] == "editor@example.test"


def test_change_is_audited_without_the_secret(client, auth, users):
    assert change(client, auth("reviewer"), TEST_PASSWORD, NEW_PASSWORD).status_code == 204
    records = client.get("/api/v1/audit", params={"action": "user.password_changed"}, headers=auth("admin")).json()
    assert records["items"][0]["entity_id"] == str(users["reviewer"].id)
    assert records["items"][0]["actor"]["label"] == "reviewer@example.test"
    assert NEW_PASSWORD not in str(records) and TEST_PASSWORD not in str(records) and "argon2" not in str(records)


def test_a_wrong_current_password_is_a_clear_422_and_counts_as_a_failed_sign_in(client, auth, users):
    headers = auth("analyst")
    for _ in range(throttle.MAX_PER_ACCOUNT_ADDRESS):
        wrong = change(client, headers, "not my password", NEW_PASSWORD)
        assert wrong.status_code == 422
        assert wrong.json()["errors"] == [
            {"loc": ["body", "current_password"], "msg": "The current password is wrong."}
        ]
    assert change(client, headers, TEST_PASSWORD, NEW_PASSWORD).status_code == 429
    assert sign_in(client, "analyst@example.test", TEST_PASSWORD).status_code == 429
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # nothing changed


def test_a_weak_or_unchanged_new_password_is_refused_and_changes_nothing(client, auth, users):
    headers = auth("editor2")
    for weak in ("short", "password1234", TEST_PASSWORD):
        refused = change(client, headers, TEST_PASSWORD, weak)
        assert refused.status_code == 422, weak
        assert refused.json()["errors"][0]["loc"] == ["body", "new_password"]
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert sign_in(client, "editor2@example.test", TEST_PASSWORD).status_code == 200


def test_units_have_no_password_to_change(client, auth):
    unit = client.post(
        "/api/v1/units", json={"code": "PW-UNIT", "name": "Đơn vị", "type": "other"}, headers=auth("admin")
    )
    key = client.post(f"/api/v1/units/{unit.json()['id']}/keys", headers=auth("admin")).json()["key"]
    refused = change(client, {"Authorization": f"Bearer {key}"}, "x", NEW_PASSWORD)
    assert refused.status_code == 403


def test_the_first_admin_changes_the_printed_password_alone(scratch):
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    seeded = runner.invoke(cli, ["seed", "--demo-if-empty"])
    printed = re.search(r"admin@ttdn\.local / (\S+)", seeded.output)
    assert printed, seeded.output
    with TestClient(create_app(get_settings())) as client:
        token = sign_in(client, "admin@ttdn.local", printed.group(1))
        assert token.status_code == 200
        assert change(client, bearer(token), printed.group(1), NEW_PASSWORD).status_code == 204
        assert client.get("/api/v1/users", headers=bearer(token)).status_code == 401
        assert sign_in(client, "admin@ttdn.local", printed.group(1)).status_code == 401
        again = sign_in(client, "admin@ttdn.local", NEW_PASSWORD)
        assert client.get("/api/v1/users", headers=bearer(again)).status_code == 200
    assert (scratch / "secret-key").is_file()
