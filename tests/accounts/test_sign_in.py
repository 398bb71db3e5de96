"""Signing in and the bearer token every /api/v1 route needs."""

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import update

from app.accounts import service as accounts_service
from app.accounts import token_cache
from app.accounts.models import User
from app.errors import Conflict, ValidationFailed
from tests.factories import TEST_PASSWORD


def sign_in(client, username, password):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_token_for_the_right_password(client, users):
    response = sign_in(client, "Editor@Example.test", TEST_PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {
        "type": "user",
        "id": str(users["editor"].id),
        "label": "editor@example.test",
        "roles": ["editor"],
    }


@pytest.mark.parametrize(
    ("username", "password"), [("editor@example.test", "wrong password!!"), ("nobody@example.test", TEST_PASSWORD)]
)
def test_wrong_credentials_are_401_problems_that_reveal_nothing(client, users, username, password):
    response = sign_in(client, username, password)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "Wrong e-mail or password."


def test_a_missing_username_is_422_and_an_empty_password_a_wrong_one(client, users):
    response = client.post("/api/v1/auth/token", data={"password": "x"})
    assert response.status_code == 422
    assert any(e["loc"] == ["body", "username"] for e in response.json()["errors"])
    for form in ({"username": "editor@example.test", "password": ""}, {"username": "editor@example.test"}):
        refused = client.post("/api/v1/auth/token", data=form)
        assert refused.status_code == 401 and refused.json()["detail"] == "Wrong e-mail or password."


def test_disabled_user_cannot_sign_in_and_tokens_stop_within_the_bound(client, users, auth, session):
    headers = auth("editor")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    # Disabled behind this process's back (as another server process would): its memory of the
    # token runs out after USER_CACHE_SECONDS. Through the API it is at once (test_users_admin.py).
    session.execute(update(User).where(User.id == users["editor"].id).values(active=False))
    session.commit()
    time.sleep(token_cache.USER_CACHE_SECONDS + 0.2)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert sign_in(client, "editor@example.test", TEST_PASSWORD).status_code == 401


def test_expired_forged_and_wrongly_signed_tokens_are_refused(client, users, settings):
    now = datetime.now(UTC)
    claims = {"sub": str(users["admin"].id), "typ": "access", "iat": now - timedelta(hours=2)}
    expired = jwt.encode({**claims, "exp": now - timedelta(hours=1)}, settings.secret_key, algorithm="HS256")
    forged = jwt.encode(
        {**claims, "exp": now + timedelta(hours=1)}, "another-secret-key-another-secret", algorithm="HS256"
    )
    unsigned = jwt.encode({**claims, "exp": now + timedelta(hours=1)}, None, algorithm="none")
    for token in (expired, forged, unsigned, "garbage"):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_create_user_rules(session):
    with pytest.raises(ValidationFailed):
        accounts_service.create_user(session, "short@example.test", "short", ["editor"])
    with pytest.raises(ValidationFailed):
        accounts_service.create_user(session, "x@example.test", "long enough password", ["superuser"])
    user = accounts_service.create_user(session, "New@Example.test", "long enough password", ["editor", "reviewer"])
    assert user.email == "new@example.test" and user.password_hash.startswith("$argon2")
    with pytest.raises(Conflict):
        accounts_service.create_user(session, "new@example.test", "long enough password", ["editor"])
