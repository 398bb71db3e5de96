"""Which claim a new report belongs to: the same web page, or text close enough.

1. A report naming a page (normalised, app.claims.urls) that a report of a claim named joins
   that claim: an indexed lookup in the database, immediate.
2. Otherwise the search backend finds candidate claims sharing words with the report (diacritics
   folded, both backends through `SearchBackend.match_claims`), and each candidate is scored here
   with RapidFuzz on folded text against the claim's title and summary and each of its reports,
   so the score means the same on both backends: 0 (nothing alike) to 1 (the same words).
   At or above `claim_autojoin_score` the report joins the best one; otherwise candidates at or
   above `claim_suggest_score` are suggested, best first.
"""

import logging
import uuid
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.claims.models import Claim, ClaimReport, ClaimReportUrl
from app.config import Settings
from app.search.backend import BackendUnavailable, SearchBackend
from app.text import folded_words

log = logging.getLogger("ttdn.claims.matching")

CANDIDATES = 20
SUGGESTIONS = 5


@dataclass(frozen=True)
class Suggestion:
    claim_id: uuid.UUID
    title: str
    score: float


@dataclass
class Match:
    claim_id: uuid.UUID | None = None
    matched_by: str | None = None  # url or text
    suggestions: list[Suggestion] = field(default_factory=list)


def folded(text: str) -> str:
    return " ".join(folded_words(text))


def similarity(a: str, b: str) -> float:
    """0..1 for two folded texts: the mean of RapidFuzz's token-sort ratio (the same words, any
    order) and token-set ratio (one text's words mostly within the other's)."""
    if not a or not b:
        return 0.0
    sort = fuzz.token_sort_ratio(a, b, processor=None)
    subset = fuzz.token_set_ratio(a, b, processor=None)
    return round((sort + subset) / 200, 4)


def claim_by_url(session: Session, hashes: list[str]) -> uuid.UUID | None:
    """The claim (not merged away) of the earliest report naming one of these pages."""
    if not hashes:
        return None
    return session.scalar(
        select(ClaimReport.claim_id)
        .join(ClaimReportUrl, ClaimReportUrl.report_id == ClaimReport.id)
        .join(Claim, Claim.id == ClaimReport.claim_id)
        .where(ClaimReportUrl.url_hash.in_(hashes), Claim.merged_into_id.is_(None))
        .order_by(ClaimReport.id)
        .limit(1)
    )


def _candidate_texts(session: Session, claim_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, list[str]]]:
    """{claim_id: (title, [folded texts to compare with])} for claims not merged away."""
    rows = session.execute(
        select(Claim.id, Claim.title, Claim.summary).where(Claim.id.in_(claim_ids), Claim.merged_into_id.is_(None))
    )
    texts = {row.id: (row.title, [folded(f"{row.title} {row.summary}")]) for row in rows}
    reports = select(ClaimReport.claim_id, ClaimReport.summary, ClaimReport.excerpt).where(
        ClaimReport.claim_id.in_(list(texts))
    )
    for claim_id, summary, excerpt in session.execute(reports):
        texts[claim_id][1].append(folded(f"{summary} {excerpt}"))
    return texts


def score_candidates(session: Session, text: str, claim_ids: list[uuid.UUID]) -> list[Suggestion]:
    """Candidates scored against the report's text, best first."""
    mine = folded(text)
    scored = [
        Suggestion(claim_id, title, max(similarity(mine, other) for other in others))
        for claim_id, (title, others) in _candidate_texts(session, claim_ids).items()
    ]
    return sorted(scored, key=lambda s: (-s.score, str(s.claim_id)))


def match_report(
    session: Session, backend: SearchBackend, settings: Settings, text: str, url_hashes: list[str]
) -> Match:
    claim_id = claim_by_url(session, url_hashes)
    if claim_id is not None:
        return Match(claim_id=claim_id, matched_by="url")
    try:
        hits = backend.match_claims(text, CANDIDATES)
    except BackendUnavailable as exc:
        # The report is kept all the same; staff see it among the unassigned ones.
        log.warning("claim matching skipped, search backend unavailable: %s", exc)
        return Match()
    scored = score_candidates(session, text, [hit.id for hit in hits])
    if scored and scored[0].score >= settings.claim_autojoin_score:
        return Match(claim_id=scored[0].claim_id, matched_by="text", suggestions=[])
    suggestions = [s for s in scored if s.score >= settings.claim_suggest_score][:SUGGESTIONS]
    return Match(suggestions=suggestions)
