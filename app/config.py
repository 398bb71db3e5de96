"""Settings from the environment (pydantic-settings); one place for every knob."""

import base64
import binascii
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app import keyfile

SECRET_KEY_FILE = "secret-key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    app_env: str = Field(default="development", description="development, test or production")
    data_dir: Path = Path("./data")
    database_url: str | None = None
    elasticsearch_url: str | None = None
    # Name of the alias searches go through; each rebuild makes a new index behind it.
    elasticsearch_index: str = "ttdn-materials"
    # Signs access tokens. Required in production; elsewhere, when unset, a random key is
    # generated on first start and kept in DATA_DIR (owner-only), see with_secret_key().
    secret_key: str | None = None
    access_token_minutes: int = 30
    max_json_body_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 50 * 1024 * 1024
    # The indexer drains the outbox in the background; 0 turns it off (tests drive it by hand).
    indexer_interval_seconds: float = 1.0
    indexer_batch_size: int = 500
    cors_origins: list[str] = []
    # Ed25519 private key (base64 of the raw 32 bytes) that signs offline packages' manifests.
    # Required in production (checked when the app starts); elsewhere one is generated under
    # DATA_DIR on first use.
    package_signing_key: str | None = None
    # Urgent bundles not acknowledged within this many hours are listed as overdue.
    urgent_ack_hours: float = 24.0
    # How often scheduled bundles are released and expired ones withdrawn; 0 turns it off.
    feed_release_interval_seconds: float = 15.0
    # Logs: "auto" writes JSON lines unless stderr is a terminal; "json" or "text" force one.
    log_format: str = Field(default="auto", pattern="^(auto|json|text)$")
    log_level: str = Field(default="INFO", pattern="^(?i:debug|info|warning|error)$")

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "Settings":
        if self.app_env == "production" and len(self.secret_key or "") < 32:
            raise ValueError("SECRET_KEY must be set to at least 32 characters when APP_ENV=production")
        if self.package_signing_key and not _is_raw_key(self.package_signing_key):
            raise ValueError("PACKAGE_SIGNING_KEY must be the base64 of a raw 32-byte Ed25519 private key")
        return self

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # Accept the common postgres:// spellings and use psycopg 3.
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url[len(prefix) :]
            return url
        return f"sqlite:///{(self.data_dir / 'ttdn.sqlite3').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def packages_dir(self) -> Path:
        return self.data_dir / "packages"


def _is_raw_key(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == 32
    except (ValueError, binascii.Error):
        return False


def with_secret_key(settings: Settings) -> Settings:
    """The settings with a token key: SECRET_KEY when set, else this installation's own random
    key from DATA_DIR, generated on first start and shared by every process that uses DATA_DIR."""
    if settings.secret_key:
        return settings
    stored = keyfile.read_or_create(settings.data_dir / SECRET_KEY_FILE, lambda: secrets.token_urlsafe(48).encode())
    return settings.model_copy(update={"secret_key": stored.decode()})


@lru_cache
def get_settings() -> Settings:
    return Settings()
