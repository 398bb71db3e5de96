"""Claim matching through each search backend: what joins a claim at once and what is only suggested.

The rule (app/claims/matching.py) is the same on every backend: the backend finds candidates, the
matcher scores them and a text join passes a second gate (enough words in common, a name or a
number in common, and no name or number on either side that the other lacks).
"""

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import User
from app.claims import intake
from app.claims import service as claims_service
from app.claims.models import ClaimReport
from app.claims.schemas import ClaimCreate, ClaimReportCreate
from app.config import Settings
from app.search import indexer
from app.search.backend import SearchBackend
from app.wiring import register_hooks
from tests.factories import principal_for

LAND = "Chính quyền sẽ thu hồi đất rừng của đồng bào Mông ở Điện Biên, tin nhắn lan truyền qua nhóm Zalo"


@pytest.fixture
def report(
    backend: SearchBackend, session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> Callable[[str], ClaimReport]:
    """report(text) -> the report as taken in (matched on arrival), committed and indexed."""
    register_hooks()
    user = User(email="matcher@example.test", password_hash="!", roles=["editor"])
    session.add(user)
    session.flush()
    actor = principal_for(user)

    def make(text: str) -> ClaimReport:
        created = intake.create_report(session, backend, settings, ClaimReportCreate(summary=text), actor)
        session.commit()
        indexer.drain_claims(session_factory, backend)
        return created

    make.actor = actor  # type: ignore[attr-defined]
    return make


@pytest.fixture
def land_claim(report, session: Session, session_factory, backend, settings) -> str:  # noqa: ANN001
    first = report(LAND)
    assert first.claim_id is None
    claim = claims_service.create_claim(session, settings, ClaimCreate(title=LAND, report_ids=[first.id]), report.actor)
    session.commit()
    indexer.drain_claims(session_factory, backend)
    return claim.id


@pytest.mark.parametrize(
    "paraphrase",
    [
        "Có tin chính quyền sắp thu hồi đất rừng của đồng bào Mông ở Điện Biên, tin nhắn lan truyền qua nhóm Zalo",
        "chinh quyen se thu hoi dat rung cua dong bao mong o dien bien tin nhan lan truyen qua nhom zalo",
    ],
)
def test_a_paraphrase_of_a_claim_joins_it_at_once(report, land_claim, paraphrase: str) -> None:
    joined = report(paraphrase)
    assert joined.claim_id == land_claim and joined.matched_by == "text"


@pytest.mark.parametrize(
    "near_miss",
    [
        # The same story about another group; about another province; typed without diacritics.
        "Chính quyền sẽ thu hồi đất rừng của đồng bào Dao ở Điện Biên, tin nhắn lan truyền qua nhóm Zalo",
        "Chính quyền sẽ thu hồi đất rừng của đồng bào Mông ở Lai Châu, tin nhắn lan truyền qua nhóm Zalo",
        "chinh quyen se thu hoi dat rung cua dong bao dao o dien bien tin nhan lan truyen qua nhom zalo",
    ],
)
def test_a_near_miss_is_suggested_but_never_joined(report, land_claim, settings: Settings, near_miss: str) -> None:
    kept = report(near_miss)
    assert kept.claim_id is None
    best = kept.suggestions[0]
    assert best["claim_id"] == str(land_claim)
    # Close enough on words alone to have joined: the second gate is what kept it apart.
    assert best["score"] >= settings.claim_autojoin_score


def test_a_note_naming_nothing_does_not_join_a_claim_holding_the_same_note(
    report, land_claim, session, session_factory, backend
) -> None:
    note = "Bài này đang lan truyền trên mạng"
    intake.move_report(session, report(note).id, land_claim, report.actor)
    session.commit()
    indexer.drain_claims(session_factory, backend)
    again = report(note)
    assert again.claim_id is None and again.suggestions[0]["claim_id"] == str(land_claim)
