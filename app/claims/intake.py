"""Claim reports: taking them in (matched on arrival), who may read them, moving, attachments.

A border unit reads only the reports it made: any other report is a 404 to it, so it never
learns that the report exists. Staff read every report.
"""

import uuid
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.claims import events, matching, rebuttals
from app.claims import service as claims_service
from app.claims.models import PLACE_FIELDS, Claim, ClaimRebuttal, ClaimReport, ClaimReportAttachment, ClaimReportUrl
from app.claims.schemas import ClaimReportCreate, ClaimReportRead, ReportAttachmentRead, Reporter, SuggestedClaim
from app.claims.urls import normalise_url, url_hash
from app.config import Settings
from app.db import get_row, new_id, utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.materials import attachments as attachments_service
from app.materials import service as materials_service
from app.pagination import decode_id_cursor, id_page, page_size
from app.search.backend import SearchBackend
from app.urls import api_path


def _normalised_urls(urls: list[str]) -> list[str]:
    result = []
    for index, url in enumerate(urls):
        normalised = normalise_url(url)
        if normalised is None:
            raise ValidationFailed(["body", "urls", index], f"{url!r} is not a web address.")
        result.append(normalised)
    return list(dict.fromkeys(result))


def create_report(
    session: Session, backend: SearchBackend, settings: Settings, data: ClaimReportCreate, actor: Principal
) -> ClaimReport:
    """Keep the report, then join it to the claim it matches (same page, or text close enough)
    or offer the closest claims. A unit that reports a claim already rebutted receives the
    rebuttal in its feed at once."""
    places = materials_service.resolve_tags(session, {f: getattr(data, f) for f in PLACE_FIELDS})
    normalised = _normalised_urls(data.urls)
    match = matching.match_report(
        session, backend, settings, f"{data.summary}\n{data.excerpt}", [url_hash(u) for u in normalised]
    )
    report = ClaimReport(
        id=new_id(),
        summary=data.summary,
        excerpt=data.excerpt,
        urls=list(data.urls),
        platform=data.platform,
        language=data.language,
        observed_at=data.observed_at,
        tags=places,
        status="new",
        suggestions=[{"claim_id": str(s.claim_id), "title": s.title, "score": s.score} for s in match.suggestions],
        reporter_type=actor.type,
        reporter_id=actor.id,
        reporter_label=actor.label,
        unit_id=None if actor.is_staff else actor.id,
        created_at=utcnow(),
    )
    session.add(report)
    session.add_all(ClaimReportUrl(report_id=report.id, normalised=u, url_hash=url_hash(u)) for u in normalised)
    session.flush()
    audit_service.record(
        session, actor, "claim_report.created", "claim_report", report.id, {"summary": [None, report.summary]}
    )
    if match.claim_id is not None:
        claim = claims_service.get_claim(session, match.claim_id, lock=True)
        while claim.merged_into_id is not None:  # merged while this report was being matched
            claim = claims_service.get_claim(session, claim.merged_into_id, lock=True)
        _join(session, claim, report, match.matched_by or "text", actor)
    return report


def _join(session: Session, claim: Claim, report: ClaimReport, matched_by: str, actor: Principal | None) -> None:
    """Link the report into the claim (re-indexed, audited, event raised); deliver a published
    rebuttal to a reporting unit at once."""
    claims_service.link_report(session, claim, report, matched_by)
    claims_service.bump(session, claim)
    session.flush()
    changes = {"report_id": [None, str(report.id)], "matched_by": [None, matched_by]}
    audit_service.record(session, actor, "claim.report_joined", "claim", claim.id, changes)
    events.claim_updated(session, claim, ["report_count"])
    if report.unit_id is not None and claim.rebuttals:
        rebuttals.deliver_to_unit(session, claim, report.unit_id)


def get_report(session: Session, report_id: uuid.UUID, reader: Principal, *, lock: bool = False) -> ClaimReport:
    report = get_row(session, ClaimReport, report_id, lock=lock)  # lock: for a write (see db.get_row)
    if report is None or (not reader.is_staff and report.unit_id != reader.id):
        raise NotFound(f"No claim report with id {report_id}.")
    return report


def list_reports(
    session: Session,
    reader: Principal,
    *,
    claim_id: uuid.UUID | None,
    unassigned: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[ClaimReport], str | None]:
    """Newest first: a unit's own reports, or (staff) every report."""
    query = select(ClaimReport).order_by(ClaimReport.id.desc()).limit(page_size(limit))
    if not reader.is_staff:
        query = query.where(ClaimReport.unit_id == reader.id)
    if claim_id is not None:
        query = query.where(ClaimReport.claim_id == claim_id)
    if unassigned is not None:
        query = query.where(ClaimReport.claim_id.is_(None) if unassigned else ClaimReport.claim_id.is_not(None))
    if cursor:
        query = query.where(ClaimReport.id < decode_id_cursor(cursor, ClaimReport))
    return id_page(list(session.scalars(query)), limit)


