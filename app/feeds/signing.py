"""The Ed25519 key that signs package manifests.

From the `package_signing_key` setting (base64 of the raw 32-byte private key), required in
production. Elsewhere, when unset, a key is generated on first start and kept in DATA_DIR
(owner-only, written atomically: see app.keyfile), so packages built by a development server
verify across restarts and every process of one installation signs with the same key.
"""

import base64
import binascii
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from app import keyfile
from app.config import Settings

ALGORITHM = "Ed25519"
KEY_FILE = "package-signing-key"


class SigningKeyMissing(RuntimeError):
    """Production without PACKAGE_SIGNING_KEY: packages cannot be signed."""


def check_configured(settings: Settings) -> None:
    """Refuse to start in production without a configured signing key."""
    if settings.is_production and not settings.package_signing_key:
        raise SigningKeyMissing("PACKAGE_SIGNING_KEY must be set when APP_ENV=production")


def _raw_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def _stored_or_new(path: Path) -> bytes:
    """The key kept in `path`, created atomically and owner-only (see app.keyfile) if missing."""
    return base64.b64decode(
        keyfile.read_or_create(path, lambda: base64.b64encode(_raw_bytes(Ed25519PrivateKey.generate())))
    )


def private_key(settings: Settings) -> Ed25519PrivateKey:
    check_configured(settings)
    if settings.package_signing_key:
        raw = base64.b64decode(settings.package_signing_key)
    else:
        raw = _stored_or_new(settings.data_dir / KEY_FILE)
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def key_id(public_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()[:16]


def installed_public_key(settings: Settings) -> str | None:
    """This installation's public key, if it has one, without generating any."""
    if settings.package_signing_key:
        return public_key_b64(Ed25519PrivateKey.from_private_bytes(base64.b64decode(settings.package_signing_key)))
    path = settings.data_dir / KEY_FILE
    if path.is_file():
        return public_key_b64(Ed25519PrivateKey.from_private_bytes(_stored_or_new(path)))
    return None


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The signature of `data`, base64 (what manifest.sig holds)."""
    return base64.b64encode(key.sign(data))


def is_public_key(public_b64: str) -> bool:
    """Whether `public_b64` is a base64 Ed25519 public key (32 bytes), as the service publishes."""
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64.strip(), validate=True))
    except (ValueError, binascii.Error):
        return False
    return True


def verify(public_b64: str, data: bytes, signature_b64: bytes) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True))
        public.verify(base64.b64decode(signature_b64.strip(), validate=True), data)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
