"""Claim reports, claims, comments, timelines and ClaimReview (mounted under /api/v1)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from app import concurrency
from app.accounts.deps import AppSettings, ClaimReporter, ClaimReportReader, StaffUser, WorkflowUser
from app.claims import intake, rebuttals, timeline
from app.claims import service as claims_service
from app.claims.models import Claim
from app.claims.schemas import (
    ClaimCreate,
    ClaimPage,
    ClaimRead,
    ClaimReportCreate,
    ClaimReportPage,
    ClaimReportRead,
    ClaimStatus,
    ClaimUpdate,
    CommentCreate,
    CommentPage,
    CommentRead,
    MergeRequest,
    MoveRequest,
    ReportAttachmentRead,
    Severity,
    Timeline,
    TimelineEvent,
)
from app.concurrency import IfMatch
from app.db import DbSession
from app.errors import ValidationFailed
from app.http import stored_file
from app.organisations import service as organisations_service
from app.pagination import Limit
from app.search.router import SearchBackendDep
from app.taxonomy import service as taxonomy_service

router = APIRouter(tags=["claims"])


# --- reports -----------------------------------------------------------------------------------


@router.post("/claim-reports", status_code=201, response_model=ClaimReportRead, operation_id="create_claim_report")
def create_claim_report(
    data: ClaimReportCreate,
    session: DbSession,
    settings: AppSettings,
    backend: SearchBackendDep,
    actor: ClaimReporter,
    response: Response,
) -> ClaimReportRead:
    """Report something seen on the ground or online (a unit with its key, or staff who write).
    It joins at once the claim whose reports named the same page, or whose text is close enough;
    otherwise the closest claims come back as `suggested_claims`."""
    report = intake.create_report(session, backend, settings, data, actor)
    concurrency.located(response, f"/claim-reports/{report.id}")
    return intake.to_reads(session, [report])[0]


@router.get("/claim-reports", response_model=ClaimReportPage, operation_id="list_claim_reports")
def list_claim_reports(
    session: DbSession,
    reader: ClaimReportReader,
    claim_id: uuid.UUID | None = None,
    unassigned: bool | None = None,
    limit: Limit = 20,
    cursor: str | None = None,
) -> ClaimReportPage:
    """A unit's own reports, or (staff) every report; `unassigned=true` is the triage queue."""
    items, next_cursor = intake.list_reports(
        session, reader, claim_id=claim_id, unassigned=unassigned, limit=limit, cursor=cursor
    )
    return ClaimReportPage(items=intake.to_reads(session, items), next_cursor=next_cursor)


@router.get("/claim-reports/{report_id}", response_model=ClaimReportRead, operation_id="get_claim_report")
def get_claim_report(report_id: uuid.UUID, session: DbSession, reader: ClaimReportReader) -> ClaimReportRead:
    """One report with its claim's status and, once rebutted, the rebuttals' material ids.
    Another unit's report is a 404."""
    return intake.to_reads(session, [intake.get_report(session, report_id, reader)])[0]


@router.post("/claim-reports/{report_id}/move", response_model=ClaimReportRead, operation_id="move_claim_report")
def move_claim_report(
    report_id: uuid.UUID, data: MoveRequest, session: DbSession, actor: WorkflowUser
) -> ClaimReportRead:
    """Put a report into another claim (editors, reviewers, admins)."""
    report = intake.move_report(session, report_id, data.claim_id, actor)
    return intake.to_reads(session, [report])[0]


@router.post(
    "/claim-reports/{report_id}/attachments",
    status_code=201,
    response_model=ReportAttachmentRead,
    operation_id="upload_claim_report_attachment",
)
def upload_claim_report_attachment(
    report_id: uuid.UUID,
    file: UploadFile,
    session: DbSession,
    settings: AppSettings,
    actor: ClaimReporter,
    response: Response,
) -> ReportAttachmentRead:
    """Attach a screenshot, recording or document to a report (multipart field `file`), as for materials."""
    attachment = intake.add_attachment(session, settings, report_id, file.file, file.filename, file.content_type, actor)
    read = intake.attachment_read(attachment)
    response.headers["Location"] = read.url
    return read


