"""The status workflow: which moves are legal, who may make them, and the four-eyes rule."""

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


def legal_targets(status: str) -> list[str]:
    return [to for (frm, to) in MOVES if frm == status]


def check_move(material: Material, to: str, actor: Principal) -> None:
    """Raise Conflict for an illegal move, Forbidden when this actor may not make it."""
    move = MOVES.get((material.status, to))
    if move is None:
        allowed = ", ".join(legal_targets(material.status)) or "none"
        raise Conflict(
            f"A material cannot move from {material.status} to {to}; from {material.status} it can go to: {allowed}.",
            extra={"status_now": material.status, "allowed": legal_targets(material.status)},
        )
    if not actor.roles & move.roles:
        raise Forbidden(f"Moving a material to {to} needs one of the roles: {', '.join(sorted(move.roles))}.")
    if move.four_eyes and actor.id in {material.created_by, material.last_edited_by}:
        raise Forbidden(f"Four eyes: you wrote or last edited this material, so someone else must move it to {to}.")


def check_editable(material: Material) -> None:
    if material.status not in EDITABLE_STATUSES:
        raise Conflict(
            f"A material that is {material.status} cannot be edited; move it back to draft first.",
            extra={"status_now": material.status},
        )
