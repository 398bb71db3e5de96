"""Requests that race for the same row, sent at the same moment (a barrier releases the threads
together) to the real app on a database of its own (tests/live.py), committed for real.

On PostgreSQL, before writes read their row locked (app/db.py `get_row(..., lock=True)`), several
PATCHes with one If-Match all answered 200, two publishes of one bundle answered 500, a recall
racing a publish left a recalled bundle delivered, and reports joining one claim lost counts.
Each test says what one-at-a-time use guarantees, and checks that racing keeps it: one winner,
the others refused with the status a late request gets, never a 500, and the stored state whole.
"""

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.audit.models import AuditRecord
from app.claims.models import Claim
from app.db import try_lock_row
from app.main import create_app
from app.materials.models import Material
from tests.conftest import CONFIG
from tests.factories import TEST_PASSWORD
from tests.live import LiveDatabase, live_database, unique

RACERS = 6


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; their results, in the calls' order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def statuses(responses: list[Any]) -> Counter:
    return Counter(r.status_code for r in responses)


class Live:
    def __init__(self, db: LiveDatabase, client: TestClient) -> None:
        self.db, self.client = db, client
        self.editor = db.token(db.add_user(f"{unique('ed')}@example.test", ["editor"]))
        self.reviewers = [db.token(db.add_user(f"{unique('rv')}@example.test", ["reviewer"])) for _ in range(2)]
        self.admin = db.token(db.add_user(f"{unique('ad')}@example.test", ["admin"]))

    def post(self, path: str, body: Any = None, headers: dict | None = None, **kw: Any) -> Any:
        return self.client.post(f"/api/v1{path}", json=body, headers=headers or self.admin, **kw)

    def material(self, status: str = "draft") -> dict:
        created = self.post("/materials", {"title": "Tài liệu", "kind": "article", "language": "vi"}, self.editor)
        assert created.status_code == 201, created.text
        material = created.json()
        for to, who in (("in_review", self.editor), ("approved", self.reviewers[0]), ("published", self.reviewers[0])):
            if status == material["status"]:
                break
            material = self.post(f"/materials/{material['id']}/transitions", {"to": to}, who).json()
        return material

    def unit(self) -> tuple[dict, dict]:
        code = unique("U")
        unit = self.post("/units", {"code": code, "name": code, "type": "police", "border_routes": ["VN-LA"]}).json()
        key = self.post(f"/units/{unit['id']}/keys").json()["key"]
        return unit, {"Authorization": f"Bearer {key}"}

    def bundle(self) -> dict:
        material = self.material("approved")
        body = {"title": "Gói", "items": [{"material_id": material["id"]}], "targets": {"border_routes": ["VN-LA"]}}
        created = self.post("/bundles", body, self.editor)
        assert created.status_code == 201, created.text
        return created.json()


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Live]:
    with (
        live_database(tmp_path_factory.mktemp("races")) as db,
        TestClient(create_app(db.settings), raise_server_exceptions=False) as client,
    ):
        yield Live(db, client)


def test_one_if_match_has_one_winner_on_every_versioned_resource(live):
    c = live.client
    material = live.material()
    unit, _ = live.unit()
    organisation = live.post("/organisations", {"code": unique("O"), "name": "Sở", "kind": "other"}).json()
    claim = live.post("/claims", {"title": "Tin đồn"}, live.editor).json()
    bundle = live.bundle()
    user = live.post(
        "/users", {"email": f"{unique('u')}@example.test", "password": "núi rừng biên cương xanh", "roles": ["analyst"]}
    ).json()
    cases = [
        (f"/materials/{material['id']}", "summary", live.editor),
        (f"/units/{unit['id']}", "name", live.admin),
        (f"/organisations/{organisation['id']}", "name", live.admin),
        (f"/claims/{claim['id']}", "summary", live.editor),
        (f"/bundles/{bundle['id']}", "description", live.editor),
        (f"/users/{user['id']}", "full_name", live.admin),
    ]
    for path, field, who in cases:
        url = f"/api/v1{path}"
        tag = c.get(url, headers=who).headers["etag"]
        answers = race(
            *(
                lambda n=n, url=url, field=field, who=who, tag=tag: c.patch(
                    url, json={field: f"Giá trị {n}"}, headers={**who, "If-Match": tag}
                )
                for n in range(RACERS)
            )
        )
        assert statuses(answers) == {200: 1, 412: RACERS - 1}, (path, statuses(answers))
        winner = next(a.json() for a in answers if a.status_code == 200)
        after = c.get(url, headers=who).json()
        assert after[field] == winner[field] and after["version"] == winner["version"], path