@router.get(
    "/claim-reports/{report_id}/attachments/{attachment_id}/content",
    operation_id="download_claim_report_attachment",
    response_model=None,
)
def download_claim_report_attachment(
    report_id: uuid.UUID,
    attachment_id: uuid.UUID,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    reader: ClaimReportReader,
) -> Response:
    """The file (Range supported; SHA-256 as ETag). A unit reads only its own reports' files."""
    attachment, path = intake.attachment_file(session, settings, report_id, attachment_id, reader)
    return stored_file(
        request, path, sha256=attachment.sha256, media_type=attachment.media_type, filename=attachment.filename
    )


# --- claims ------------------------------------------------------------------------------------


@router.post("/claims", status_code=201, response_model=ClaimRead, operation_id="create_claim")
def create_claim(
    data: ClaimCreate, session: DbSession, settings: AppSettings, actor: WorkflowUser, response: Response
) -> ClaimRead:
    """Open a claim, usually from reports waiting for triage (`report_ids`); its deadline follows its severity."""
    claim = claims_service.create_claim(session, settings, data, actor)
    return concurrency.created(response, f"/claims/{claim.id}", claim, ClaimRead)


@router.get("/claims", response_model=ClaimPage, operation_id="list_claims")
def list_claims(
    session: DbSession,
    _: StaffUser,
    backend: SearchBackendDep,
    q: Annotated[str | None, Query(max_length=500, description="Words of the claim; diacritics optional")] = None,
    status: Annotated[list[ClaimStatus], Query()] = [],
    severity: Annotated[list[Severity], Query()] = [],
    ethnic_group: Annotated[list[str], Query()] = [],
    border_route: Annotated[list[str], Query()] = [],
    province: Annotated[list[str], Query()] = [],
    organisation: Annotated[str | None, Query(description="Organisation id or code (lead or coordinating)")] = None,
    overdue: bool | None = None,
    limit: Limit = 20,
    cursor: str | None = None,
) -> ClaimPage:
    """Claims, newest first; `overdue=true` lists open claims past their deadline."""
    province_ids = taxonomy_service.resolve_provinces(session, province, ["query", "province"])
    places = {
        "ethnic_group": taxonomy_service.resolve_ethnic_groups(session, ethnic_group, ["query", "ethnic_group"]),
        "border_route": taxonomy_service.resolve_border_routes(session, border_route, ["query", "border_route"]),
        "province": taxonomy_service.province_line_ids(session, province_ids) if province_ids else [],
    }
    claim_ids = claims_service.claim_ids_matching(backend, q) if q and q.strip() else None
    items, next_cursor = claims_service.list_claims(
        session,
        claim_ids=claim_ids,
        status=list(status),
        severity=list(severity),
        places=places,
        organisation_id=_organisation(session, organisation),
        overdue=overdue,
        limit=limit,
        cursor=cursor,
    )
    return ClaimPage(items=[ClaimRead.model_validate(c) for c in items], next_cursor=next_cursor)


