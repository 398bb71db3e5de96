"""Parallel guesses against the real application, with its own connections (count-based).

The rolled-back test transaction is one connection, which parallel requests cannot share, so
this test commits for real through the session-wide engine and removes what it wrote (but the
audit records, which nothing may delete: they name a throwaway address no other test uses).
"""

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, or_, select

from app.accounts import throttle
from app.accounts.models import SignInAddress, SignInCounter, User
from app.audit.models import AuditRecord
from app.db import build_session_factory
from app.main import create_app
from app.search.factory import build_search_backend
from tests.factories import TEST_PASSWORD, hashed_test_password

GUESSES = 12
ADDRESS = "198.51.100.231"


def test_parallel_wrong_guesses_evaluate_at_most_the_limit(engine, settings):
    factory = build_session_factory(engine)
    email = f"parallel-{uuid.uuid4().hex[:8]}@example.test"
    with factory() as session:
        session.add(User(email=email, password_hash=hashed_test_password(), roles=["editor"]))
        session.commit()
    backend = build_search_backend(settings, factory)
    app = create_app(settings, session_factory=factory, search_backend=backend)
    barrier = threading.Barrier(GUESSES)
    try:
        with TestClient(app, raise_server_exceptions=False, client=(ADDRESS, 40000)) as client:

            def guess(n: int):
                barrier.wait()
                return client.post("/api/v1/auth/token", data={"username": email, "password": f"wrong guess {n}!"})

            with ThreadPoolExecutor(GUESSES) as pool:
                responses = list(pool.map(guess, range(GUESSES)))
            statuses = Counter(r.status_code for r in responses)
            assert statuses == {401: throttle.MAX_PER_ACCOUNT_ADDRESS, 429: GUESSES - throttle.MAX_PER_ACCOUNT_ADDRESS}
            assert all(int(r.headers["retry-after"]) > 0 for r in responses if r.status_code == 429)
            # The right password from the same address is refused as well: the limit is reached.
            right = client.post("/api/v1/auth/token", data={"username": email, "password": TEST_PASSWORD})
            assert right.status_code == 429
        with factory() as session:
            failures = session.scalar(
                select(func.count()).where(
                    AuditRecord.action == throttle.SIGN_IN_FAILED, AuditRecord.actor_label == email
                )
            )
            counted = session.scalar(
                select(SignInCounter.count).where(SignInCounter.key == f"account-address:{email}|{ADDRESS}")
            )
        assert failures == counted == throttle.MAX_PER_ACCOUNT_ADDRESS
    finally:
        with factory() as session:
            session.execute(
                delete(SignInCounter).where(
                    or_(SignInCounter.key.contains(email), SignInCounter.key == f"address:{ADDRESS}")
                )
            )
            session.execute(delete(SignInAddress).where(SignInAddress.email == email))
            session.execute(delete(User).where(User.email == email))
            session.commit()
        backend.drop()
