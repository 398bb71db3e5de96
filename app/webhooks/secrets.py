"""Signing secrets: generated once, shown once, kept encrypted at rest.

The sender must sign every delivery, so the secret has to be recoverable (a hash would not do).
It is stored as a Fernet token (AES-128-CBC + HMAC-SHA256) under a key derived with HKDF from
SECRET_KEY: a copy of the database alone does not reveal the secrets. Changing SECRET_KEY makes
them unreadable; such a subscription's deliveries fail with a clear error until its secret is
rotated (delete and re-create it).
"""

import base64
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_PREFIX = "whsec_"


class SecretUnreadable(RuntimeError):
    """The stored secret does not decrypt with the current SECRET_KEY."""


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ttdn-hub webhook secrets").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(secret: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def decrypt(token: str, secret_key: str) -> str:
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("the signing secret does not decrypt with this SECRET_KEY") from None
