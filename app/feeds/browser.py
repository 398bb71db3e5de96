"""Routes of the unit's feed as pages (HTTP Basic in a browser, no JavaScript needed).

Registered before the JSON feed routes, so that `/feed/bundles/{id}.html` is not read as a
bundle id. The pages carry their own Content-Security-Policy (their inline style by hash, no
script); the rest of the security headers come from the middleware like everywhere else.
"""

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.accounts.deps import AppSettings, BrowserUnit
from app.db import DbSession
from app.feeds import csrf, pages, web
from app.feeds import service as feeds_service
from app.feeds.schemas import AckRequest
from app.urls import API_PREFIX

router = APIRouter(tags=["feeds"])
PAGE_HEADERS = {"Content-Security-Policy": pages.WEB_CSP, "Cache-Control": "no-store", "Vary": "Authorization"}


@router.get("/feed.html", response_class=HTMLResponse, operation_id="get_feed_html")
def get_feed_html(session: DbSession, unit: BrowserUnit) -> HTMLResponse:
    """The calling unit's feed as a page for a browser (HTTP Basic: unit code and key): its
    bundles, urgent first, each linking to its page and its package."""
    return HTMLResponse(web.feed_page(session, unit.id, unit.label), headers=PAGE_HEADERS)


@router.get("/feed/bundles/{bundle_id}.html", response_class=HTMLResponse, operation_id="get_feed_bundle_html")
def get_feed_bundle_html(
    bundle_id: uuid.UUID, request: Request, session: DbSession, settings: AppSettings, unit: BrowserUnit
) -> HTMLResponse:
    """A bundle's page: its materials rendered, its package, and a form to acknowledge it."""
    given = request.cookies.get(csrf.COOKIE)
    nonce = given if csrf.valid_nonce(given) and given else csrf.new_nonce()

    def token_for(version: int) -> str:
        return csrf.issue(settings.secret_key, csrf.Binding(unit.id, bundle_id, version), nonce)

    flash = request.query_params.get("acknowledged") == "1"
    response = HTMLResponse(
        web.bundle_page(session, unit.id, unit.label, bundle_id, token_for, flash), headers=PAGE_HEADERS
    )
    response.set_cookie(
        csrf.COOKIE,
        nonce,
        max_age=csrf.TOKEN_TTL,
        path=web.page_url(bundle_id),
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/feed/bundles/{bundle_id}.html", operation_id="acknowledge_bundle_html", status_code=303)
def acknowledge_bundle_html(
    bundle_id: uuid.UUID,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    unit: BrowserUnit,
    version: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
    token: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    """The page's acknowledge button: recorded exactly as `POST .../ack` with this version, once
    the form's token, the page's cookie and the request's origin check out (403 otherwise)."""
    feeds_service.visible_publication(session, unit.id, bundle_id)  # 404 / 410 before the form's checks
    csrf.check(request, settings.secret_key, csrf.Binding(unit.id, bundle_id, version or 0), token)
    feeds_service.acknowledge(session, settings, unit, bundle_id, AckRequest(version=version))
    return RedirectResponse(f"{web.page_url(bundle_id)}?acknowledged=1", status_code=303)


# The unit's pages, where a person with a browser meets a refusal, a recalled bundle or a wrong
# address: app/wiring.py registers `problem_page` for them (errors.problem_pages).
PAGE_PATHS = re.compile(re.escape(API_PREFIX) + r"/feed(/bundles/[^/]+)?\.html")
HEADINGS = {
    401: "Cần đăng nhập bằng mã đơn vị và khoá truy cập",
    403: "Không được phép",
    404: "Không tìm thấy",
    410: "Gói tài liệu đã bị thu hồi hoặc hết hạn",
    422: "Yêu cầu không hợp lệ",
}


def problem_page(body: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A problem on the unit's pages, as a page in the pages' style (its detail is the service's
    own words, in English; the heading says what happened in Vietnamese)."""
    status = int(body.get("status", 500))
    html = pages.render_page(
        "web_problem.html",
        lang="vi",
        title=HEADINGS.get(status, body.get("title", "Lỗi")),
        offline=False,
        heading=HEADINGS.get(status, body.get("title", "Lỗi")),
        detail=body.get("detail", ""),
        status=status,
        request_id=body.get("request_id"),
        feed_url=f"{API_PREFIX}/feed.html",
    )
    return html, {"Content-Security-Policy": pages.WEB_CSP, "Cache-Control": "no-store"}
