"""Claims: one item per false story, its status, severity, deadline, organisations and reports.

Every write flushes in the caller's transaction, is audited, queues the claim for the search
indexer (ClaimOutbox, same transaction) and raises its event (app.claims.events).
"""

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from app import concurrency
from app.accounts.models import User
from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.claims import events
from app.claims.models import (
    OPEN_STATUSES,
    PLACE_FIELDS,
    Claim,
    ClaimOrganisation,
    ClaimReport,
    ClaimTag,
)
from app.claims.schemas import ClaimCreate, ClaimRead, ClaimUpdate
from app.config import Settings
from app.db import get_row, lock_rows, try_lock_row, utcnow
from app.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from app.materials import service as materials_service
from app.organisations import service as organisations_service
from app.organisations.models import Organisation
from app.pagination import decode_id_cursor, id_page, page_size
from app.search.backend import BackendUnavailable, SearchBackend
from app.search.outbox import ClaimOutbox

# (from, to) moves staff may make; `rebutted` comes only from publishing a rebuttal.
CLOSED = ("closed", "not_false", "out_of_scope")
MOVES: dict[str, tuple[str, ...]] = {
    "new": ("triaged", "in_progress", *CLOSED),
    "triaged": ("in_progress", *CLOSED),
    "in_progress": ("triaged", *CLOSED),
    "rebutted": ("in_progress", "closed"),
    "closed": ("triaged", "in_progress"),
    "not_false": ("triaged", "in_progress"),
    "out_of_scope": ("triaged", "in_progress"),
}
UNAUDITED = frozenset({"version", "updated_at", "overdue"})


def get_claim(session: Session, claim_id: uuid.UUID, *, lock: bool = False) -> Claim:
    claim = get_row(session, Claim, claim_id, lock=lock)  # lock: for a write (see db.get_row)
    if claim is None:
        raise NotFound(f"No claim with id {claim_id}.")
    return claim


def snapshot(claim: Claim) -> dict[str, Any]:
    return ClaimRead.model_validate(claim).model_dump(mode="json")


def deadline_for(settings: Settings, claim: Claim) -> datetime:
    return claim.first_reported_at + timedelta(hours=settings.claim_deadline_hours(claim.severity))


def queue_for_index(session: Session, claim: Claim) -> None:
    session.add(ClaimOutbox(claim_id=claim.id, version=claim.version))


def bump(session: Session, claim: Claim) -> None:
    """A new version of the claim, queued for the claim index, in the caller's transaction."""
    claim.version += 1
    claim.updated_at = utcnow()
    queue_for_index(session, claim)


def add_places(claim: Claim, places: dict[str, list[str]]) -> None:
    """Add (never remove) place tags, keeping order: a claim covers where all its reports came from."""
    for field, facet in PLACE_FIELDS.items():
        have = claim.tag_values(facet)
        for value in places.get(field, []):
            if value not in have:
                claim.tags.append(ClaimTag(facet=facet, value=value, position=len(have)))
                have.append(value)


def _set_places(claim: Claim, field: str, values: list[str]) -> None:
    facet = PLACE_FIELDS[field]
    keep = [t for t in claim.tags if t.facet != facet]
    claim.tags = keep + [ClaimTag(facet=facet, value=v, position=i) for i, v in enumerate(dict.fromkeys(values))]


def _set_organisations(claim: Claim, organisation_ids: list[uuid.UUID]) -> None:
    claim.organisations = [
        ClaimOrganisation(organisation_id=o, position=i) for i, o in enumerate(dict.fromkeys(organisation_ids))
    ]


def _check_people(session: Session, values: dict[str, Any]) -> None:
    organisations = [v for v in [values.get("lead_organisation_id")] if v]
    if organisations:
        organisations_service.check_exists(session, organisations, ["body", "lead_organisation_id"])
    if values.get("organisation_ids"):
        organisations_service.check_exists(session, values["organisation_ids"], ["body", "organisation_ids"])
    assignee = values.get("assignee_id")
    if assignee is not None:
        user = session.get(User, assignee)
        if user is None or not user.active:
            raise ValidationFailed(["body", "assignee_id"], f"No active staff user with id {assignee}.")


