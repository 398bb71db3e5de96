"""DATABASE_URL with TLS parameters reaches libpq: against a PostgreSQL that refuses plain TCP.

postgres-es only (it needs the machine's PostgreSQL binaries, as that configuration does).
"""

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.config import Settings
from app.db import build_engine
from tests.faults.servers import PORT_BASE, REPO, TlsPostgres

__test__ = os.environ.get("TTDN_TEST_CONFIG", "sqlite") == "postgres-es"


@pytest.fixture(scope="module")
def tls_postgres() -> Iterator[TlsPostgres]:
    # Under the repository's .cache, which the postgres OS user can reach (pytest's tmp is 0700).
    server = TlsPostgres(REPO / ".cache" / "pg-tls", PORT_BASE + 40)
    server.start()
    yield server
    server.stop()


def connects_with_tls(url: str) -> bool:
    engine = build_engine(Settings(database_url=url).sqlalchemy_url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar())
    finally:
        engine.dispose()


def test_sslmode_require_and_verify_full_connect_over_tls(tls_postgres: TlsPostgres) -> None:
    base = f"postgresql://postgres@127.0.0.1:{tls_postgres.port}/postgres"
    assert connects_with_tls(f"{base}?sslmode=require")
    assert connects_with_tls(f"{base}?sslmode=verify-full&sslrootcert={tls_postgres.cert}")
    # psycopg's own parameter is taken out of the URL; libpq's stay.
    assert connects_with_tls(f"{base}?sslmode=require&prepare_threshold=none")


def test_tls_refused_or_untrusted_fails_clearly(tls_postgres: TlsPostgres) -> None:
    base = f"postgresql://postgres@127.0.0.1:{tls_postgres.port}/postgres"
    with pytest.raises(OperationalError, match="no encryption|SSL off|rejects"):
        connects_with_tls(f"{base}?sslmode=disable")
    with pytest.raises(OperationalError, match="certificate verify failed|root certificate"):
        connects_with_tls(f"{base}?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt")
