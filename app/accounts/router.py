from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.accounts import security, throttle
from app.accounts import service as accounts_service
from app.accounts.deps import AppSettings, Principal, get_principal
from app.accounts.schemas import MeRead, TokenRead
from app.audit import service as audit_service
from app.audit.service import Anonymous
from app.db import DbSession, commit_even_on_error
from app.errors import Unauthorized

router = APIRouter(tags=["accounts"])


@router.post("/auth/token", response_model=TokenRead, operation_id="issue_token")
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: DbSession,
    settings: AppSettings,
) -> TokenRead:
    """Sign in with e-mail and password (OAuth2 password form); returns a short-lived bearer token.
    Repeated failures for an account or from an address are refused for a while (429, Retry-After)."""
    email = accounts_service.normalise_email(form.username)
    ip = request.client.host if request.client else None
    throttle.check_sign_in_allowed(session, email, ip)
    try:
        user = accounts_service.authenticate(session, email, form.password)
    except Unauthorized:
        # The refusal is the one write of this request and must survive its 401.
        audit_service.record(session, Anonymous(email), throttle.SIGN_IN_FAILED, "user", None)
        commit_even_on_error(request)
        raise
    token, expires_in = security.issue_access_token(user.id, settings.secret_key, settings.access_token_minutes)
    return TokenRead(access_token=token, expires_in=expires_in)


@router.get("/me", response_model=MeRead, operation_id="read_me")
def read_me(principal: Annotated[Principal, Depends(get_principal)]) -> MeRead:
    """Who the caller is and which roles they hold."""
    return MeRead(type=principal.type, id=principal.id, label=principal.label, roles=sorted(principal.roles))
