"""Checking a package offline: the manifest's signature, then every file's size and SHA-256.

Used by `ttdn verify-package`; needs no database. Every failure is reported by file name.
"""

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from app.feeds import signing

CHUNK = 1024 * 1024
SIGNATURE_FILES = ("manifest.json", "manifest.sig", "signer.json")


@dataclass
class Verification:
    signature_checked: bool = False  # False when the package could not be read that far
    signature_ok: bool = False
    key_source: str = ""
    checked: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    @property
    def ok(self) -> bool:
        return self.signature_ok and not self.failures


def _digest(archive: zipfile.ZipFile, path: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with archive.open(path) as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _signer_key(archive: zipfile.ZipFile) -> str | None:
    try:
        return json.loads(archive.read("signer.json"))["public_key"]
    except (KeyError, ValueError, TypeError):
        return None


def _check_signature(archive: zipfile.ZipFile, public_key: str | None, result: Verification) -> bytes | None:
    """manifest.json if it is present and readable; records whether its signature holds."""
    missing = [name for name in ("manifest.json", "manifest.sig") if name not in archive.namelist()]
    result.failures += [(name, "missing from the package") for name in missing]
    if missing:
        return None
    try:
        manifest, signature = archive.read("manifest.json"), archive.read("manifest.sig")
    except zipfile.BadZipFile as exc:
        result.failures.append(("manifest.json", f"damaged ({exc})"))
        return None
    key = public_key or _signer_key(archive)
    if not public_key:
        result.key_source = result.key_source or "signer.json in the package (proves integrity, not origin)"
    result.signature_checked = True
    result.signature_ok = bool(key) and signing.verify(key or "", manifest, signature)
    if not result.signature_ok:
        result.failures.append(("manifest.sig", "the signature does not match manifest.json and the key"))
    return manifest


def _check_file(archive: zipfile.ZipFile, entry: dict, present: set[str], result: Verification) -> None:
    path = entry.get("path", "")
    if path not in present:
        result.failures.append((path, "missing from the package"))
        return
    try:
        size, sha256 = _digest(archive, path)
    except zipfile.BadZipFile as exc:
        result.failures.append((path, f"damaged ({exc})"))
        return
    result.checked += 1
    if size != entry.get("size"):
        result.failures.append((path, f"size {size}, the manifest says {entry.get('size')}"))
    elif sha256 != entry.get("sha256"):
        result.failures.append((path, "SHA-256 differs from the manifest"))


def verify_package(path: Path, public_key: str | None, key_source: str = "") -> Verification:
    """Check the package at `path` against `public_key` (base64), or the key it carries."""
    result = Verification(key_source=key_source)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        result.failures.append((str(path), f"not a readable zip ({exc})"))
        return result
    with archive:
        manifest = _check_signature(archive, public_key, result)
        if manifest is None:
            return result
        try:
            listed = json.loads(manifest)["files"]
        except (ValueError, KeyError, TypeError):
            result.failures.append(("manifest.json", "not a package manifest"))
            return result
        present = set(archive.namelist())
        for entry in listed:
            _check_file(archive, entry, present, result)
        expected = {entry.get("path") for entry in listed} | set(SIGNATURE_FILES)
        # A folder entry holds no bytes: `zip -r` writes one per folder when a package is zipped again.
        extra = sorted(name for name in present - expected if not name.endswith("/"))
        result.failures += [(name, "not listed in the manifest") for name in extra]
    return result
