import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, UploadFile

from app import concurrency
from app.accounts.deps import AppSettings, EditorUser, StaffUser, WorkflowUser
from app.concurrency import IfMatch
from app.db import DbSession
from app.http import stored_file
from app.materials import attachments as attachments_service
from app.materials import ninjs as ninjs_export
from app.materials import service as materials_service
from app.materials import translations as translations_service
from app.materials.filters import MaterialFiltersDep
from app.materials.schemas import (
    AttachmentRead,
    MaterialCreate,
    MaterialPage,
    MaterialRead,
    MaterialUpdate,
    RevisionPage,
    RevisionRead,
    TransitionRequest,
    TranslationFamily,
)
from app.pagination import Limit
from app.schemas import INT32_MAX

router = APIRouter(tags=["materials"])


@router.post("/materials", status_code=201, response_model=MaterialRead, operation_id="create_material")
def create_material(data: MaterialCreate, session: DbSession, actor: EditorUser, response: Response) -> MaterialRead:
    """Create a draft. Ethnic groups, border routes, provinces and topics may be given as codes or names."""
    material = materials_service.create_material(session, data, actor)
    return concurrency.created(response, f"/materials/{material.id}", material, MaterialRead)


@router.get("/materials", response_model=MaterialPage, operation_id="list_materials")
def list_materials(
    session: DbSession, _: StaffUser, filters: MaterialFiltersDep, limit: Limit = 20, cursor: str | None = None
) -> MaterialPage:
    """Materials, newest first, with the filters of search (without `q`)."""
    items, next_cursor = materials_service.list_materials(session, filters, limit, cursor)
    return MaterialPage(items=[MaterialRead.model_validate(m) for m in items], next_cursor=next_cursor)


@router.get("/materials/{material_id}", response_model=MaterialRead, operation_id="get_material")
def get_material(material_id: uuid.UUID, session: DbSession, _: StaffUser, response: Response) -> MaterialRead:
    """One material, with its ETag for a later PATCH or DELETE."""
    return concurrency.tagged(response, materials_service.get_material(session, material_id), MaterialRead)


@router.patch("/materials/{material_id}", response_model=MaterialRead, operation_id="update_material")
def update_material(
    material_id: uuid.UUID,
    data: MaterialUpdate,
    session: DbSession,
    actor: EditorUser,
    response: Response,
    if_match: IfMatch = None,
) -> MaterialRead:
    """Change the fields sent; needs If-Match (428 without it, 412 when stale). Drafts and in-review only."""
    material = materials_service.update_material(session, material_id, data, actor, if_match)
    return concurrency.tagged(response, material, MaterialRead)


@router.delete("/materials/{material_id}", status_code=204, operation_id="delete_material")
def delete_material(
    material_id: uuid.UUID,
    session: DbSession,
    actor: EditorUser,
    if_match: IfMatch = None,
) -> Response:
    """Delete a draft; needs If-Match. Anything past draft is archived instead."""
    materials_service.delete_material(session, material_id, actor, if_match)
    return Response(status_code=204)


@router.post("/materials/{material_id}/transitions", response_model=MaterialRead, operation_id="transition_material")
def transition_material(
    material_id: uuid.UUID,
    data: TransitionRequest,
    session: DbSession,
    actor: WorkflowUser,
    response: Response,
    if_match: IfMatch = None,
) -> MaterialRead:
    """Move through the workflow (draft, in_review, approved, published, archived); an illegal move is 409.
    Approving and publishing need a reviewer who neither wrote nor last edited the material.
    If-Match is optional: when sent, the version you reviewed must still be the current one (412)."""
    material = materials_service.transition(session, material_id, data.to, actor, if_match)
    return concurrency.tagged(response, material, MaterialRead)


@router.get("/materials/{material_id}/translations", response_model=TranslationFamily, operation_id="list_translations")
def list_translations(material_id: uuid.UUID, session: DbSession, _: StaffUser) -> TranslationFamily:
    """The material's family: its source and every translation of that source, with their languages
    and statuses. Asked of a translation, it answers the same family."""
    return translations_service.get_family(session, material_id)


@router.get("/materials/{material_id}/ninjs", operation_id="get_material_ninjs", response_model=dict[str, Any])
def get_material_ninjs(material_id: uuid.UUID, request: Request, session: DbSession, _: StaffUser) -> dict[str, Any]:
    """The material as IPTC ninjs 3.1 (News in JSON): headlines, descriptions, the Markdown body,
    language, subjects (ethnic groups, topics, provinces, border routes; `urn:ttdn:` URIs),
    attachments as renditions, the version, and its translations as associations."""
    material = materials_service.get_material(session, material_id)
    return ninjs_export.to_ninjs(session, material, str(request.base_url).rstrip("/"))


@router.get("/materials/{material_id}/revisions", response_model=RevisionPage, operation_id="list_revisions")
def list_revisions(
    material_id: uuid.UUID, session: DbSession, _: StaffUser, limit: Limit = 20, cursor: str | None = None
) -> RevisionPage:
    """Every saved version, whole, oldest first."""
    revisions, next_cursor = materials_service.list_revisions(session, material_id, limit, cursor)
    return RevisionPage(items=[RevisionRead.of(r) for r in revisions], next_cursor=next_cursor)


@router.get("/materials/{material_id}/revisions/{version}", response_model=RevisionRead, operation_id="get_revision")
def get_revision(
    material_id: uuid.UUID, version: Annotated[int, Path(ge=1, le=INT32_MAX)], session: DbSession, _: StaffUser
) -> RevisionRead:
    """One saved version, whole, exactly as it was."""
    return RevisionRead.of(materials_service.get_revision(session, material_id, version))


@router.post(
    "/materials/{material_id}/attachments",
    status_code=201,
    response_model=AttachmentRead,
    operation_id="upload_attachment",
)
def upload_attachment(
    material_id: uuid.UUID,
    file: UploadFile,
    session: DbSession,
    settings: AppSettings,
    actor: EditorUser,
    response: Response,
) -> AttachmentRead:
    """Attach a file (multipart field `file`). Its media type is read from its bytes;
    identical files are stored once."""
    attachment = attachments_service.add_attachment(
        session, settings, material_id, file.file, file.filename, file.content_type, actor
    )
    read = AttachmentRead.model_validate(attachment)
    response.headers["Location"] = read.url
    return read


@router.get("/attachments/{attachment_id}/content", operation_id="download_attachment", response_model=None)
def download_attachment(
    attachment_id: uuid.UUID, request: Request, session: DbSession, settings: AppSettings, _: StaffUser
) -> Response:
    """The file, with Range support; its SHA-256 is the ETag."""
    attachment = attachments_service.get_attachment(session, attachment_id)
    path = attachments_service.blob_path(settings, attachment)
    return stored_file(
        request, path, sha256=attachment.sha256, media_type=attachment.media_type, filename=attachment.filename
    )
