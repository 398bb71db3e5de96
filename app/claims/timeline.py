"""A claim's timeline and its comments.

The timeline runs from the first report through triage, each rebuttal's publication and its
bundle's, to the first fetch by a unit, the acknowledgement by half and by all of the units the
rebuttal bundles were delivered to, and the last acknowledgement so far.
"""

import math
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.bundles.models import Bundle, Delivery
from app.claims import service as claims_service
from app.claims.models import ClaimComment, ClaimReport
from app.db import new_id, utcnow
from app.errors import NotFound
from app.pagination import decode_id_cursor, id_page, page_size


def timeline(session: Session, claim_id: uuid.UUID) -> list[dict[str, Any]]:
    claim = claims_service.get_claim(session, claim_id)
    first = session.execute(
        select(ClaimReport.id, ClaimReport.created_at, ClaimReport.reporter_type, ClaimReport.reporter_label)
        .where(ClaimReport.claim_id == claim.id)
        .order_by(ClaimReport.created_at, ClaimReport.id)
        .limit(1)
    ).first()
    events: list[dict[str, Any]] = []
    if first is not None:
        reporter = {"type": first.reporter_type, "label": first.reporter_label}
        events.append({"at": first.created_at, "event": "first_report", "report_id": first.id, "reporter": reporter})
    if claim.triaged_at:
        events.append({"at": claim.triaged_at, "event": "triaged"})
    bundle_ids = [link.bundle_id for link in claim.rebuttals if link.bundle_id]
    for link in claim.rebuttals:
        events.append(
            {
                "at": link.published_at,
                "event": "rebuttal_published",
                "material_id": link.material_id,
                "verdict": link.verdict,
            }
        )
    for bundle_id, published_at in session.execute(
        select(Bundle.id, Bundle.published_at).where(Bundle.id.in_(bundle_ids), Bundle.published_at.is_not(None))
    ):
        events.append({"at": published_at, "event": "bundle_published", "bundle_id": bundle_id})
    events += _delivery_events(session, bundle_ids)
    return sorted(events, key=lambda e: (e["at"], ORDER.index(e["event"])))


# The order of events that happened at the same moment (publishing triages an untriaged claim).
ORDER = (
    "first_report",
    "triaged",
    "rebuttal_published",
    "bundle_published",
    "first_fetch",
    "acknowledged_50",
    "acknowledged_100",
    "last_acknowledgement",
)


def _delivery_events(session: Session, bundle_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Delivery.unit_id, Delivery.fetched_at, Delivery.acknowledged_at).where(
            Delivery.bundle_id.in_(bundle_ids), Delivery.withdrawn_at.is_(None)
        )
    ).all()
    # A unit counts once, however many rebuttal bundles reached it: its first fetch and ack.
    fetched: dict[uuid.UUID, datetime] = {}
    acked: dict[uuid.UUID, datetime] = {}
    for unit_id, fetched_at, acknowledged_at in rows:
        for seen, at in ((fetched, fetched_at or acknowledged_at), (acked, acknowledged_at)):
            if at is not None and (unit_id not in seen or at < seen[unit_id]):
                seen[unit_id] = at
    units = len({row.unit_id for row in rows})
    events: list[dict[str, Any]] = []
    if fetched:
        events.append({"at": min(fetched.values()), "event": "first_fetch", "units": units})
    times = sorted(acked.values())
    for share, name in ((0.5, "acknowledged_50"), (1.0, "acknowledged_100")):
        needed = max(1, math.ceil(units * share))
        if units and len(times) >= needed:
            events.append({"at": times[needed - 1], "event": name, "acknowledged": needed, "units": units})
    if times:
        # The timeline ends at the latest acknowledgement so far, however few units have sent one.
        events.append({"at": times[-1], "event": "last_acknowledgement", "acknowledged": len(times), "units": units})
    return events


def add_comment(session: Session, claim_id: uuid.UUID, body: str, actor: Principal) -> ClaimComment:
    # Whoever may write claims comments on any of them (the contract's rule for claims); the
    # organisations on a claim are who coordinate it and get its events, not who may speak.
    claim = claims_service.get_claim(session, claim_id)
    comment = ClaimComment(
        id=new_id(), claim_id=claim.id, at=utcnow(), author_id=actor.id, author_label=actor.label, body=body
    )
    session.add(comment)
    session.flush()
    audit_service.record(session, actor, "claim.commented", "claim", claim.id, {"comment_id": [None, str(comment.id)]})
    return comment


def get_comment(session: Session, claim_id: uuid.UUID, comment_id: uuid.UUID) -> ClaimComment:
    comment = session.get(ClaimComment, comment_id)
    if comment is None or comment.claim_id != claim_id:
        claims_service.get_claim(session, claim_id)  # an unknown claim says so
        raise NotFound("No such comment on this claim.")
    return comment


def list_comments(
    session: Session, claim_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[ClaimComment], str | None]:
    """Oldest first, as a conversation reads."""
    claims_service.get_claim(session, claim_id)
    query = select(ClaimComment).where(ClaimComment.claim_id == claim_id)
    query = query.order_by(ClaimComment.id).limit(page_size(limit))
    if cursor:
        query = query.where(ClaimComment.id > decode_id_cursor(cursor, ClaimComment))
    return id_page(list(session.scalars(query)), limit)
