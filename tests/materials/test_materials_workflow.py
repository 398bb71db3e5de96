"""The status workflow: legal moves, who may make them, four eyes, publication time."""

import pytest

from app.accounts.models import User
from tests.factories import make_material


def move(client, headers, material_id, to):
    return client.post(f"/api/v1/materials/{material_id}/transitions", json={"to": to}, headers=headers)


@pytest.fixture
def draft(session, users):
    material = make_material(session, users["editor"])
    session.commit()
    return material


def test_full_path_to_publication(client, auth, draft):
    assert move(client, auth("editor"), draft.id, "in_review").status_code == 200
    assert move(client, auth("reviewer"), draft.id, "approved").status_code == 200
    published = move(client, auth("reviewer"), draft.id, "published")
    assert published.status_code == 200
    body = published.json()
    assert body["status"] == "published" and body["published_at"] is not None and body["version"] == 4
    revisions = client.get(f"/api/v1/materials/{draft.id}/revisions", headers=auth("analyst")).json()["items"]
    assert [r["change"] for r in revisions] == [
        "created",
        "transition:in_review",
        "transition:approved",
        "transition:published",
    ]


def test_a_transition_sent_with_if_match_applies_to_that_version_only(client, auth, draft):
    """A reviewer who approves what they read: an edit made since is a 412, not approved unseen."""
    url = f"/api/v1/materials/{draft.id}"
    submitted = move(client, auth("editor"), draft.id, "in_review")
    read = submitted.headers["etag"]
    edited = client.patch(url, json={"summary": "Sửa sau khi gửi duyệt"}, headers={**auth("editor"), "If-Match": read})
    assert edited.status_code == 200
    stale = client.post(f"{url}/transitions", json={"to": "approved"}, headers={**auth("reviewer"), "If-Match": read})
    assert stale.status_code == 412 and stale.json()["current_version"] == edited.json()["version"]
    current = {**auth("reviewer"), "If-Match": edited.headers["etag"]}
    assert client.post(f"{url}/transitions", json={"to": "approved"}, headers=current).status_code == 200


@pytest.mark.parametrize("to", ["approved", "published", "archived", "draft", "nonsense"])
def test_illegal_moves_from_draft(client, auth, draft, to):
    response = move(client, auth("admin"), draft.id, to)
    assert response.status_code == (422 if to == "nonsense" else 409)
    assert response.headers["content-type"].startswith("application/problem+json")


def test_editor_cannot_approve(client, auth, draft):
    move(client, auth("editor"), draft.id, "in_review")
    assert move(client, auth("editor2"), draft.id, "approved").status_code == 403


def test_analyst_moves_nothing(client, auth, draft):
    assert move(client, auth("analyst"), draft.id, "in_review").status_code == 403


def test_four_eyes_author_cannot_approve_own_work(client, auth, session, users):
    material = make_material(session, users["admin"])
    session.commit()
    assert move(client, auth("admin"), material.id, "in_review").status_code == 200
    refused = move(client, auth("admin"), material.id, "approved")
    assert refused.status_code == 403
    assert "Four eyes" in refused.json()["detail"]
    assert move(client, auth("reviewer"), material.id, "approved").status_code == 200


def test_four_eyes_last_editor_cannot_approve(client, auth, draft, users):
    move(client, auth("editor"), draft.id, "in_review")
    url = f"/api/v1/materials/{draft.id}"
    etag = client.get(url, headers=auth("admin")).headers["etag"]
    # An admin edits while in review: now the admin may not approve, a reviewer may.
    assert client.patch(url, json={"summary": "Sửa"}, headers={**auth("admin"), "If-Match": etag}).status_code == 200
    assert move(client, auth("admin"), draft.id, "approved").status_code == 403
    assert move(client, auth("reviewer"), draft.id, "approved").status_code == 200
    # Approving is not editing: the same reviewer may publish.
    assert move(client, auth("reviewer"), draft.id, "published").status_code == 200


def test_approved_material_is_not_editable_until_back_in_draft(client, auth, session, users):
    material = make_material(session, users["editor"], status="approved")
    session.commit()
    url = f"/api/v1/materials/{material.id}"
    etag = client.get(url, headers=auth("editor")).headers["etag"]
    response = client.patch(url, json={"title": "Sửa"}, headers={**auth("editor"), "If-Match": etag})
    assert response.status_code == 409
    assert move(client, auth("editor"), material.id, "draft").status_code == 200


def test_archive_and_revive(client, auth, session, users):
    material = make_material(session, users["editor"], status="published")
    session.commit()
    assert move(client, auth("editor"), material.id, "archived").status_code == 403
    assert move(client, auth("reviewer"), material.id, "archived").status_code == 200
    assert move(client, auth("editor"), material.id, "draft").status_code == 200