def test_a_delete_and_an_edit_with_one_if_match_do_not_both_succeed(live):
    c = live.client
    material = live.material()
    url = f"/api/v1/materials/{material['id']}"
    tag = c.get(url, headers=live.editor).headers["etag"]
    headers = {**live.editor, "If-Match": tag}
    answers = race(
        lambda: c.delete(url, headers=headers),
        lambda: c.patch(url, json={"summary": "Sửa"}, headers=headers),
        lambda: c.delete(url, headers=headers),
    )
    codes = sorted(a.status_code for a in answers)
    assert codes.count(204) + codes.count(200) == 1 and set(codes) <= {200, 204, 404, 412}, codes
    with live.db.session_factory() as session:
        deleted = session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.action == "material.deleted", AuditRecord.entity_id == material["id"])
        )
        assert deleted == codes.count(204)
        assert (session.get(Material, material["id"]) is None) == (codes.count(204) == 1)


def test_the_same_email_or_unit_code_created_at_once_is_one_201_and_409s(live):
    email = f"{unique('dup')}@example.test"
    users = race(
        *(
            lambda n=n: live.post(
                "/users",
                {
                    "email": email.upper() if n % 2 else email,
                    "password": "núi rừng biên cương xanh",
                    "roles": ["analyst"],
                },
            )
            for n in range(RACERS)
        )
    )
    assert statuses(users) == {201: 1, 409: RACERS - 1}, [u.text for u in users if u.status_code != 201]
    code = unique("DUP")
    units = race(
        *(
            lambda n=n: live.post("/units", {"code": code.lower() if n % 2 else code, "name": "Đồn", "type": "police"})
            for n in range(RACERS)
        )
    )
    assert statuses(units) == {201: 1, 409: RACERS - 1}


def test_material_transitions_racing_have_one_winner(live):
    material = live.material("approved")
    url = f"/materials/{material['id']}/transitions"
    answers = race(*(lambda n=n: live.post(url, {"to": "published"}, live.reviewers[n % 2]) for n in range(RACERS)))
    assert statuses(answers) == {200: 1, 409: RACERS - 1}
    revisions = live.client.get(f"/api/v1/materials/{material['id']}/revisions", headers=live.editor).json()
    assert [r["change"] for r in revisions["items"]].count("transition:published") == 1


def test_a_bundle_published_twice_at_once_is_one_publication(live):
    bundle = live.bundle()
    answers = race(
        *(lambda n=n: live.post(f"/bundles/{bundle['id']}/publish", None, live.reviewers[n % 2]) for n in range(RACERS))
    )
    assert statuses(answers) == {200: 1, 409: RACERS - 1}
    publications = live.client.get(f"/api/v1/bundles/{bundle['id']}/publications", headers=live.admin).json()
    assert len(publications["items"]) == 1


def test_a_recall_racing_a_publish_leaves_what_the_bundle_says(live):
    """Whatever order they take, a bundle that says `recalled` is a tombstone for its units."""
    c = live.client
    _, key = live.unit()
    for _ in range(3):
        bundle = live.bundle()
        url = f"/api/v1/bundles/{bundle['id']}"
        first = c.post(f"{url}/publish", headers=live.reviewers[0])
        edited = c.patch(url, json={"title": "Bản sửa"}, headers={**live.editor, "If-Match": first.headers["etag"]})
        assert edited.status_code == 200
        publish, recall = race(
            lambda url=url: c.post(f"{url}/publish", headers=live.reviewers[0]),
            lambda url=url: c.post(f"{url}/recall", headers=live.reviewers[1]),
        )
        assert recall.status_code == 200 and publish.status_code in (200, 409), (publish.text, recall.text)
        assert c.get(url, headers=live.admin).json()["status"] == "recalled"
        assert c.get(f"/api/v1/feed/bundles/{bundle['id']}", headers=key).status_code == 410
        item = next(i for i in c.get("/api/v1/feed", headers=key).json()["items"] if i["bundle_id"] == bundle["id"])
        assert item["status"] == "recalled"