def link_report(session: Session, claim: Claim, report: ClaimReport, matched_by: str) -> None:
    """Make `report` part of `claim`: counts, first report time, places; the claim is re-indexed."""
    report.claim_id = claim.id
    report.status = "linked"
    report.matched_by = matched_by
    claim.report_count += 1
    if report.created_at < claim.first_reported_at:
        claim.first_reported_at = report.created_at
    add_places(claim, report.tags)


def create_claim(session: Session, settings: Settings, data: ClaimCreate, actor: Principal) -> Claim:
    """A new claim (status `new`), with the reports given moved into it."""
    _check_people(session, data.model_dump())
    places = materials_service.resolve_tags(session, {f: getattr(data, f) for f in PLACE_FIELDS})
    reports = _reports_for(session, data.report_ids)
    now = utcnow()
    first = min([r.created_at for r in reports] or [now])
    claim = Claim(
        title=data.title,
        summary=data.summary,
        severity=data.severity,
        status="new",
        lead_organisation_id=data.lead_organisation_id,
        assignee_id=data.assignee_id,
        first_reported_at=first,
        report_count=0,
        created_at=now,
        updated_at=now,
        created_by=actor.id,
        version=1,
        tags=[],
    )
    claim.deadline_at = deadline_for(settings, claim)
    _set_organisations(claim, data.organisation_ids)
    add_places(claim, places)
    lock_reports_to_move(session, reports, [])
    session.add(claim)
    session.flush()
    left = []
    for report in reports:
        if (old := unlink_report(session, report)) is not None:
            left.append((report, old))
        link_report(session, claim, report, "staff")
    queue_for_index(session, claim)
    session.flush()
    audit_service.record(session, actor, "claim.created", "claim", claim.id, audit_service.diff({}, snapshot(claim)))
    events.claim_created(session, claim)
    for report, old in left:  # as a move says it: the claim a report left is told, and it is audited
        changes = {"claim_id": [str(old.id), str(claim.id)]}
        audit_service.record(session, actor, "claim_report.moved", "claim_report", report.id, changes)
        events.claim_updated(session, old, ["report_count"])
    return claim


def lock_reports_to_move(session: Session, reports: list[ClaimReport], into: list[uuid.UUID]) -> None:
    """Before reports change claims: lock the claims they are in and those they go `into`, in key
    order, then the reports, read fresh. A merge takes the same order (claims, then their reports),
    so moves, merges and new claims wait for each other instead of deadlocking. A report another
    writer moved meanwhile is now in a claim not locked here: that claim is locked only if it is
    free (waiting for it while holding the report could deadlock); if it is not, a 409, and the
    caller tries again."""
    held = {*into, *(r.claim_id for r in reports if r.claim_id is not None)}
    lock_rows(session, Claim, held)
    lock_rows(session, ClaimReport, [r.id for r in reports])
    for report in reports:
        if report.claim_id is None or report.claim_id in held:
            continue
        if not try_lock_row(session, Claim, report.claim_id):
            raise Conflict(f"Claim report {report.id} was moved into claim {report.claim_id} meanwhile; try again.")
        held.add(report.claim_id)


def _reports_for(session: Session, report_ids: list[uuid.UUID]) -> list[ClaimReport]:
    found = {r.id: r for r in session.scalars(select(ClaimReport).where(ClaimReport.id.in_(report_ids)))}
    for index, report_id in enumerate(report_ids):
        if report_id not in found:
            raise ValidationFailed(["body", "report_ids", index], f"No claim report with id {report_id}.")
    return [found[r] for r in dict.fromkeys(report_ids)]


