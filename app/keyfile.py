"""Secrets an installation makes for itself on first start and keeps in DATA_DIR.

A secret is written once, atomically: the bytes go to a private temporary file (mkstemp makes it
mode 0600), are flushed to disk, and the file is then hard-linked to its final name. link() fails
when the name exists already, so of two processes starting at once exactly one secret wins and
both read that one; no reader ever sees a half-written file. A file found readable by others is
narrowed to its owner again.
"""

import logging
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("ttdn.keyfile")
OWNER_ONLY = 0o600


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The secret kept in `path`, created from `make()` when there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(make())
                out.flush()
                os.fsync(out.fileno())
            os.link(tmp, path)  # fails if another process won the race; its secret is kept
            log.info("generated %s (owner-only)", path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    _keep_private(path)
    return path.read_bytes().strip()


def _keep_private(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & ~OWNER_ONLY:
        log.warning("%s was readable by others (mode %o); narrowed to its owner", path, mode)
        os.chmod(path, OWNER_ONLY)
