"""Settings from the environment (pydantic-settings); one place for every knob."""

import base64
import binascii
import json
import secrets
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app import keyfile

SECRET_KEY_FILE = "secret-key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    app_env: str = Field(default="development", description="development, test or production")
    data_dir: Path = Path("./data")
    database_url: str | None = None
    # One URL, or several separated by commas (the nodes of a cluster): http(s)://host:port.
    elasticsearch_url: str | None = None
    # Name of the alias searches go through; each rebuild makes a new index behind it.
    elasticsearch_index: str = "ttdn-materials"
    # Credentials for a secured cluster: an API key (the base64 "encoded" form), or a user and
    # password. Never logged, never shown by /readyz.
    elasticsearch_api_key: SecretStr | None = None
    elasticsearch_username: str | None = None
    elasticsearch_password: SecretStr | None = None
    # How to trust the cluster's TLS certificate: a CA file (PEM), or the SHA-256 fingerprint of
    # the CA or node certificate. Verification is on unless explicitly turned off, and turning it
    # off is logged as a warning at every start and shown by /readyz.
    elasticsearch_ca_certs: Path | None = None
    elasticsearch_ssl_fingerprint: str | None = None
    elasticsearch_verify_certs: bool = True
    # Per-request timeout (seconds) and retries on another node; /readyz waits at most
    # elasticsearch_health_timeout seconds.
    elasticsearch_request_timeout: float = Field(default=10.0, gt=0)
    elasticsearch_max_retries: int = Field(default=2, ge=0)
    elasticsearch_health_timeout: float = Field(default=2.0, gt=0)
    # Settings of the indices the service creates. Replicas: a number, or a range such as
    # "0-1" (Elasticsearch's auto_expand_replicas: 0 on a single node, 1 once a second node
    # joins), which is the default.
    elasticsearch_shards: int = Field(default=1, ge=1)
    elasticsearch_replicas: str = Field(default="0-1", pattern=r"^\d+(-(\d+|all))?$")
    elasticsearch_refresh_interval: str = "1s"
    # Signs access tokens. Required in production; elsewhere, when unset, a random key is
    # generated on first start and kept in DATA_DIR (owner-only), see with_secret_key().
    secret_key: str | None = None
    access_token_minutes: int = 30
    max_json_body_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 50 * 1024 * 1024
    # The indexer drains the outbox in the background; 0 turns it off (tests drive it by hand).
    indexer_interval_seconds: float = 1.0
    indexer_batch_size: int = 500
    # How long a claimed batch is reserved for the process that claimed it (see indexer._claim).
    indexer_claim_seconds: float = Field(default=120.0, gt=0)
    # The longest wait between two tries while the search backend is unreachable.
    indexer_max_backoff_seconds: float = Field(default=30.0, gt=0)
    cors_origins: list[str] = []
    # On SQLite, how long a change waits for its turn to write before the answer is 503.
    write_wait_seconds: float = 30.0
    # Ed25519 private key (base64 of the raw 32 bytes) that signs offline packages' manifests.
    # Required in production (checked when the app starts); elsewhere one is generated under
    # DATA_DIR on first use.
    package_signing_key: str | None = None
    # Urgent bundles not acknowledged within this many hours are listed as overdue.
    urgent_ack_hours: float = 24.0
    # Hours from a claim's first report to its deadline, by severity.
    claim_deadline_hours_critical: float = 24.0
    claim_deadline_hours_high: float = 72.0
    claim_deadline_hours_normal: float = 168.0
    claim_deadline_hours_low: float = 720.0
    # Matching a new report to claims (app/claims/matching.py): at or above the first score it
    # joins the best claim at once; candidates at or above the second are suggested.
    claim_autojoin_score: float = 0.75
    claim_suggest_score: float = 0.2
    # How often scheduled bundles are released and expired ones withdrawn; 0 turns it off.
    feed_release_interval_seconds: float = 15.0
    # Webhook deliveries: how often the sender looks for due ones (0: never; tests drive it), how
    # long one request may take, the retry schedule (exponential with jitter, capped), how many
    # attempts one delivery gets, and after how many failed attempts in a row a subscription is
    # disabled.
    webhook_interval_seconds: float = 2.0
    webhook_timeout_seconds: float = 10.0
    webhook_retry_base_seconds: float = 10.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_max_attempts: int = 10
    webhook_disable_after_failures: int = 20
    # ... and only once they have gone on this long: a receiver down for a minute (a restart, a
    # deploy) fails many attempts at once when events come in bursts, and is not "gone".
    webhook_disable_after_seconds: float = Field(default=86400.0, ge=0)
    # Logs: "auto" writes JSON lines unless stderr is a terminal; "json" or "text" force one.
    log_format: str = Field(default="auto", pattern="^(auto|json|text)$")
    log_level: str = Field(default="INFO", pattern="^(?i:debug|info|warning|error)$")

    @field_validator("elasticsearch_url", mode="before")
    @classmethod
    def _hosts_as_text(cls, value: object) -> object:
        """A list of hosts (a JSON list in the environment) is kept as the comma-separated form."""
        if isinstance(value, str) and value.strip().startswith("["):
            value = json.loads(value)
        if isinstance(value, list | tuple):
            return ",".join(str(host).strip() for host in value)
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(_DATABASE_SCHEMES):
            raise ValueError("must be a sqlite:/// or postgresql:// URL (the databases ttdn-hub runs on)")
        return value

    @field_validator("elasticsearch_url", mode="after")
    @classmethod
    def _http_hosts(cls, value: str | None) -> str | None:
        for host in _hosts(value):
            parts = urlsplit(host)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{host!r} is not an http(s)://host:port URL")
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "Settings":
        if self.app_env == "production" and len(self.secret_key or "") < 32:
            raise ValueError("SECRET_KEY must be set to at least 32 characters when APP_ENV=production")
        if self.elasticsearch_username and not self.elasticsearch_password:
            raise ValueError("ELASTICSEARCH_PASSWORD is required with ELASTICSEARCH_USERNAME")
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

    def claim_deadline_hours(self, severity: str) -> float:
        return float(getattr(self, f"claim_deadline_hours_{severity}"))

    @property
    def elasticsearch_hosts(self) -> list[str]:
        """ELASTICSEARCH_URL split at commas (a cluster's nodes), blanks dropped."""
        return _hosts(self.elasticsearch_url)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def packages_dir(self) -> Path:
        return self.data_dir / "packages"


def _hosts(urls: str | None) -> list[str]:
    return [host.strip() for host in (urls or "").split(",") if host.strip()]


_DATABASE_SCHEMES = ("sqlite:", "postgres://", "postgresql://", "postgresql+psycopg://")


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
