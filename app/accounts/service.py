"""Staff accounts: creation and sign-in."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts import security
from app.accounts.models import User
from app.accounts.schemas import ROLES
from app.errors import Conflict, Unauthorized, ValidationFailed

MIN_PASSWORD_LENGTH = 12


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(["password"], f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")


def create_user(session: Session, email: str, password: str, roles: list[str], full_name: str = "") -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 320:
        raise ValidationFailed(["email"], "Not an e-mail address.")
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValidationFailed(["roles"], f"Roles must be some of {', '.join(ROLES)}.")
    validate_password(password)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise Conflict(f"A user with the e-mail {email} exists already.")
    user = User(
        email=email,
        full_name=full_name,
        password_hash=security.hash_password(password),
        roles=sorted(set(roles)),
    )
    session.add(user)
    session.flush()
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
