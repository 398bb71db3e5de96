"""Offline packages: one zip per (bundle, version), built once, then served from disk.

The zip holds `manifest.json` (bundle, version, and each file's path, size and SHA-256),
`manifest.sig` (its Ed25519 signature, base64), `signer.json` (the public key, for information:
trust the key you got from the server, not the one in the package), `bundle.json`, `index.html`,
`search.js` (the index page's offline search), and per material its JSON, its readable HTML and its attachments.

Same request, same bytes: entries come in a fixed order with timestamps taken from the
publication's release time, fixed permissions and a fixed compression (deflate level 6 for
text; attachments stored as they are). The zip is written to a temp file, fsynced and renamed
into place under a per-version file lock, so concurrent first requests build it once and no
reader ever sees half a file. Its SHA-256 is in its name and is the download's ETag; Range
requests resume against that exact file.
"""

import fcntl
import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from app.bundles import publications
from app.bundles.models import BundlePublication
from app.bundles.schemas import PublishedItem
from app.config import Settings
from app.errors import ServiceUnavailable
from app.feeds import labels, render, signing
from app.materials.storage import BlobStore

FORMAT = "ttdn-package/1"
CHUNK = 1024 * 1024
TEXT_LEVEL = 6
FILE_MODE = 0o100644 << 16
UNIX = 3
# Every path component of an entry stays within this many bytes of UTF-8 (NAME_MAX on Linux,
# and the limit of ext4, XFS, APFS and NTFS, in bytes or UTF-16 units).
NAME_MAX_BYTES = 255
MAX_EXTENSION_BYTES = 16


@dataclass(frozen=True)
class PackageFile:
    path: str
    size: int
    sha256: str
    data: bytes | None = None  # in memory, or
    blob: Path | None = None  # streamed from the blob store


@dataclass(frozen=True)
class Package:
    path: Path
    sha256: str


def _in_memory(path: str, data: bytes) -> PackageFile:
    return PackageFile(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data)


