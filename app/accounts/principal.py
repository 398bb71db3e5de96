"""Who is acting: a staff user or a border unit. Services take a Principal; only
`accounts/deps.py` (the HTTP edge) builds one from a request's credentials."""

import uuid
from dataclasses import dataclass, field
from typing import Literal

STAFF_ROLES = frozenset({"admin", "editor", "reviewer", "analyst"})


@dataclass(frozen=True)
class Principal:
    type: Literal["user", "unit"]
    id: uuid.UUID
    label: str
    roles: frozenset[str] = field(default_factory=frozenset)
    # For a border unit: its type (border_guard_post, police, ...), for metrics and logs.
    unit_type: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.type == "user"