def to_reads(session: Session, reports: list[ClaimReport]) -> list[ClaimReportRead]:
    """Reports with their claim's status and, once rebutted, the rebuttals' material ids (two queries)."""
    claim_ids = list({r.claim_id for r in reports if r.claim_id})
    statuses = dict(session.execute(select(Claim.id, Claim.status).where(Claim.id.in_(claim_ids))).all())
    rebutting: dict[uuid.UUID, list[uuid.UUID]] = {}
    rows = select(ClaimRebuttal.claim_id, ClaimRebuttal.material_id).where(ClaimRebuttal.claim_id.in_(claim_ids))
    for claim_id, material_id in session.execute(rows.order_by(ClaimRebuttal.published_at)):
        rebutting.setdefault(claim_id, []).append(material_id)
    return [_read(r, statuses.get(r.claim_id), rebutting.get(r.claim_id, [])) for r in reports]


def _read(report: ClaimReport, claim_status: str | None, rebuttal_ids: list[uuid.UUID]) -> ClaimReportRead:
    return ClaimReportRead(
        id=report.id,
        claim_id=report.claim_id,
        suggested_claims=[SuggestedClaim.model_validate(s) for s in report.suggestions] if not report.claim_id else [],
        status=report.status,
        matched_by=report.matched_by,
        created_at=report.created_at,
        reporter=Reporter(type=report.reporter_type, id=report.reporter_id, label=report.reporter_label),
        summary=report.summary,
        excerpt=report.excerpt,
        urls=report.urls,
        platform=report.platform,
        language=report.language,
        observed_at=report.observed_at,
        **{field: report.tags.get(field, []) for field in PLACE_FIELDS},
        claim_status=claim_status,
        rebuttal_material_ids=rebuttal_ids,
        attachments=[_attachment_read(report.id, a) for a in report.attachments],
    )


def _attachment_read(report_id: uuid.UUID, a: ClaimReportAttachment) -> ReportAttachmentRead:
    return ReportAttachmentRead(
        id=a.id,
        filename=a.filename,
        media_type=a.media_type,
        size=a.size,
        sha256=a.sha256,
        url=api_path(f"/claim-reports/{report_id}/attachments/{a.id}/content"),
    )


def move_report(session: Session, report_id: uuid.UUID, claim_id: uuid.UUID, actor: Principal) -> ClaimReport:
    """Put a report into another claim (staff), taking it out of the one it was in."""
    report = get_report(session, report_id, actor)
    claims_service.lock_reports_to_move(session, [report], [claim_id])
    target = session.get(Claim, claim_id)
    if target is None:
        raise ValidationFailed(["body", "claim_id"], f"No claim with id {claim_id}.")
    if target.merged_into_id is not None:
        raise Conflict(f"Claim {claim_id} was merged into {target.merged_into_id}; move the report there.")
    if report.claim_id == target.id:
        raise Conflict("The report is in this claim already.")
    old = claims_service.unlink_report(session, report)
    if old is not None:
        events.claim_updated(session, old, ["report_count"])
    _join(session, target, report, "staff", actor)
    changes = {"claim_id": [str(old.id) if old else None, str(target.id)]}
    audit_service.record(session, actor, "claim_report.moved", "claim_report", report.id, changes)
    return report


def add_attachment(
    session: Session,
    settings: Settings,
    report_id: uuid.UUID,
    source: BinaryIO,
    filename: str | None,
    declared_type: str | None,
    actor: Principal,
) -> ClaimReportAttachment:
    """Attach a file to a report (its reporter, or staff who write), stored like materials' files."""
    report = get_report(session, report_id, actor)
    blob, media_type = attachments_service.store_upload(settings, source, declared_type)
    attachment = ClaimReportAttachment(
        id=new_id(),
        report_id=report.id,
        filename=attachments_service.clean_filename(filename),
        media_type=media_type,
        size=blob.size,
        sha256=blob.sha256,
        created_at=utcnow(),
    )
    report.attachments.append(attachment)
    session.flush()
    changes = {"attachment": [None, {"id": str(attachment.id), "sha256": blob.sha256}]}
    audit_service.record(session, actor, "claim_report.attachment_added", "claim_report", report.id, changes)
    return attachment


def attachment_file(
    session: Session, settings: Settings, report_id: uuid.UUID, attachment_id: uuid.UUID, reader: Principal
) -> tuple[ClaimReportAttachment, Path]:
    report = get_report(session, report_id, reader)
    attachment = next((a for a in report.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise NotFound(f"No attachment with id {attachment_id} on this report.")
    return attachment, attachments_service.stored_path(settings, attachment.sha256)


def attachment_read(attachment: ClaimReportAttachment) -> ReportAttachmentRead:
    return _attachment_read(attachment.report_id, attachment)


def referenced_blobs(session: Session) -> list[str]:
    """The stored files claim reports still name (so blob collection keeps them)."""
    return list(session.scalars(select(ClaimReportAttachment.sha256).distinct()))
