import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from app import concurrency
from app.accounts import security, throttle
from app.accounts import service as accounts_service
from app.accounts.deps import AdminUser, AppSettings, Principal, StaffUser, get_principal
from app.accounts.schemas import MeRead, PasswordChange, TokenRead, UserCreate, UserPage, UserRead, UserUpdate
from app.concurrency import IfMatch
from app.db import DbSession, ReadingSession
from app.errors import Unauthorized, ValidationFailed
from app.pagination import Limit

router = APIRouter(tags=["accounts"])


class SignInForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form, with an empty or missing password read as a wrong one (401,
    counted like any failed sign-in) rather than a malformed request (422)."""

    def __init__(
        self,
        username: Annotated[str, Form()],
        password: Annotated[str, Form(json_schema_extra={"format": "password"})] = "",
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        scope: Annotated[str, Form()] = "",
    ) -> None:
        super().__init__(username=username, password=password, grant_type=grant_type, scope=scope)


@router.post("/auth/token", response_model=TokenRead, operation_id="issue_token")
def issue_token(
    form: Annotated[SignInForm, Depends()],
    request: Request,
    session: ReadingSession,
    settings: AppSettings,
) -> TokenRead:
    """Sign in with e-mail and password (OAuth2 password form); returns a short-lived bearer token.
    Every attempt is counted before the password is checked; past the limits (per account and
    address, per address, and per account from addresses it never used) sign-in is refused for a
    while (429, Retry-After)."""
    email = accounts_service.normalise_email(form.username)
    charged = throttle.charge(session, email, throttle.address_of(request.client.host if request.client else None))
    try:
        user = accounts_service.authenticate(session, email, form.password)
    except Unauthorized:
        throttle.record_failure(session, email)
        raise
    throttle.give_back(session, charged)
    token, expires_in = security.issue_access_token(
        user.id, settings.secret_key or "", settings.access_token_minutes, user.token_generation
    )
    return TokenRead(access_token=token, expires_in=expires_in)


@router.post("/me/password", status_code=204, operation_id="change_my_password")
def change_my_password(data: PasswordChange, request: Request, session: DbSession, actor: StaffUser) -> Response:
    """Change your own password: `current_password` proves it is you (a wrong one is counted like
    a failed sign-in), `new_password` must pass the strength check. Every token issued before,
    this one included, is refused afterwards: sign in again with the new password."""
    address = throttle.address_of(request.client.host if request.client else None)
    charged = throttle.charge(session, actor.label, address)
    if not accounts_service.password_matches(session, actor.id, data.current_password):
        throttle.record_failure(session, actor.label)
        raise ValidationFailed(["body", "current_password"], "The current password is wrong.")
    throttle.give_back(session, charged)
    accounts_service.change_own_password(session, actor.id, data.current_password, data.new_password, actor)
    return Response(status_code=204)


@router.get("/me", response_model=MeRead, operation_id="read_me")
async def read_me(principal: Annotated[Principal, Depends(get_principal)]) -> MeRead:
    """Who the caller is and which roles they hold."""
    return MeRead(type=principal.type, id=principal.id, label=principal.label, roles=sorted(principal.roles))


@router.post("/users", status_code=201, response_model=UserRead, operation_id="create_user")
def create_user(data: UserCreate, session: DbSession, actor: AdminUser, response: Response) -> UserRead:
    """Create a staff account (admins)."""
    user = accounts_service.create_user(
        session, data.email, data.password, list(data.roles), data.full_name, actor, data.organisation_id
    )
    return concurrency.created(response, f"/users/{user.id}", user, UserRead)


@router.get("/users", response_model=UserPage, operation_id="list_users")
def list_users(session: DbSession, _: AdminUser, limit: Limit = 20, cursor: str | None = None) -> UserPage:
    """Staff accounts (admins)."""
    users, next_cursor = accounts_service.list_users(session, limit, cursor)
    return UserPage(items=[UserRead.model_validate(u) for u in users], next_cursor=next_cursor)


@router.get("/users/{user_id}", response_model=UserRead, operation_id="get_user")
def get_user(user_id: uuid.UUID, session: DbSession, _: AdminUser, response: Response) -> UserRead:
    """One staff account (admins)."""
    return concurrency.tagged(response, accounts_service.get_user(session, user_id), UserRead)


@router.patch("/users/{user_id}", response_model=UserRead, operation_id="update_user")
def update_user(
    user_id: uuid.UUID,
    data: UserUpdate,
    session: DbSession,
    actor: AdminUser,
    response: Response,
    if_match: IfMatch = None,
) -> UserRead:
    """Change roles, name or password, disable (`active: false`) or re-enable (admins; If-Match)."""
    changes = data.model_dump(exclude_unset=True)
    for name in ("roles", "active", "full_name", "password"):
        if name in changes and changes[name] is None:
            raise ValidationFailed(["body", name], f"{name} cannot be null.")
    user = accounts_service.update_user(session, user_id, changes, actor, if_match)
    return concurrency.tagged(response, user, UserRead)
