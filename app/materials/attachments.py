"""Attachments: upload into content-addressed storage, check the media type from the bytes."""

import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.principal import Principal
from app.config import Settings
from app.db import new_id
from app.errors import NotFound, UnsupportedMediaType, ValidationFailed
from app.materials import service as materials_service
from app.materials import workflow
from app.materials.models import Attachment, Material, MaterialRevision
from app.materials.storage import BlobStore, StoredBlob, is_allowed, sniff_media_type
from app.text import nfc

GENERIC_DECLARED = {"", "application/octet-stream", "binary/octet-stream"}


def clean_filename(name: str | None) -> str:
    """The last path segment, NFC, without control characters; never empty."""
    base = nfc((name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = "".join(ch for ch in base if ch.isprintable()).strip().strip(".")
    return base[:255] or "attachment"


def _check_declared(declared: str | None, sniffed: str) -> None:
    declared = (declared or "").split(";")[0].strip().lower()
    if declared in GENERIC_DECLARED:
        return
    if sniffed == "text/plain":
        # Text has no signature: any text/* or JSON/XML declaration is consistent with it.
        if declared.startswith("text/") or declared in {"application/json", "application/xml"}:
            return
    elif declared == sniffed:
        return
    raise UnsupportedMediaType(f"The file was sent as {declared}, but its content is {sniffed}.")


def _check_content(blob: StoredBlob, declared_type: str | None) -> None:
    """Refuse (before the blob is kept) an empty file, a kind we do not take, or a mismatch."""
    if blob.size == 0:
        raise ValidationFailed(["body", "file"], "The file is empty.")
    sniffed = sniff_media_type(blob.head)
    if sniffed is None or not is_allowed(sniffed):
        raise UnsupportedMediaType(
            f"Files of this kind ({sniffed or 'unrecognised content'}) are not accepted; "
            "send images, audio, video, PDF, office documents or text."
        )
    _check_declared(declared_type, sniffed)


def store_upload(settings: Settings, source: BinaryIO, declared_type: str | None) -> tuple[StoredBlob, str]:
    """Store an uploaded file once per content; (blob, media type read from its bytes). 413 past
    the upload limit, 422 when empty, 415 for a kind not accepted or a declared type that lies;
    a refused file leaves nothing behind. Materials and claim reports both attach files here."""
    blob = BlobStore(settings.blob_dir).put(
        source, settings.max_upload_bytes, accept=lambda blob: _check_content(blob, declared_type)
    )
    return blob, sniff_media_type(blob.head) or "application/octet-stream"


def stored_path(settings: Settings, sha256: str) -> Path:
    path = BlobStore(settings.blob_dir).path_for(sha256)
    if not path.is_file():
        raise NotFound("The attachment's content is missing from storage.")
    return path


def add_attachment(
    session: Session,
    settings: Settings,
    material_id: uuid.UUID,
    source: BinaryIO,
    filename: str | None,
    declared_type: str | None,
    actor: Principal,
) -> Attachment:
    """Store the file (once per content), attach it, and save a new version of the material."""
    material: Material = materials_service.get_material(session, material_id, lock=True)
    workflow.check_editable(material)
    before = materials_service.snapshot(material)
    blob, sniffed = store_upload(settings, source, declared_type)
    attachment = Attachment(
        id=new_id(),
        material_id=material.id,
        filename=clean_filename(filename),
        media_type=sniffed,
        size=blob.size,
        sha256=blob.sha256,
        created_by=actor.id,
    )
    material.attachments.append(attachment)
    materials_service.bump(material, actor, content_edit=True)
    materials_service.record_version(session, material, actor, "attachment", before)
    return attachment


def get_attachment(session: Session, attachment_id: uuid.UUID) -> Attachment:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(f"No attachment with id {attachment_id}.")
    return attachment


def blob_path(settings: Settings, attachment: Attachment) -> Path:
    return stored_path(settings, attachment.sha256)


# Other domains that keep files in the same store (claim reports) say which blobs they still
# reference; app/wiring.py registers them, so materials never import those domains.
blob_reference_sources: list[Callable[[Session], Iterable[str]]] = []


def referenced_blobs(session: Session) -> set[str]:
    """Every SHA-256 an attachment row, a saved version (what a bundle shipped) or another
    domain's attachment still names."""
    referenced = set(session.scalars(select(Attachment.sha256).distinct()))
    for snapshot in session.scalars(select(MaterialRevision.snapshot).execution_options(yield_per=500)):
        referenced.update(a["sha256"] for a in (snapshot or {}).get("attachments", []) if a.get("sha256"))
    for source in blob_reference_sources:
        referenced.update(source(session))
    return referenced


def collect_blobs(session: Session, settings: Settings, grace_seconds: float, dry_run: bool = False) -> tuple[int, int]:
    """Remove stored files that nothing references (see BlobStore.collect)."""
    return BlobStore(settings.blob_dir).collect(referenced_blobs(session), grace_seconds, dry_run=dry_run)
