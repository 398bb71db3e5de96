"""Which claim a new report belongs to: the same web page, or text close enough.

1. A report naming a page (normalised, app.claims.urls) that a report of a claim named joins
   that claim: an indexed lookup in the database, immediate.
2. Otherwise the search backend finds candidate claims sharing words with the report (diacritics
   folded, both backends through `SearchBackend.match_claims`), with the claims written since the
   indexer's last pass (`not_yet_indexed`), and each candidate is scored here
   on folded words against the claim's title and summary and each of its reports, so the score
   means the same on both backends: 0 (nothing alike) to 1 (the same words). The score is a
   cosine over word sets, each word weighted by how rare it is among the candidates: false
   stories are told in the same few phrasings ("thu hồi đất rừng của đồng bào ... ở ..."), and
   what tells two of them apart is the group, the place, the numbers and the details. (RapidFuzz's
   token ratios, which weigh every word the same, joined such look-alikes: see bench/RESULTS.md.)
3. A text joins at once only through a second gate, because stories told in one phrasing about
   another group, place or figure score high on shared words: the report must share at least
   MIN_SHARED_WORDS words with the claim's text it matched, at least one of them a name or a
   number, and neither text may name something the other lacks. What a text names
   (`specifics`) are its numbers and its capitalised words not opening a sentence (the names
   of groups, places, people and platforms; Vietnamese writes them capitalised), compared
   folded with every word of the other text, so a report typed without diacritics or capitals
   is held to the names of the claim's text. The best score among the claim's texts passing
   the gate must reach `claim_autojoin_score`; a report that fails the gate gets the claim as
   a suggestion with its full score. URL joins (1.) stay exact.
   Otherwise candidates at or above `claim_suggest_score` are suggested, best first.
"""

import logging
import math
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.claims.models import Claim, ClaimReport, ClaimReportUrl
from app.config import Settings
from app.search.backend import BackendUnavailable, SearchBackend
from app.search.outbox import ClaimOutbox
from app.text import fold, folded_words

log = logging.getLogger("ttdn.claims.matching")

CANDIDATES = 20
SUGGESTIONS = 5
# A text join needs this many distinct words in common, a name or number among them: a note such
# as "Bài này đang lan truyền" names no story.
MIN_SHARED_WORDS = 5
# A word is a name when it starts with a capital and does not open a sentence; numbers are figures.
_TOKEN = re.compile(r"(?P<stop>[.!?:;\n]\s*)|\w+")


@dataclass(frozen=True)
class Suggestion:
    claim_id: uuid.UUID
    title: str
    score: float


@dataclass(frozen=True)
class Scored:
    """A candidate claim: its best score over its texts, and its best over those the gate lets join."""

    claim_id: uuid.UUID
    title: str
    score: float
    joinable: float


@dataclass
class Match:
    claim_id: uuid.UUID | None = None
    matched_by: str | None = None  # url or text
    suggestions: list[Suggestion] = field(default_factory=list)


def folded(text: str) -> str:
    return " ".join(folded_words(text))


def rarity_weights(texts: list[str]) -> Callable[[str], float]:
    """1 + log(n / df) for a word found in df of the n candidate texts; 1 for a word in none.

    A word every candidate has (the common phrasing) weighs 1; a word few have (a name, a
    place, a number) weighs more. A word no candidate has lowers every candidate's score alike.
    With a single candidate every word weighs 1: a plain cosine."""
    frequency: Counter[str] = Counter()
    for text in texts:
        frequency.update(set(text.split()))
    size = len(texts)
    return lambda word: 1 + math.log(size / frequency[word]) if frequency[word] else 1.0


def weighted_cosine(a: str, b: str, weight: Callable[[str], float]) -> float:
    """Cosine of two word sets with each word weighted (0..1)."""
    mine, theirs = set(a.split()), set(b.split())
    if not mine or not theirs:
        return 0.0
    shared = sum(weight(word) for word in mine & theirs)
    return round(shared / math.sqrt(sum(map(weight, mine)) * sum(map(weight, theirs))), 4)


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


