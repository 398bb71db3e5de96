"""The Ed25519 key that signs package manifests.

From the `package_signing_key` setting (base64 of the raw 32-byte private key), required in
production. Elsewhere, when unset, a key is generated once and kept in DATA_DIR (mode 0600), so
packages built by a development server verify across restarts.
"""

import base64
import binascii
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

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
    """The key kept in `path`, created atomically (never half-written, never two) if missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".signing-key-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(base64.b64encode(_raw_bytes(Ed25519PrivateKey.generate())))
                out.flush()
                os.fsync(out.fileno())
            os.link(tmp, path)  # fails if another process won the race; its key is kept
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return base64.b64decode(path.read_bytes().strip())


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
        return public_key_b64(Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_bytes().strip())))
    return None


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The signature of `data`, base64 (what manifest.sig holds)."""
    return base64.b64encode(key.sign(data))


def verify(public_b64: str, data: bytes, signature_b64: bytes) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True))
        public.verify(base64.b64decode(signature_b64.strip(), validate=True), data)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
