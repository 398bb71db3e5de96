"""The events of the false-information loop, raised in the transaction of the change.

Every event point of the claims domain calls one function here; each hands the event to the
registered listeners (the webhooks domain registers its outbox writer with
`listeners.append(...)`), so an event is recorded if and only if its change commits, and this
domain imports no consumer.
"""

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from app.claims.models import Claim

# (session, event name, payload) -> None; called in the caller's transaction.
Listener = Callable[[Session, str, dict[str, Any]], None]
listeners: list[Listener] = []


def _emit(session: Session, event: str, payload: dict[str, Any]) -> None:
    for listener in listeners:
        listener(session, event, payload)


def _claim_payload(claim: Claim) -> dict[str, Any]:
    return {
        "claim_id": str(claim.id),
        "status": claim.status,
        "severity": claim.severity,
        "version": claim.version,
        "lead_organisation_id": str(claim.lead_organisation_id) if claim.lead_organisation_id else None,
        "organisation_ids": [str(o.organisation_id) for o in claim.organisations],
    }


def claim_created(session: Session, claim: Claim) -> None:
    _emit(session, "claim.created", _claim_payload(claim))


def claim_updated(session: Session, claim: Claim, changed: list[str]) -> None:
    _emit(session, "claim.updated", {**_claim_payload(claim), "changed": sorted(changed)})


def rebuttal_published(
    session: Session, material_id: uuid.UUID, claims: list[Claim], unit_ids: list[uuid.UUID], bundle_id: uuid.UUID
) -> None:
    organisations = {str(c.lead_organisation_id) for c in claims if c.lead_organisation_id}
    organisations |= {str(o.organisation_id) for c in claims for o in c.organisations}
    _emit(
        session,
        "rebuttal.published",
        {
            "material_id": str(material_id),
            "claim_ids": [str(c.id) for c in claims],
            "bundle_id": str(bundle_id),
            "organisation_ids": sorted(organisations),
            "unit_ids": [str(u) for u in unit_ids],
        },
    )
