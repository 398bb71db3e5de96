"""Sign-in throttling: every attempt is counted before its password is checked, per (account,
address), per address, and per account from addresses it never signed in from."""

from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts import throttle
from app.accounts.models import SignInCounter
from tests.factories import TEST_PASSWORD

ATTACKER = "198.51.100.7"
OFFICE = "203.0.113.9"


def sign_in(client, username, password):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


@pytest.fixture
def at(app):
    """at("198.51.100.7") -> a client whose requests come from that address."""
    with ExitStack() as stack:
        clients: dict[str, TestClient] = {}

        def client_at(address: str) -> TestClient:
            if address not in clients:
                clients[address] = stack.enter_context(
                    TestClient(app, raise_server_exceptions=False, client=(address, 40000))
                )
            return clients[address]

        yield client_at


def test_an_attacker_at_one_address_cannot_lock_out_the_admin_at_another(at, users):
    for _ in range(throttle.MAX_PER_ACCOUNT_ADDRESS):
        assert sign_in(at(ATTACKER), "admin@example.test", "wrong guess!!").status_code == 401
    locked = sign_in(at(ATTACKER), "admin@example.test", TEST_PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert locked.json()["detail"].startswith("Too many sign-in attempts (failed ones, and ones still being checked")
    assert sign_in(at(OFFICE), "admin@example.test", TEST_PASSWORD).status_code == 200


def test_a_right_password_is_refused_too_once_the_limit_is_reached(at, users):
    """A 429 says nothing about the password: the guess is not even evaluated."""
    for _ in range(throttle.MAX_PER_ACCOUNT_ADDRESS):
        sign_in(at(ATTACKER), "editor@example.test", "wrong guess!!")
    right = sign_in(at(ATTACKER), "editor@example.test", TEST_PASSWORD)
    wrong = sign_in(at(ATTACKER), "editor@example.test", "wrong guess!!")
    assert right.status_code == wrong.status_code == 429

    def said(response):  # the problem body, but for its own request id
        return {k: v for k, v in response.json().items() if k != "request_id"}

    assert said(right) == said(wrong)


@pytest.fixture
def small_limits(monkeypatch):
    """The address-wide and account-wide limits lowered, so the tests need few slow password checks."""
    monkeypatch.setattr(throttle, "MAX_PER_ADDRESS", 4)
    monkeypatch.setattr(throttle, "MAX_PER_ACCOUNT_NEW_ADDRESSES", 3)


def test_one_address_guessing_many_accounts_is_stopped(at, users, small_limits):
    for n in range(throttle.MAX_PER_ADDRESS):
        assert sign_in(at(ATTACKER), f"guess{n}@example.test", "wrong guess!!").status_code == 401
    assert sign_in(at(ATTACKER), "reviewer@example.test", TEST_PASSWORD).status_code == 429
    assert sign_in(at(OFFICE), "reviewer@example.test", TEST_PASSWORD).status_code == 200


def test_distributed_guessing_stops_without_locking_out_the_users_known_address(at, users, small_limits):
    assert sign_in(at(OFFICE), "admin@example.test", TEST_PASSWORD).status_code == 200  # a known address
    for n in range(throttle.MAX_PER_ACCOUNT_NEW_ADDRESSES):
        assert sign_in(at(f"192.0.2.{n + 1}"), "admin@example.test", "wrong guess!!").status_code == 401
    assert sign_in(at("192.0.2.200"), "admin@example.test", "wrong guess!!").status_code == 429
    assert sign_in(at(OFFICE), "admin@example.test", TEST_PASSWORD).status_code == 200


def test_a_success_gives_its_charge_back(at, users, session):
    for _ in range(throttle.MAX_PER_ACCOUNT_ADDRESS - 1):
        sign_in(at(OFFICE), "analyst@example.test", "typo typo typo")
    for _ in range(3):  # more successes than the one failure left before the limit
        assert sign_in(at(OFFICE), "analyst@example.test", TEST_PASSWORD).status_code == 200
    counts = dict(session.execute(select(SignInCounter.key, SignInCounter.count)).all())
    assert counts.get(f"address:{OFFICE}") == throttle.MAX_PER_ACCOUNT_ADDRESS - 1
    assert f"account-address:analyst@example.test|{OFFICE}" not in counts  # its failures are forgotten


def test_ipv6_addresses_count_by_their_64_network():
    assert throttle.address_of("2001:db8:1:2:aaaa::1") == throttle.address_of("2001:db8:1:2:bbbb::9")
    assert throttle.address_of("2001:db8:1:2::1") != throttle.address_of("2001:db8:1:3::1")
    assert throttle.address_of("::ffff:198.51.100.7") == "198.51.100.7"
    assert throttle.address_of(None) == "unknown"
