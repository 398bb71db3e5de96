"""Start-up refusals, CORS, and errors that never leak internals."""

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.config import Settings
from app.main import create_app


def test_production_refuses_default_or_short_secret():
    with pytest.raises(ValidationError):
        Settings(app_env="production")
    with pytest.raises(ValidationError):
        Settings(app_env="production", secret_key="short-secret")
    assert Settings(app_env="production", secret_key="x" * 40).is_production


def test_cors_only_for_configured_origins(settings, session_factory, search_backend):
    configured = settings.model_copy(update={"cors_origins": ["https://ttdn.example.vn"]})
    app = create_app(configured, session_factory=session_factory, search_backend=search_backend)
    with TestClient(app) as client:
        allowed = client.options(
            "/api/v1/materials",
            headers={"Origin": "https://ttdn.example.vn", "Access-Control-Request-Method": "GET"},
        )
        assert allowed.headers.get("access-control-allow-origin") == "https://ttdn.example.vn"
        other = client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_no_cors_headers_by_default(client):
    response = client.get("/healthz", headers={"Origin": "https://ttdn.example.vn"})
    assert "access-control-allow-origin" not in response.headers
