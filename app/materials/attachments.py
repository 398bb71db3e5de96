"""Attachments: upload into content-addressed storage, check the media type from the bytes."""

import uuid
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from app.accounts.principal import Principal
from app.config import Settings
from app.db import new_id
from app.errors import NotFound, UnsupportedMediaType, ValidationFailed
from app.materials import service as materials_service
from app.materials import workflow
from app.materials.models import Attachment, Material
from app.materials.storage import BlobStore, is_allowed, sniff_media_type
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
    material: Material = materials_service.get_material(session, material_id)
    workflow.check_editable(material)
    before = materials_service.snapshot(material)
    blob = BlobStore(settings.blob_dir).put(source, settings.max_upload_bytes)
    if blob.size == 0:
        raise ValidationFailed(["body", "file"], "The file is empty.")
    sniffed = sniff_media_type(blob.head)
    if sniffed is None or not is_allowed(sniffed):
        raise UnsupportedMediaType(
            f"Files of this kind ({sniffed or 'unrecognised content'}) are not accepted; "
            "send images, audio, video, PDF, office documents or text."
        )
    _check_declared(declared_type, sniffed)
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
    path = BlobStore(settings.blob_dir).path_for(attachment.sha256)
    if not path.is_file():
        raise NotFound("The attachment's content is missing from storage.")
    return path