def test_reports_joining_one_claim_at_once_are_all_counted(live):
    url = f"https://www.facebook.com/posts/{unique('p')}"
    keys = [live.unit()[1] for _ in range(RACERS)]
    first = live.post("/claim-reports", {"summary": "Tin đồn thu hồi đất", "urls": [url]}, keys[0]).json()
    claim = live.post("/claims", {"title": "Tin đồn thu hồi đất", "report_ids": [first["id"]]}, live.editor).json()
    answers = race(
        *(
            lambda key=key: live.post("/claim-reports", {"summary": "Tin đồn thu hồi đất", "urls": [url]}, key)
            for key in keys
        )
    )
    assert statuses(answers) == {201: RACERS}
    assert {a.json()["claim_id"] for a in answers} == {claim["id"]}
    after = live.client.get(f"/api/v1/claims/{claim['id']}", headers=live.editor).json()
    listed = live.client.get(f"/api/v1/claims/{claim['id']}/reports", params={"limit": 100}, headers=live.editor)
    assert after["report_count"] == len(listed.json()["items"]) == RACERS + 1


def test_two_claims_merged_into_each_other_at_once_make_no_cycle(live):
    a = live.post("/claims", {"title": "Tin đồn A"}, live.editor).json()
    b = live.post("/claims", {"title": "Tin đồn B"}, live.editor).json()
    answers = race(
        lambda: live.post(f"/claims/{a['id']}/merge", {"claim_ids": [b["id"]]}, live.editor),
        lambda: live.post(f"/claims/{b['id']}/merge", {"claim_ids": [a["id"]]}, live.editor),
    )
    assert sorted(r.status_code for r in answers) in ([200, 409], [200, 422]), [r.text for r in answers]
    merged = [live.client.get(f"/api/v1/claims/{x['id']}", headers=live.editor).json() for x in (a, b)]
    assert sorted(m["status"] == "closed" for m in merged) == [False, True]


def test_password_changes_with_one_current_password_have_one_winner(live):
    email = f"{unique('pw')}@example.test"
    user = live.db.add_user(email, ["analyst"])
    token = live.db.token(user)
    answers = race(
        *(
            lambda n=n: live.post(
                "/me/password",
                {"current_password": TEST_PASSWORD, "new_password": f"mật khẩu mới thứ {n} rất dài"},
                token,
            )
            for n in range(4)
        )
    )
    assert statuses(answers) == {204: 1, 422: 3}


def test_the_same_acknowledgement_sent_at_once_is_recorded_once(live):
    _, key = live.unit()
    bundle = live.bundle()
    assert live.post(f"/bundles/{bundle['id']}/publish", None, live.reviewers[0]).status_code == 200
    answers = race(*(lambda: live.post(f"/feed/bundles/{bundle['id']}/ack", None, key) for _ in range(RACERS)))
    assert statuses(answers) == {204: RACERS}
    with live.db.session_factory() as session:
        acks = session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.action == "delivery.acknowledged", AuditRecord.entity_id == bundle["id"])
        )
    assert acks == 1