def specifics(text: str) -> set[str]:
    """The folded numbers and names of a text: capitalised words not opening a sentence, and
    words with a digit. 'Bà con Thái ở Lào Cai, 60 người' -> {'thai', 'lao', 'cai', '60'}."""
    found: set[str] = set()
    opening = True
    for token in _TOKEN.finditer(text):
        if token.group("stop") is not None:
            opening = True
            continue
        word = token.group()
        if any(ch.isdigit() for ch in word) or (word[0].isupper() and not opening):
            found.add(fold(word))
        opening = False
    return found


@dataclass(frozen=True)
class Text:
    """One text a claim is compared by: folded words, and the names and numbers it carries."""

    folded: str
    specifics: frozenset[str]

    @classmethod
    def of(cls, text: str) -> "Text":
        return cls(folded(text), frozenset(specifics(text)))


def may_join(report: Text, other: Text) -> bool:
    """The gate before a text join: enough words in common, a name or number in common, and no
    name or number on either side that the other text lacks."""
    mine, theirs = set(report.folded.split()), set(other.folded.split())
    names = report.specifics | other.specifics
    return len(mine & theirs) >= MIN_SHARED_WORDS and bool(names) and names <= mine & theirs


def _candidate_texts(session: Session, claim_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, list[Text]]]:
    """{claim_id: (title, [texts to compare with])} for claims not merged away."""
    rows = session.execute(
        select(Claim.id, Claim.title, Claim.summary).where(Claim.id.in_(claim_ids), Claim.merged_into_id.is_(None))
    )
    texts = {row.id: (row.title, [Text.of(f"{row.title}\n{row.summary}")]) for row in rows}
    reports = select(ClaimReport.claim_id, ClaimReport.summary, ClaimReport.excerpt).where(
        ClaimReport.claim_id.in_(list(texts))
    )
    for claim_id, summary, excerpt in session.execute(reports):
        texts[claim_id][1].append(Text.of(f"{summary}\n{excerpt}"))
    return texts


def score_candidates(session: Session, text: str, claim_ids: list[uuid.UUID]) -> list[Scored]:
    """Candidates scored against the report's text (the best of their texts), best first."""
    mine = Text.of(text)
    candidates = _candidate_texts(session, claim_ids)
    weight = rarity_weights([t.folded for _, others in candidates.values() for t in others])
    scored = []
    for claim_id, (title, others) in candidates.items():
        scores = [(weighted_cosine(mine.folded, other.folded, weight), may_join(mine, other)) for other in others]
        joinable = max((score for score, ok in scores if ok), default=0.0)
        scored.append(Scored(claim_id, title, max(score for score, _ in scores), joinable))
    return sorted(scored, key=lambda s: (-s.score, str(s.claim_id)))


# Claims written since the indexer's last pass: a few, unless the search backend has been away.
UNINDEXED_CANDIDATES = 200


def not_yet_indexed(session: Session) -> list[uuid.UUID]:
    """Claims whose latest text the claim index may not hold yet (queued, not sent): candidates
    too, so that a report sent right after a claim was opened or edited can join it (the index
    is drained about every second). Scored like the others, from the database."""
    pending = (
        select(ClaimOutbox.claim_id)
        .where(ClaimOutbox.processed_at.is_(None))
        .order_by(ClaimOutbox.id.desc())
        .limit(UNINDEXED_CANDIDATES)
    )
    return list(dict.fromkeys(session.scalars(pending)))


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
    candidates = [hit.id for hit in hits]
    scored = score_candidates(session, text, list(dict.fromkeys([*candidates, *not_yet_indexed(session)])))
    best = max(scored, key=lambda s: s.joinable, default=None)
    if best is not None and best.joinable >= settings.claim_autojoin_score:
        return Match(claim_id=best.claim_id, matched_by="text", suggestions=[])
    suggestions = [Suggestion(s.claim_id, s.title, s.score) for s in scored if s.score >= settings.claim_suggest_score]
    return Match(suggestions=suggestions[:SUGGESTIONS])