def _organisation(session: DbSession, value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        organisation = organisations_service.find_by_code(session, value)
        if organisation is None:
            raise ValidationFailed(["query", "organisation"], f"No organisation with id or code {value!r}.") from None
        return organisation.id


@router.get("/claims/{claim_id}", response_model=ClaimRead, operation_id="get_claim")
def get_claim(claim_id: uuid.UUID, session: DbSession, _: StaffUser, response: Response) -> ClaimRead:
    """One claim, with its ETag for a later PATCH."""
    return concurrency.tagged(response, claims_service.get_claim(session, claim_id), ClaimRead)


@router.patch("/claims/{claim_id}", response_model=ClaimRead, operation_id="update_claim")
def update_claim(
    claim_id: uuid.UUID,
    data: ClaimUpdate,
    session: DbSession,
    settings: AppSettings,
    actor: WorkflowUser,
    response: Response,
    if_match: IfMatch = None,
) -> ClaimRead:
    """Triage, assign, raise the severity (the deadline follows), set organisations or places; If-Match."""
    claim = claims_service.update_claim(session, settings, claim_id, data, actor, if_match)
    return concurrency.tagged(response, claim, ClaimRead)


@router.post("/claims/{claim_id}/merge", response_model=ClaimRead, operation_id="merge_claims")
def merge_claims(
    claim_id: uuid.UUID,
    data: MergeRequest,
    session: DbSession,
    settings: AppSettings,
    actor: WorkflowUser,
    response: Response,
) -> ClaimRead:
    """Move the reports of `claim_ids` into this claim; those claims are kept, marked merged."""
    claim = claims_service.merge_claims(session, settings, claim_id, data.claim_ids, actor)
    return concurrency.tagged(response, claim, ClaimRead)


@router.get("/claims/{claim_id}/reports", response_model=ClaimReportPage, operation_id="list_claim_reports_of_claim")
def list_reports_of_claim(
    claim_id: uuid.UUID, session: DbSession, reader: StaffUser, limit: Limit = 20, cursor: str | None = None
) -> ClaimReportPage:
    """The reports grouped into this claim, newest first."""
    claims_service.get_claim(session, claim_id)
    items, next_cursor = intake.list_reports(
        session, reader, claim_id=claim_id, unassigned=None, limit=limit, cursor=cursor
    )
    return ClaimReportPage(items=intake.to_reads(session, items), next_cursor=next_cursor)


@router.get("/claims/{claim_id}/comments", response_model=CommentPage, operation_id="list_claim_comments")
def list_comments(
    claim_id: uuid.UUID, session: DbSession, _: StaffUser, limit: Limit = 20, cursor: str | None = None
) -> CommentPage:
    """The claim's comments, oldest first."""
    items, next_cursor = timeline.list_comments(session, claim_id, limit, cursor)
    return CommentPage(items=[CommentRead.model_validate(c) for c in items], next_cursor=next_cursor)


@router.post(
    "/claims/{claim_id}/comments", status_code=201, response_model=CommentRead, operation_id="create_claim_comment"
)
def create_comment(
    claim_id: uuid.UUID, data: CommentCreate, session: DbSession, actor: WorkflowUser, response: Response
) -> CommentRead:
    """Comment on a claim: editors, reviewers and admins, as for any claim write."""
    comment = timeline.add_comment(session, claim_id, data.body, actor)
    concurrency.located(response, f"/claims/{claim_id}/comments/{comment.id}")
    return CommentRead.model_validate(comment)


@router.get("/claims/{claim_id}/comments/{comment_id}", response_model=CommentRead, operation_id="read_claim_comment")
def read_comment(claim_id: uuid.UUID, comment_id: uuid.UUID, session: DbSession, _: StaffUser) -> CommentRead:
    """One comment of the claim (where a new comment's `Location` points)."""
    return CommentRead.model_validate(timeline.get_comment(session, claim_id, comment_id))


@router.get("/claims/{claim_id}/timeline", response_model=Timeline, operation_id="get_claim_timeline")
def get_timeline(claim_id: uuid.UUID, session: DbSession, _: StaffUser) -> Timeline:
    """From the first report through triage, rebuttal and bundle publication to the first fetch,
    the acknowledgement by 50 % and 100 % of the units the rebuttal was delivered to, and the
    last acknowledgement so far."""
    events = timeline.timeline(session, claim_id)
    return Timeline(claim_id=claim_id, items=[TimelineEvent.model_validate(e) for e in events])


@router.get("/claims/{claim_id}/claimreview", operation_id="get_claim_review", response_class=JSONResponse)
def get_claim_review(claim_id: uuid.UUID, request: Request, session: DbSession, _: StaffUser) -> Response:
    """schema.org ClaimReview JSON-LD (`application/ld+json`), a list with one review per published
    rebuttal. `reviewRating.alternateName` is the verdict; `ratingValue` is on a 1 (false) to 5
    (true) scale: false 1, misleading 2, missing_context 3, true 5. Until a rebuttal is published,
    an empty list."""
    claim = claims_service.get_claim(session, claim_id)
    author = _author(session, claim)
    reviews = rebuttals.claim_review(session, claim, author, str(request.base_url).rstrip("/"))
    return JSONResponse(reviews, media_type="application/ld+json")


def _author(session: DbSession, claim: Claim) -> dict[str, str]:
    if claim.lead_organisation_id:
        organisation = organisations_service.get_organisation(session, claim.lead_organisation_id)
        return {"@type": "Organization", "name": organisation.name}
    return {"@type": "Organization", "name": "ttdn-hub"}