def test_a_report_moved_while_its_claim_is_merged_waits_instead_of_deadlocking(live):
    """The move locks the claims before the report, as the merge does: no deadlock (a 503)."""
    for _ in range(4):
        _, key = live.unit()
        report = live.post("/claim-reports", {"summary": f"Tin đồn {unique('r')}", "urls": []}, key).json()
        a, b, c = (live.post("/claims", {"title": f"Tin đồn {n}"}, live.editor).json() for n in "ABC")
        live.post(f"/claim-reports/{report['id']}/move", {"claim_id": b["id"]}, live.editor)
        move, merge = race(
            lambda report=report, c=c: live.post(
                f"/claim-reports/{report['id']}/move", {"claim_id": c["id"]}, live.editor
            ),
            lambda a=a, b=b: live.post(f"/claims/{a['id']}/merge", {"claim_ids": [b["id"]]}, live.editor),
        )
        assert move.status_code == 200 and merge.status_code == 200, (move.text, merge.text)
        counts = {
            x["id"]: live.client.get(f"/api/v1/claims/{x['id']}", headers=live.editor).json()["report_count"]
            for x in (a, c)
        }
        assert sum(counts.values()) == 1


def _counts_agree(live: Live, claims: list[dict]) -> int:
    """Each claim's report_count is the number of reports it lists; the total of those counts."""
    total = 0
    for claim in claims:
        count = live.client.get(f"/api/v1/claims/{claim['id']}", headers=live.editor).json()["report_count"]
        listed = live.client.get(f"/api/v1/claims/{claim['id']}/reports", headers=live.editor).json()["items"]
        assert count == len(listed), (claim["id"], count, listed)
        total += count
    return total


def test_one_report_moved_to_different_claims_at_once_lands_once_without_deadlock(live):
    """Found by a black-box audit: moves that found the report moved meanwhile locked its new
    claim after the report, and deadlocked against moves into that claim (503s)."""
    for _ in range(3):
        _, key = live.unit()
        report = live.post("/claim-reports", {"summary": f"Tin đồn {unique('r')}", "urls": []}, key).json()
        claims = [live.post("/claims", {"title": f"Tin đồn {n}"}, live.editor).json() for n in range(3)]
        answers = race(
            *(
                lambda claim=claim, report=report: live.post(
                    f"/claim-reports/{report['id']}/move", {"claim_id": claim["id"]}, live.editor
                )
                for claim in claims * 2
            )
        )
        assert set(statuses(answers)) <= {200, 409} and statuses(answers)[200] >= 1, [a.text for a in answers]
        assert _counts_agree(live, claims) == 1


def test_claims_opened_at_once_from_the_same_report_count_it_once(live):
    _, key = live.unit()
    report = live.post("/claim-reports", {"summary": f"Tin đồn {unique('r')}", "urls": []}, key).json()
    answers = race(
        *(
            lambda n=n: live.post("/claims", {"title": f"Tin đồn {n}", "report_ids": [report["id"]]}, live.editor)
            for n in range(4)
        )
    )
    assert set(statuses(answers)) <= {201, 409} and statuses(answers)[201] >= 1, [a.text for a in answers]
    assert _counts_agree(live, [a.json() for a in answers if a.status_code == 201]) == 1


def test_a_row_another_transaction_holds_is_refused_without_waiting(live):
    """db.try_lock_row: the lock a writer holding another lock may take without risking a deadlock."""
    claim = live.post("/claims", {"title": f"Tin đồn {unique('c')}"}, live.editor).json()
    with live.db.session_factory() as holder, live.db.session_factory() as other:
        assert try_lock_row(holder, Claim, claim["id"])
        if CONFIG == "postgres-es":
            assert not try_lock_row(other, Claim, claim["id"])
            assert other.get(Claim, claim["id"]).title == claim["title"]  # its transaction goes on
        holder.rollback()
        assert try_lock_row(other, Claim, claim["id"])
        other.rollback()


def test_a_key_revoked_twice_at_once_is_revoked_and_recorded_once(live):
    unit, _ = live.unit()
    key = live.post(f"/units/{unit['id']}/keys").json()
    url = f"/api/v1/units/{unit['id']}/keys/{key['id']}"
    answers = race(*(lambda: live.client.delete(url, headers=live.admin) for _ in range(4)))
    assert statuses(answers) == {204: 4}
    assert live.client.delete(url, headers=live.admin).status_code == 204  # and once more, later
    with live.db.session_factory() as session:
        records = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "key.revoked", AuditRecord.entity_id == unit["id"])
        ).all()
    assert [r.changes["key_id"][0] for r in records] == [key["id"]]
