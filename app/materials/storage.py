"""Content-addressed blob storage under DATA_DIR: files named by their SHA-256, stored once.

A blob is streamed to a temporary file in the same folder tree while it is hashed, then moved
into place with an atomic rename, so a reader never sees half a file and a crash leaves at most
a temp file behind.
"""

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype

from app.errors import PayloadTooLarge

CHUNK = 1024 * 1024
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    head: bytes  # the first bytes, for sniffing the media type


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, source: BinaryIO, max_bytes: int, accept: Callable[[StoredBlob], None] | None = None) -> StoredBlob:
        """Copy `source` into the store; 413 past `max_bytes`. `accept` sees the blob before it
        is moved into place and refuses it by raising: nothing is kept then either."""
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise PayloadTooLarge(f"The file is larger than the limit of {max_bytes} bytes.")
                    if len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            blob = StoredBlob(sha256=digest.hexdigest(), size=size, head=head)
            if accept is not None:
                accept(blob)
            final = self.path_for(blob.sha256)
            if final.exists():
                os.unlink(tmp_name)  # the same bytes are stored already
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp_name, final)
            return blob
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def collect(self, referenced: set[str], grace_seconds: float, *, dry_run: bool = False) -> tuple[int, int]:
        """Delete blobs no row references, and leftover temp files, older than the grace period.

        The grace period keeps a blob whose upload has written it but not committed its row yet
        (a request takes seconds, the default grace a day). Returns (files, bytes) removed."""
        cutoff = time.time() - grace_seconds
        files = size = 0
        for path in self.root.rglob("*"):
            if not path.is_file():
                continue
            is_temp = path.parent == self.root / "tmp"
            if not is_temp and path.name in referenced:
                continue
            stat = path.stat()
            if stat.st_mtime >= cutoff:
                continue
            if not dry_run:
                path.unlink(missing_ok=True)
            files, size = files + 1, size + stat.st_size
        return files, size


# What we accept, by the type the bytes show. Text has no magic number: valid UTF-8 counts.
ALLOWED_PREFIXES = ("image/", "audio/", "video/", "text/")
ALLOWED_TYPES = frozenset(
    {
        "application/pdf",
        "application/epub+zip",
        "application/zip",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/rtf",
    }
)


def sniff_media_type(head: bytes) -> str | None:
    """The media type the bytes show, or None when they show nothing we recognise."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # The sniffed prefix may cut a multi-byte character in two.
        try:
            text = head[:-3].decode("utf-8") if len(head) >= SNIFF_BYTES else ""
        except UnicodeDecodeError:
            return None
    if text and "\x00" in text:
        return None
    return "text/plain" if text or not head else None


def is_allowed(media_type: str) -> bool:
    return media_type.startswith(ALLOWED_PREFIXES) or media_type in ALLOWED_TYPES
