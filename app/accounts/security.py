"""Password hashing (Argon2 via argon2-cffi) and signed access tokens (PyJWT)."""

import functools
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so both paths cost the same time.
    Made on first use, not at import: an Argon2 hash costs every starting worker half a second."""
    return _hasher.hash("not-a-real-password-just-for-timing")


ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def issue_access_token(user_id: uuid.UUID, secret: str, minutes: int, generation: int = 0) -> tuple[str, int]:
    """A signed token for the user; `generation` is the user's token generation, which a password
    change or a disable raises, so the token stops working then."""
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "typ": "access",
        "gen": generation,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), minutes * 60


def read_access_token(token: str, secret: str) -> tuple[uuid.UUID, int, float] | None:
    """(user id, token generation, expiry as a Unix time) of a valid, unexpired access token,
    else None."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "access" or type(claims.get("gen", 0)) is not int:
        return None
    try:
        return uuid.UUID(claims["sub"]), claims.get("gen", 0), float(claims["exp"])
    except (ValueError, TypeError):
        return None
