"""Rebuttals: materials of kind `rebuttal` that name the claims they answer, each with a verdict.

Publishing one (through the usual workflow, four eyes included) marks its claims `rebutted` and
drafts an urgent bundle, addressed to every unit that reported them and to the units on the
claims' routes and provinces, for a reviewer other than its author to publish. A unit that
reports a claim after that gets the rebuttal in its feed at once (`deliver_to_unit`).
`check_claims_exist` and `on_transition` are hooks of the materials service (which imports no
claims), registered by app/wiring.py.
"""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.bundles import delivery
from app.bundles import service as bundles_service
from app.bundles.models import Bundle
from app.bundles.schemas import BundleCreate, BundleItem, BundleTargets
from app.claims import events
from app.claims import service as claims_service
from app.claims.models import PLACE_FIELDS, Claim, ClaimRebuttal, ClaimReport
from app.db import utcnow
from app.errors import Conflict, ValidationFailed
from app.materials.models import Material
from app.urls import api_path

MAX_TARGETS = 5000  # BundleTargets' own limit per selector


def check_claims_exist(session: Session, claim_ids: list[uuid.UUID], loc: list[str | int]) -> None:
    """422 naming the first claim a rebuttal names that does not exist or was merged away."""
    rows = dict(session.execute(select(Claim.id, Claim.merged_into_id).where(Claim.id.in_(claim_ids))).all())
    for index, claim_id in enumerate(claim_ids):
        if claim_id not in rows:
            raise ValidationFailed([*loc, index, "claim_id"], f"No claim with id {claim_id}.")
        if rows[claim_id] is not None:
            raise ValidationFailed(
                [*loc, index, "claim_id"], f"Claim {claim_id} was merged into {rows[claim_id]}; name that one."
            )


def on_transition(session: Session, material: Material, before: str, actor: Principal) -> None:
    if material.kind == "rebuttal" and material.status == "published" and before != "published":
        publish_rebuttal(session, material, actor)


def publish_rebuttal(session: Session, material: Material, actor: Principal) -> Bundle:
    if not material.rebuts:
        raise Conflict("A rebuttal must name the claims it answers (rebuts) before it is published.")
    published = material.published_at or utcnow()
    claims = []
    for rebut in material.rebuts:
        claim = claims_service.get_claim(session, rebut.claim_id, lock=True)
        before = claims_service.snapshot(claim)
        link = next((r for r in claim.rebuttals if r.material_id == material.id), None)
        if link is None:
            claim.rebuttals.append(
                ClaimRebuttal(material_id=material.id, verdict=rebut.verdict, published_at=published)
            )
        else:
            link.verdict = rebut.verdict
        claim.status = "rebutted"
        claim.triaged_at = claim.triaged_at or published
        claim.rebutted_at = claim.rebutted_at or published
        claims_service.bump(session, claim)
        session.flush()
        diff = audit_service.diff(before, claims_service.snapshot(claim), claims_service.UNAUDITED)
        audit_service.record(session, actor, "claim.rebutted", "claim", claim.id, diff)
        events.claim_updated(session, claim, list(diff))
        claims.append(claim)
    unit_ids = reporting_units(session, [c.id for c in claims])
    bundle = _draft_bundle(session, material, claims, unit_ids, actor)
    for claim in claims:
        for link in claim.rebuttals:
            if link.material_id == material.id:
                link.bundle_id = bundle.id
    session.flush()
    events.rebuttal_published(session, material.id, claims, unit_ids, bundle.id)
    return bundle


def reporting_units(session: Session, claim_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    rows = session.scalars(
        select(ClaimReport.unit_id)
        .where(ClaimReport.claim_id.in_(claim_ids), ClaimReport.unit_id.is_not(None))
        .distinct()
        .order_by(ClaimReport.unit_id)
    )
    return list(rows)


def _draft_bundle(
    session: Session, material: Material, claims: list[Claim], unit_ids: list[uuid.UUID], actor: Principal
) -> Bundle:
    places: dict[str, list[str]] = {field: [] for field in PLACE_FIELDS}
    for claim in claims:
        for field, facet in PLACE_FIELDS.items():
            places[field] += [v for v in claim.tag_values(facet) if v not in places[field]]
    data = BundleCreate(
        title=f"Cải chính thông tin sai sự thật: {material.title}"[:500],
        description="Soạn tự động khi tài liệu cải chính được xuất bản; người duyệt kiểm tra và phát hành.",
        priority="urgent",
        items=[BundleItem(material_id=material.id, note="Tài liệu cải chính")],
        targets=BundleTargets(
            units=[str(u) for u in unit_ids][:MAX_TARGETS],
            border_routes=places["border_routes"],
            provinces=places["provinces"],
        ),
    )
    # The rebuttal's writer is the bundle's author, not the reviewer whose publication drafted
    # it: that reviewer has read the words and may publish the bundle (four eyes).
    author = material.last_edited_by or material.created_by
    return bundles_service.draft_bundle(session, data, actor, author)


def deliver_to_unit(session: Session, claim: Claim, unit_id: uuid.UUID) -> None:
    """A unit reporting a rebutted claim gets each of its rebuttal bundles at once: added to a
    published bundle's units (delivered now), or to a draft's (delivered when published)."""
    for link in claim.rebuttals:
        if link.bundle_id is None:
            continue
        bundle = session.get(Bundle, link.bundle_id)
        if bundle is not None and bundle.status in ("draft", "published"):
            delivery.add_unit(session, bundle, unit_id)


def claim_review(session: Session, claim: Claim, author: dict[str, Any], base_url: str) -> list[dict[str, Any]]:
    """schema.org ClaimReview, one per published rebuttal: `reviewRating.alternateName` is the
    verdict, `ratingValue` the verdict on RATING's 1 (false) to 5 (true) scale; the claim's
    appearances are the pages its reports named."""
    ids = [link.material_id for link in claim.rebuttals]
    materials = {m.id: m for m in session.scalars(select(Material).where(Material.id.in_(ids)))}
    urls = session.scalars(select(ClaimReport.urls).where(ClaimReport.claim_id == claim.id).order_by(ClaimReport.id))
    appearances = [{"@type": "CreativeWork", "url": u} for u in dict.fromkeys(u for row in urls for u in row)]
    reviews = []
    for link in claim.rebuttals:
        material = materials.get(link.material_id)
        if material is None or material.status not in ("published", "archived"):
            continue
        reviews.append(
            {
                "@context": "https://schema.org",
                "@type": "ClaimReview",
                "url": base_url + api_path(f"/materials/{material.id}"),
                "claimReviewed": claim.title,
                "datePublished": (material.published_at or link.published_at).date().isoformat(),
                "author": author,
                "headline": material.title,
                "inLanguage": material.language,
                "reviewRating": {
                    "@type": "Rating",
                    "ratingValue": RATING[link.verdict],
                    "bestRating": 5,
                    "worstRating": 1,
                    "alternateName": link.verdict,
                },
                "itemReviewed": {
                    "@type": "Claim",
                    "datePublished": claim.first_reported_at.date().isoformat(),
                    "appearance": appearances,
                },
            }
        )
    return reviews


# The verdict on a 1 (false) to 5 (true) scale, as fact-checkers' ClaimReview markup uses.
RATING = {"false": 1, "misleading": 2, "missing_context": 3, "true": 5}
