"""Two senders racing over the same deliveries, each with its own connections (as two server
processes would): every delivery arrives exactly once. Then the server's own sender thread
delivers without anyone driving it. Runs on a database of its own (a scratch SQLite file, or a
fresh PostgreSQL database on the test server): worker threads need real committed rows."""

import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.accounts.deps import Principal
from app.config import Settings
from app.db import build_engine, build_session_factory, new_id
from app.main import create_app
from app.webhooks import service
from app.webhooks.schemas import WebhookCreate
from app.webhooks.sender import WebhookSender
from tests.conftest import CONFIG
from tests.test_backup_drill import pg_databases

DELIVERIES = 30


@pytest.fixture
def own_database(tmp_path, base_settings) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    values = {"data_dir": tmp_path, "webhook_retry_base_seconds": 0, "elasticsearch_url": None}
    if CONFIG == "sqlite":
        values["database_url"] = f"sqlite:///{tmp_path / 'workers.sqlite3'}"
        yield from _prepared(base_settings.model_copy(update=values))
        return
    with pg_databases([f"{base_settings.sqlalchemy_url.rsplit('/', 1)[1]}_webhook_workers"]) as [url]:
        values["database_url"] = url
        yield from _prepared(base_settings.model_copy(update=values))


def _prepared(settings: Settings) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    engine = build_engine(settings.sqlalchemy_url)
    migrate.upgrade(engine)
    try:
        yield settings, build_session_factory(engine)
    finally:
        engine.dispose()


ADMIN = Principal(type="user", id=new_id(), label="worker-test@example.test", roles=frozenset({"admin"}))


def subscribe_and_emit(factory: sessionmaker[Session], settings: Settings, url: str, events: int) -> None:
    with factory() as session:
        data = WebhookCreate(url=url, events=["bundle.published"])
        service.create_webhook(session, data, ADMIN, settings)
        for n in range(events):
            service.emit(session, "bundle.published", {"n": n})
        session.commit()


def test_two_senders_deliver_each_delivery_exactly_once(own_database, receiver):
    settings, factory = own_database
    subscribe_and_emit(factory, settings, receiver.url, DELIVERIES)
    senders = [WebhookSender(factory, settings) for _ in range(2)]
    start = threading.Barrier(2)

    def drain(worker: WebhookSender) -> None:
        start.wait()
        for _ in range(10):
            worker.run_once()

    threads = [threading.Thread(target=drain, args=(worker,)) for worker in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for worker in senders:
        worker.stop()
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == DELIVERIES and len(set(ids)) == DELIVERIES


def test_the_servers_sender_thread_delivers_on_its_own(own_database, receiver):
    settings, factory = own_database
    settings = settings.model_copy(update={"webhook_interval_seconds": 0.1})
    with TestClient(create_app(settings, session_factory=factory)):
        subscribe_and_emit(factory, settings, receiver.url, 1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not receiver.requests:
            time.sleep(0.1)
    assert len(receiver.requests) == 1
