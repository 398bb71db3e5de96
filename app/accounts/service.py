"""Staff accounts: creation and sign-in."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from app import concurrency
from app.accounts import security, token_cache
from app.accounts.models import User
from app.accounts.schemas import ROLES
from app.audit import service as audit_service
from app.audit.service import Actor
from app.db import get_row
from app.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from app.organisations import service as organisations_service
from app.organisations.models import Organisation
from app.pagination import decode_id_cursor, id_page, page_size

MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn: 0 (trivial) to 4 (strong)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_password(password: str, hints: list[str] | None = None, field: str = "password") -> None:
    """At least MIN_PASSWORD_LENGTH characters, and not guessable: zxcvbn knows the 30,000 most
    common passwords, keyboard walks, dates and words, and scores what is left."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(["body", field], f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if zxcvbn(password[:100], user_inputs=hints or [])["score"] < MIN_PASSWORD_SCORE:
        raise ValidationFailed(
            ["body", field], "This password is too easy to guess (a common password or common words)."
        )


def create_user(
    session: Session,
    email: str,
    password: str,
    roles: list[str],
    full_name: str = "",
    actor: Actor | None = None,
    organisation_id: uuid.UUID | None = None,
) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 320:
        raise ValidationFailed(["body", "email"], "Not an e-mail address.")
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValidationFailed(["body", "roles"], f"Roles must be some of {', '.join(ROLES)}.")
    validate_password(password, [email.split("@")[0], full_name])
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise Conflict(f"A user with the e-mail {email} exists already.")
    if organisation_id is not None:
        organisations_service.check_exists(session, [organisation_id], ["body", "organisation_id"])
    user = User(
        organisation_id=organisation_id,
        email=email,
        full_name=full_name,
        password_hash=security.hash_password(password),
        roles=sorted(set(roles)),
    )
    session.add(user)
    session.flush()
    audit_service.record(session, actor, "user.created", "user", user.id, audit_service.diff({}, user_snapshot(user)))
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    ok = security.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        raise Unauthorized("Wrong e-mail or password.")
    return user


def get_active_user(session: Session, user_id: uuid.UUID) -> User | None:
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def get_user(session: Session, user_id: uuid.UUID, *, lock: bool = False) -> User:
    user = get_row(session, User, user_id, lock=lock)  # lock: for a write (see db.get_row)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def user_snapshot(user: User) -> dict[str, object]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "roles": list(user.roles),
        "active": user.active,
        "organisation_id": str(user.organisation_id) if user.organisation_id else None,
    }


def update_user(
    session: Session, user_id: uuid.UUID, changes: dict[str, object], actor: Actor, if_match: str | None
) -> User:
    """Change roles, name, active flag or password. Admins cannot disable or demote themselves,
    so the service can never be left without an admin by accident."""
    user = get_user(session, user_id, lock=True)
    concurrency.check_if_match(user, if_match, "user")
    before = user_snapshot(user)
    if user.id == actor.id and (
        changes.get("active") is False or ("roles" in changes and "admin" not in changes["roles"])
    ):
        raise Conflict("You cannot disable yourself or remove your own admin role; ask another admin.")
    if "roles" in changes:
        roles = changes["roles"]
        if not roles or any(r not in ROLES for r in roles):
            raise ValidationFailed(["body", "roles"], f"Roles must be some of {', '.join(ROLES)}.")
        user.roles = sorted(set(roles))
    if "password" in changes:
        validate_password(str(changes["password"]), [user.email.split("@")[0], user.full_name])
        user.password_hash = security.hash_password(str(changes["password"]))
    if changes.get("organisation_id") is not None:
        organisation_id = uuid.UUID(str(changes["organisation_id"]))
        organisations_service.check_exists(session, [organisation_id], ["body", "organisation_id"])
    if "password" in changes or (changes.get("active") is False and user.active):
        user.token_generation += 1  # every token issued before is refused from now on
    token_cache.forget_user_on_commit(session, user.id)  # roles, active flag, generation
    for name in ("full_name", "active", "organisation_id"):
        if name in changes:
            setattr(user, name, changes[name])
    user.version += 1
    session.flush()
    after = user_snapshot(user)
    diff = audit_service.diff(before, after)
    if "password" in changes:
        diff["password"] = ["(set)", "(changed)"]
    audit_service.record(session, actor, "user.updated", "user", user.id, diff)
    return user


def password_matches(session: Session, user_id: uuid.UUID, password: str) -> bool:
    user = get_active_user(session, user_id)
    return security.verify_password(user.password_hash if user else None, password) and user is not None


def change_own_password(
    session: Session, user_id: uuid.UUID, current_password: str, new_password: str, actor: Actor
) -> User:
    """Set the caller's new password and refuse every token issued before. Audited without the
    secret. The caller checked `current_password` already (counting a wrong one as a failed
    sign-in); it is checked again here, on the row locked for this write, so that of two changes
    sent at once with the same current password only the first passes."""
    user = get_user(session, user_id, lock=True)
    if not security.verify_password(user.password_hash, current_password):
        raise ValidationFailed(["body", "current_password"], "The current password is wrong.")
    validate_password(new_password, [user.email.split("@")[0], user.full_name], field="new_password")
    if security.verify_password(user.password_hash, new_password):
        raise ValidationFailed(["body", "new_password"], "The new password must differ from the current one.")
    user.password_hash = security.hash_password(new_password)
    user.token_generation += 1
    token_cache.forget_user_on_commit(session, user.id)
    user.version += 1
    session.flush()
    audit_service.record(session, actor, "user.password_changed", "user", user.id, {"password": ["(set)", "(changed)"]})
    return user


def list_users(session: Session, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    query = select(User).order_by(User.id).limit(page_size(limit))
    if cursor:
        query = query.where(User.id > decode_id_cursor(cursor, User))
    return id_page(list(session.scalars(query)), limit)


def refuse_deleting_staffed_organisation(session: Session, organisation: Organisation) -> None:
    """Registered by app/wiring.py: an organisation staff belong to is not deleted."""
    staff = session.scalar(select(func.count()).select_from(User).where(User.organisation_id == organisation.id))
    if staff:
        raise Conflict(f"{staff} staff user(s) belong to organisation {organisation.code}; move them first.")