def _cut_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` within `max_bytes` of UTF-8, never splitting a character."""
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def entry_name(attachment_id: str, filename: str) -> str:
    """`<id>-<filename>` within NAME_MAX_BYTES of UTF-8 (what file systems accept for one name):
    a long Vietnamese name is cut by bytes, keeping its extension. The id keeps it unique."""
    prefix = f"{attachment_id}-"
    room = NAME_MAX_BYTES - len(prefix.encode("utf-8"))
    if len(filename.encode("utf-8")) <= room:
        return prefix + filename
    stem, dot, extension = filename.rpartition(".")
    if not dot or not stem or len(extension.encode("utf-8")) > MAX_EXTENSION_BYTES:
        return prefix + _cut_utf8(filename, room)
    return prefix + _cut_utf8(stem, room - len(extension.encode("utf-8")) - 1) + "." + extension


def _material_files(
    store: BlobStore, item: PublishedItem, folder: str, names: labels.Names, publication: BundlePublication
) -> list[PackageFile]:
    attachments = (item.material or {}).get("attachments", [])
    relative = {a["id"]: f"attachments/{entry_name(a['id'], a['filename'])}" for a in attachments}
    full = {key: f"{folder}/{path}" for key, path in relative.items()}
    files = [
        _in_memory(f"{folder}/material.json", render.material_json(item, full)),
        _in_memory(f"{folder}/material.html", render.material_html(item, relative, names, publication)),
    ]
    files += [
        PackageFile(path=full[a["id"]], size=int(a["size"]), sha256=a["sha256"], blob=store.path_for(a["sha256"]))
        for a in attachments
    ]
    return files


def package_files(session: Session, settings: Settings, publication: BundlePublication) -> list[PackageFile]:
    """Every file the manifest lists, in package order. Materials deleted since publication
    (their revisions went with them) are listed in bundle.json as not included."""
    items = publications.published_items(session, publication)
    folders = {item.position: f"materials/{item.position:03d}-{item.material_id}" for item in items if item.material}
    names = labels.Names.load(session)
    files = [
        _in_memory("bundle.json", render.bundle_json(publication, items)),
        _in_memory("index.html", render.index_html(publication, items, folders, names)),
        _in_memory("search.js", render.search_js(publication, items, folders, names)),
    ]
    store = BlobStore(settings.blob_dir)
    for item in items:
        if item.position in folders:
            files += _material_files(store, item, folders[item.position], names, publication)
    return files


def manifest(publication: BundlePublication, files: list[PackageFile]) -> bytes:
    return render.stable_json(
        {
            "format": FORMAT,
            "bundle_id": str(publication.bundle_id),
            "version": publication.version,
            "title": publication.title,
            "published_at": publication.release_at.isoformat(),
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in files],
        }
    )


def manifest_sha256(session: Session, settings: Settings, publication: BundlePublication) -> str:
    """The SHA-256 of the manifest of this publication's package (computed, not built)."""
    return hashlib.sha256(manifest(publication, package_files(session, settings, publication))).hexdigest()


def _cached(folder: Path, version: int) -> Package | None:
    found = sorted(folder.glob(f"v{version}-*.zip"))
    if not found:
        return None
    return Package(path=found[0], sha256=found[0].stem.split("-", 1)[1])


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def ensure_package(session: Session, settings: Settings, publication: BundlePublication) -> Package:
    """The package file of this publication, built now if it is not on disk yet."""
    folder = settings.packages_dir / str(publication.bundle_id)
    found = _cached(folder, publication.version)
    if found is not None:
        return found
    folder.mkdir(parents=True, exist_ok=True)
    with _exclusive(folder / f"v{publication.version}.lock"):
        found = _cached(folder, publication.version)
        if found is not None:
            return found
        return _build(session, settings, publication, folder)


def _build(session: Session, settings: Settings, publication: BundlePublication, folder: Path) -> Package:
    files = package_files(session, settings, publication)
    key = signing.private_key(settings)
    manifest_bytes = manifest(publication, files)
    head = [
        _in_memory("manifest.json", manifest_bytes),
        _in_memory("manifest.sig", signing.sign(key, manifest_bytes) + b"\n"),
        _in_memory(
            "signer.json",
            render.stable_json({"algorithm": signing.ALGORITHM, "public_key": signing.public_key_b64(key)}),
        ),
    ]
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".v{publication.version}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w+b") as out:
            _write_zip(out, _zip_time(publication), [*head, *files])
            out.flush()
            os.fsync(out.fileno())
        digest = _file_sha256(Path(tmp))
        final = folder / f"v{publication.version}-{digest}.zip"
        os.replace(tmp, final)
        _fsync_dir(folder)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return Package(path=final, sha256=digest)


def _zip_time(publication: BundlePublication) -> tuple[int, int, int, int, int, int]:
    at = publication.release_at
    return (max(at.year, 1980), at.month, at.day, at.hour, at.minute, at.second)


def _entry(path: str, stamp: tuple[int, int, int, int, int, int], size: int, stored: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=stamp)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = FILE_MODE
    info.create_system = UNIX
    info.file_size = size
    return info


def _write_zip(out: BinaryIO, stamp: tuple[int, int, int, int, int, int], files: list[PackageFile]) -> None:
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        for file in files:
            info = _entry(file.path, stamp, file.size, stored=file.blob is not None)
            if file.blob is None:
                archive.writestr(info, file.data or b"", compresslevel=TEXT_LEVEL)
            else:
                _copy_blob(archive, info, file, file.blob)


def _copy_blob(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file: PackageFile, blob: Path) -> None:
    """Stream an attachment into the zip in chunks, checking it is the file that was published."""
    digest, size = hashlib.sha256(), 0
    try:
        with (
            blob.open("rb") as source,
            archive.open(info, "w", force_zip64=file.size >= zipfile.ZIP64_LIMIT) as target,
        ):
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                target.write(chunk)
    except FileNotFoundError:
        raise ServiceUnavailable(f"An attachment of this package is missing from storage ({file.path}).") from None
    if size != file.size or digest.hexdigest() != file.sha256:
        raise ServiceUnavailable(f"An attachment of this package is damaged in storage ({file.path}).")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
