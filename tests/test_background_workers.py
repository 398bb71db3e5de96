"""The server's own background indexer picks up writes without anyone draining by hand.

Runs on a scratch SQLite file with its own engine: the worker thread needs its own connections,
which the rolled-back test transaction cannot give it.
"""

import time

from fastapi.testclient import TestClient

from app import migrate
from app.accounts import security
from app.accounts.models import User
from app.config import Settings
from app.db import build_engine, build_session_factory
from app.main import create_app
from app.taxonomy import seed as taxonomy_seed
from tests.factories import material_data


def test_background_indexer_makes_new_material_searchable(tmp_path):
    settings = Settings(
        data_dir=tmp_path, secret_key="k" * 40, indexer_interval_seconds=0.1, feed_release_interval_seconds=0.1
    )
    engine = build_engine(settings.sqlalchemy_url)
    migrate.upgrade(engine)
    factory = build_session_factory(engine)
    with factory() as session:
        taxonomy_seed.load_reference(session)
        user = User(email="bg@example.test", password_hash="!", roles=["editor"])
        session.add(user)
        session.commit()
        token, _ = security.issue_access_token(user.id, settings.secret_key, 5)
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings)) as client:
        created = client.post("/api/v1/materials", json=material_data(title="Lễ hội Gầu Tào"), headers=headers)
        assert created.status_code == 201
        deadline = time.monotonic() + 10
        found = 0
        while time.monotonic() < deadline and not found:
            found = client.get("/api/v1/search", params={"q": "gau tao"}, headers=headers).json()["total"]
            time.sleep(0.1)
        assert found == 1
        assert client.get("/readyz").json()["indexing_backlog"] == 0
    engine.dispose()
