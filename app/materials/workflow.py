"""The status workflow: which moves are legal, who may make them, and the four-eyes rule."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from app.accounts.principal import Principal
from app.errors import Conflict, Forbidden
from app.materials.models import Material

EDITING = frozenset({"admin", "editor"})
REVIEWING = frozenset({"admin", "reviewer"})
EDITING_OR_REVIEWING = EDITING | REVIEWING


@dataclass(frozen=True)
class Move:
    roles: frozenset[str]
    four_eyes: bool = False


# (from, to) -> who may make the move. Anything not listed is an illegal move (409).
MOVES: dict[tuple[str, str], Move] = {
    ("draft", "in_review"): Move(EDITING),
    ("in_review", "draft"): Move(EDITING_OR_REVIEWING),  # withdrawn, or sent back
    ("in_review", "approved"): Move(REVIEWING, four_eyes=True),
    ("approved", "published"): Move(REVIEWING, four_eyes=True),
    ("approved", "draft"): Move(EDITING_OR_REVIEWING),
    ("published", "draft"): Move(REVIEWING),  # withdrawn for correction
    ("published", "archived"): Move(REVIEWING),
    ("approved", "archived"): Move(REVIEWING),
    ("archived", "draft"): Move(EDITING),
}

EDITABLE_STATUSES = frozenset({"draft", "in_review"})
# The revision `change` of an approval; every change not starting with "transition:" is content.
APPROVED = "transition:approved"


def legal_targets(status: str) -> list[str]:
    return [to for (frm, to) in MOVES if frm == status]


def content_contributors(history: Sequence[tuple[int, str, uuid.UUID | None]]) -> set[uuid.UUID]:
    """Everyone who wrote any part of the content now awaiting approval or publication, from the
    revisions (version, change, saved_by): the authors of every content change made after the
    last approval that came before the latest content change.

    So an approval that someone else made after my edit does not clear me for the next round
    (nothing was written since, the content is still mine), and an approval made before my edits
    does not hide them (an editor-reviewer cannot approve a body they wrote because another
    editor touched the title last)."""
    ordered = sorted(history, key=lambda row: row[0])
    content = [row for row in ordered if not row[1].startswith("transition:")]
    if not content:
        return set()
    last_edit = content[-1][0]
    approvals = [version for version, change, _ in ordered if change == APPROVED and version < last_edit]
    since = approvals[-1] if approvals else 0
    return {saved_by for version, _, saved_by in content if version > since and saved_by is not None}


def check_move(material: Material, to: str, actor: Principal, contributors: set[uuid.UUID] | None = None) -> None:
    """Raise Conflict for an illegal move, Forbidden when this actor may not make it.
    `contributors` are the writers of the content under review (see content_contributors)."""
    move = MOVES.get((material.status, to))
    if move is None:
        allowed = ", ".join(legal_targets(material.status)) or "none"
        raise Conflict(
            f"A material cannot move from {material.status} to {to}; from {material.status} it can go to: {allowed}.",
            extra={"status_now": material.status, "allowed": legal_targets(material.status)},
        )
    if not actor.roles & move.roles:
        raise Forbidden(f"Moving a material to {to} needs one of the roles: {', '.join(sorted(move.roles))}.")
    writers = {material.created_by, material.last_edited_by} | (contributors or set())
    if move.four_eyes and actor.id in writers:
        raise Forbidden(
            f"Four eyes: you wrote part of this material since its last approval, so someone else must move it to {to}."
        )


def check_editable(material: Material) -> None:
    if material.status not in EDITABLE_STATUSES:
        raise Conflict(
            f"A material that is {material.status} cannot be edited; move it back to draft first.",
            extra={"status_now": material.status},
        )