def unlink_report(session: Session, report: ClaimReport) -> Claim | None:
    """Take the report out of its claim (if any); returns that claim, re-indexed."""
    if report.claim_id is None:
        return None
    old = get_claim(session, report.claim_id, lock=True)
    old.report_count = max(0, old.report_count - 1)
    report.claim_id = None
    report.status = "new"
    bump(session, old)
    return old


def update_claim(
    session: Session, settings: Settings, claim_id: uuid.UUID, data: ClaimUpdate, actor: Principal, if_match: str | None
) -> Claim:
    claim = get_claim(session, claim_id, lock=True)
    concurrency.check_if_match(claim, if_match, "claim")
    if claim.merged_into_id is not None:
        raise Conflict(f"This claim was merged into {claim.merged_into_id}; change that one.")
    changes = data.model_dump(exclude_unset=True)
    for name in ("title", "status", "severity", "summary", "organisation_ids"):
        if name in changes and changes[name] is None:
            raise ValidationFailed(["body", name], f"{name} cannot be null.")
    _check_people(session, changes)
    before = snapshot(claim)
    if "status" in changes and changes["status"] != claim.status:
        _move(claim, changes.pop("status"))
    changes.pop("status", None)
    places = materials_service.resolve_tags(session, {f: changes.pop(f) for f in list(changes) if f in PLACE_FIELDS})
    for field, values in places.items():
        _set_places(claim, field, values)
    if "organisation_ids" in changes:
        _set_organisations(claim, changes.pop("organisation_ids"))
    for name, value in changes.items():
        setattr(claim, name, value)
    claim.deadline_at = deadline_for(settings, claim)
    bump(session, claim)
    session.flush()
    diff = audit_service.diff(before, snapshot(claim), UNAUDITED)
    audit_service.record(session, actor, "claim.updated", "claim", claim.id, diff)
    events.claim_updated(session, claim, list(diff))
    return claim


def _move(claim: Claim, to: str) -> None:
    allowed = MOVES.get(claim.status, ())
    if to not in allowed:
        hint = " (a claim becomes rebutted when a rebuttal of it is published)" if to == "rebutted" else ""
        raise Conflict(
            f"A claim cannot move from {claim.status} to {to}{hint}; it can go to: {', '.join(allowed) or 'none'}.",
            extra={"status_now": claim.status, "allowed": list(allowed)},
        )
    claim.status = to
    if claim.triaged_at is None:
        claim.triaged_at = utcnow()


def list_claims(
    session: Session,
    *,
    claim_ids: list[uuid.UUID] | None,
    status: list[str],
    severity: list[str],
    places: dict[str, list[str]],
    organisation_id: uuid.UUID | None,
    overdue: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Claim], str | None]:
    """Newest first; a filter not given does not restrict, so claims merged into another (closed,
    `merged_into_id` set) are listed too."""
    query = select(Claim).order_by(Claim.id.desc()).limit(page_size(limit))
    if claim_ids is not None:
        query = query.where(Claim.id.in_(claim_ids))
    if status:
        query = query.where(Claim.status.in_(status))
    if severity:
        query = query.where(Claim.severity.in_(severity))
    for facet, values in places.items():
        if values:
            query = query.where(
                exists().where(ClaimTag.claim_id == Claim.id, ClaimTag.facet == facet, ClaimTag.value.in_(values))
            )
    if organisation_id is not None:
        coordinating = exists().where(
            ClaimOrganisation.claim_id == Claim.id, ClaimOrganisation.organisation_id == organisation_id
        )
        query = query.where(or_(Claim.lead_organisation_id == organisation_id, coordinating))
    if overdue is not None:
        late = and_(Claim.status.in_(OPEN_STATUSES), Claim.merged_into_id.is_(None), Claim.deadline_at < utcnow())
        query = query.where(late if overdue else not_(late))
    if cursor:
        query = query.where(Claim.id < decode_id_cursor(cursor, Claim))
    return id_page(list(session.scalars(query)), limit)


