"""The search projection of claims: what the claim index holds, loaded in bulk by id.

This module is the indexer's claim source (`app.search.indexer.ClaimSource`), registered by
app/wiring.py: search never imports claims.
"""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.claims.models import Claim, ClaimReport
from app.search.backend import ClaimDocument


def claim_documents(session: Session, claim_ids: list[uuid.UUID]) -> list[ClaimDocument]:
    """The claims' documents: title, summary and the text of every report (two queries)."""
    claims = session.execute(
        select(Claim.id, Claim.version, Claim.status, Claim.merged_into_id, Claim.title, Claim.summary).where(
            Claim.id.in_(claim_ids)
        )
    ).all()
    texts: dict[uuid.UUID, list[str]] = {row.id: [row.title, row.summary] for row in claims}
    reports = select(ClaimReport.claim_id, ClaimReport.summary, ClaimReport.excerpt).where(
        ClaimReport.claim_id.in_(claim_ids)
    )
    for claim_id, summary, excerpt in session.execute(reports.order_by(ClaimReport.id)):
        texts[claim_id].extend((summary, excerpt))
    return [
        ClaimDocument(
            id=row.id,
            version=row.version,
            status="merged" if row.merged_into_id else row.status,
            text="\n".join(part for part in texts[row.id] if part),
        )
        for row in claims
    ]


def all_claim_ids(session: Session) -> list[uuid.UUID]:
    return list(session.scalars(select(Claim.id).order_by(Claim.id)))
