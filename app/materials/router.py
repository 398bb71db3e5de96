import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse

from app.accounts.deps import AppSettings, EditorUser, StaffUser, WorkflowUser
from app.db import DbSession
from app.materials import attachments as attachments_service
from app.materials import service as materials_service
from app.materials.filters import MaterialFiltersDep
from app.materials.models import Material
from app.materials.schemas import (
    AttachmentRead,
    MaterialCreate,
    MaterialPage,
    MaterialRead,
    MaterialUpdate,
    RevisionPage,
    RevisionRead,
    RevisionSummary,
    TransitionRequest,
)
from app.urls import api_path

router = APIRouter(tags=["materials"])

Limit = Annotated[int, Query(ge=1, le=100)]


def _read(response: Response, material: Material) -> MaterialRead:
    response.headers["ETag"] = materials_service.etag(material)
    return materials_service.to_read(material)


@router.post("/materials", status_code=201, response_model=MaterialRead, operation_id="create_material")
def create_material(data: MaterialCreate, session: DbSession, actor: EditorUser, response: Response) -> MaterialRead:
    """Create a draft. Ethnic groups, border routes, provinces and topics may be given as codes or names."""
    material = materials_service.create_material(session, data, actor)
    response.headers["Location"] = api_path(f"/materials/{material.id}")
    return _read(response, material)


@router.get("/materials", response_model=MaterialPage, operation_id="list_materials")
def list_materials(
    session: DbSession, _: StaffUser, filters: MaterialFiltersDep, limit: Limit = 20, cursor: str | None = None
) -> MaterialPage:
    """Materials, newest first, with the filters of search (without `q`)."""
    items, next_cursor = materials_service.list_materials(session, filters, limit, cursor)
    return MaterialPage(items=[materials_service.to_read(m) for m in items], next_cursor=next_cursor)


@router.get("/materials/{material_id}", response_model=MaterialRead, operation_id="get_material")
def get_material(material_id: uuid.UUID, session: DbSession, _: StaffUser, response: Response) -> MaterialRead:
    """One material, with its ETag for a later PATCH or DELETE."""
    return _read(response, materials_service.get_material(session, material_id))


@router.patch("/materials/{material_id}", response_model=MaterialRead, operation_id="update_material")
def update_material(
    material_id: uuid.UUID,
    data: MaterialUpdate,
    session: DbSession,
    actor: EditorUser,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> MaterialRead:
    """Change the fields sent; needs If-Match (428 without it, 412 when stale). Drafts and in-review only."""
    material = materials_service.update_material(session, material_id, data, actor, if_match)
    return _read(response, material)


@router.delete("/materials/{material_id}", status_code=204, operation_id="delete_material")
def delete_material(
    material_id: uuid.UUID,
    session: DbSession,
    actor: EditorUser,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Delete a draft; needs If-Match. Anything past draft is archived instead."""
    materials_service.delete_material(session, material_id, actor, if_match)
    return Response(status_code=204)


@router.post("/materials/{material_id}/transitions", response_model=MaterialRead, operation_id="transition_material")
def transition_material(
    material_id: uuid.UUID, data: TransitionRequest, session: DbSession, actor: WorkflowUser, response: Response
) -> MaterialRead:
    """Move through the workflow (draft, in_review, approved, published, archived); an illegal move is 409.
    Approving and publishing need a reviewer who neither wrote nor last edited the material."""
    return _read(response, materials_service.transition(session, material_id, data.to, actor))


@router.get("/materials/{material_id}/revisions", response_model=RevisionPage, operation_id="list_revisions")
def list_revisions(material_id: uuid.UUID, session: DbSession, _: StaffUser) -> RevisionPage:
    """Every saved version, oldest first."""
    revisions = materials_service.list_revisions(session, material_id)
    items = [
        RevisionSummary(version=r.version, saved_at=r.saved_at, saved_by=r.saved_by, change=r.change) for r in revisions
    ]
    return RevisionPage(items=items, next_cursor=None)


@router.get("/materials/{material_id}/revisions/{version}", response_model=RevisionRead, operation_id="get_revision")
def get_revision(material_id: uuid.UUID, version: int, session: DbSession, _: StaffUser) -> RevisionRead:
    """One saved version, whole, exactly as it was."""
    r = materials_service.get_revision(session, material_id, version)
    return RevisionRead(
        version=r.version, saved_at=r.saved_at, saved_by=r.saved_by, change=r.change, material=r.snapshot
    )


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
    url = api_path(f"/attachments/{attachment.id}/content")
    response.headers["Location"] = url
    return AttachmentRead(
        id=attachment.id,
        filename=attachment.filename,
        media_type=attachment.media_type,
        size=attachment.size,
        sha256=attachment.sha256,
        url=url,
    )


@router.get("/attachments/{attachment_id}/content", operation_id="download_attachment", response_model=None)
def download_attachment(
    attachment_id: uuid.UUID, request: Request, session: DbSession, settings: AppSettings, _: StaffUser
) -> Response:
    """The file, with Range support; its SHA-256 is the ETag."""
    attachment = attachments_service.get_attachment(session, attachment_id)
    path = attachments_service.blob_path(settings, attachment)
    tag = f'"{attachment.sha256}"'
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    return FileResponse(
        path,
        media_type=attachment.media_type,
        filename=attachment.filename,
        headers={"ETag": tag, "Cache-Control": "private, no-cache"},
    )