def claim_ids_matching(backend: SearchBackend, text: str) -> list[uuid.UUID]:
    """The claims whose words the text shares (diacritics folded), best first, at most 100."""
    try:
        return [hit.id for hit in backend.match_claims(text, 100)]
    except BackendUnavailable as exc:
        raise ServiceUnavailable(
            "Search is unavailable right now; try again shortly.", headers={"Retry-After": "5"}
        ) from exc


def merge_claims(
    session: Session, settings: Settings, claim_id: uuid.UUID, others: list[uuid.UUID], actor: Principal
) -> Claim:
    """Move the reports, places and organisations of `others` into the claim; each of them is
    kept, marked merged into it (and closed), for history."""
    lock_rows(session, Claim, [claim_id, *others])  # two merges of the same claims wait for each other
    claim = get_claim(session, claim_id)
    if claim.merged_into_id is not None:
        raise Conflict(f"This claim was merged into {claim.merged_into_id}; merge into that one.")
    merged = []
    for index, other_id in enumerate(dict.fromkeys(others)):
        loc = ["body", "claim_ids", index]
        if other_id == claim.id:
            raise ValidationFailed(loc, "A claim cannot be merged into itself.")
        other = session.get(Claim, other_id)
        if other is None:
            raise ValidationFailed(loc, f"No claim with id {other_id}.")
        if other.merged_into_id is not None:
            raise ValidationFailed(loc, f"Claim {other_id} was merged into {other.merged_into_id} already.")
        merged.append(other)
    before = snapshot(claim)
    for other in merged:
        _absorb(session, claim, other)
    if claim.severity != (worst := max([claim, *merged], key=lambda c: SEVERITY_RANK[c.severity]).severity):
        claim.severity = worst
    claim.deadline_at = deadline_for(settings, claim)
    bump(session, claim)
    session.flush()
    diff = audit_service.diff(before, snapshot(claim), UNAUDITED)
    diff["merged"] = [None, [str(o.id) for o in merged]]
    audit_service.record(session, actor, "claim.merged", "claim", claim.id, diff)
    events.claim_updated(session, claim, list(diff))
    for other in merged:
        events.claim_updated(session, other, ["status", "merged_into_id"])
    return claim


SEVERITY_RANK = {"low": 0, "normal": 1, "high": 2, "critical": 3}


def _absorb(session: Session, claim: Claim, other: Claim) -> None:
    reports = list(session.scalars(select(ClaimReport).where(ClaimReport.claim_id == other.id)))
    for report in reports:
        report.claim_id = claim.id
    claim.report_count += len(reports)
    claim.first_reported_at = min(claim.first_reported_at, other.first_reported_at)
    add_places(claim, {field: other.tag_values(facet) for field, facet in PLACE_FIELDS.items()})
    have = [o.organisation_id for o in claim.organisations]
    extra = [o.organisation_id for o in other.organisations] + [other.lead_organisation_id]
    _set_organisations(claim, have + [o for o in extra if o and o != claim.lead_organisation_id])
    before = other.status
    other.merged_into_id, other.status, other.report_count = claim.id, "closed", 0
    bump(session, other)
    changes = {"status": [before, "closed"], "merged_into_id": [None, str(claim.id)]}
    audit_service.record(session, None, "claim.merged_away", "claim", other.id, changes)


def refuse_deleting_an_organisation_with_claims(session: Session, organisation: Organisation) -> None:
    """Registered by app/wiring.py: an organisation that leads or works on a claim is kept for
    it (the claims' history names it)."""
    led = select(Claim.id).where(Claim.lead_organisation_id == organisation.id)
    shared = select(ClaimOrganisation.claim_id).where(ClaimOrganisation.organisation_id == organisation.id)
    count = session.scalar(select(func.count()).select_from(led.union(shared).subquery()))
    if count:
        raise Conflict(f"Organisation {organisation.code} leads or works on {count} claim(s); it is kept for them.")