def test_scheduled_publication_keeps_publish_at(client, auth, session, users):
    material = make_material(session, users["editor"], status="approved", publish_at="2099-01-01T08:00:00Z")
    session.commit()
    body = move(client, auth("reviewer"), material.id, "published").json()
    assert body["published_at"].startswith("2099-01-01T08:00:00")


@pytest.fixture
def editor_reviewer(session, auth, users):
    """One person with both roles: the case the four-eyes rule is about."""
    person = User(email="both@example.test", password_hash="!", roles=["editor", "reviewer"], full_name="both")
    session.add(person)
    session.commit()
    users["both"] = person
    return auth("both")


def edit(client, headers, material_id, **fields):
    url = f"/api/v1/materials/{material_id}"
    etag = client.get(url, headers=headers).headers["etag"]
    response = client.patch(url, json=fields, headers={**headers, "If-Match": etag})
    assert response.status_code == 200, response.text


def test_four_eyes_counts_every_writer_since_the_last_approval_not_just_the_last(client, auth, draft, editor_reviewer):
    edit(client, editor_reviewer, draft.id, body="Thân bài do người vừa biên tập vừa duyệt viết.")
    edit(client, auth("editor2"), draft.id, title="Tiêu đề do người khác sửa lần cuối")
    assert move(client, auth("editor"), draft.id, "in_review").status_code == 200
    refused = move(client, editor_reviewer, draft.id, "approved")
    assert refused.status_code == 403 and "Four eyes" in refused.json()["detail"]
    assert client.get(f"/api/v1/materials/{draft.id}", headers=auth("analyst")).json()["status"] == "in_review"
    assert move(client, auth("reviewer"), draft.id, "approved").status_code == 200
    # Nor may they publish what they wrote part of, now someone else has approved it.
    refused = move(client, editor_reviewer, draft.id, "published")
    assert refused.status_code == 403 and "Four eyes" in refused.json()["detail"]
    assert move(client, auth("reviewer2"), draft.id, "published").status_code == 200


def test_four_eyes_a_bounce_without_edits_does_not_clear_the_writer(client, auth, draft, editor_reviewer):
    edit(client, editor_reviewer, draft.id, summary="Tóm tắt của người vừa biên tập vừa duyệt.")
    edit(client, auth("editor2"), draft.id, title="Sửa cuối")
    move(client, auth("editor"), draft.id, "in_review")
    assert move(client, auth("reviewer"), draft.id, "approved").status_code == 200
    assert move(client, auth("editor"), draft.id, "draft").status_code == 200
    assert move(client, auth("editor"), draft.id, "in_review").status_code == 200
    # Nothing was written since, so the text is still partly theirs.
    assert move(client, editor_reviewer, draft.id, "approved").status_code == 403


def test_four_eyes_work_approved_by_someone_else_no_longer_binds_its_writer(
    client, auth, session, users, editor_reviewer
):
    material = make_material(session, users["editor"])
    session.commit()
    edit(client, editor_reviewer, material.id, body="Bản đầu, đã được người khác duyệt.")
    move(client, auth("editor"), material.id, "in_review")
    assert move(client, auth("reviewer"), material.id, "approved").status_code == 200
    assert move(client, auth("reviewer"), material.id, "published").status_code == 200
    # Withdrawn for a correction that someone else writes: the correction is what is reviewed now.
    assert move(client, auth("reviewer"), material.id, "draft").status_code == 200
    edit(client, auth("editor2"), material.id, summary="Đính chính")
    move(client, auth("editor2"), material.id, "in_review")
    assert move(client, editor_reviewer, material.id, "approved").status_code == 200
    assert move(client, auth("editor2"), material.id, "published").status_code == 403  # not a reviewer
    assert move(client, auth("reviewer"), material.id, "published").status_code == 200


def test_four_eyes_an_attachment_is_part_of_the_work(client, auth, draft, editor_reviewer):
    uploaded = client.post(
        f"/api/v1/materials/{draft.id}/attachments",
        files={"file": ("ghi-chu.txt", "Tệp đính kèm".encode(), "text/plain")},
        headers=editor_reviewer,
    )
    assert uploaded.status_code == 201, uploaded.text
    edit(client, auth("editor2"), draft.id, title="Sửa cuối")
    move(client, auth("editor"), draft.id, "in_review")
    assert move(client, editor_reviewer, draft.id, "approved").status_code == 403
    assert move(client, auth("reviewer"), draft.id, "approved").status_code == 200
