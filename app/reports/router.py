"""GET /reports/... (mounted under /api/v1): admin and analyst only; read-only."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from app import negotiation
from app.accounts.deps import AuditReader
from app.db import DbSession
from app.reports import exports, yearly
from app.reports.coverage import coverage_report
from app.reports.distribution import distribution_report
from app.reports.html import render_html
from app.reports.params import ReportParamsDep
from app.reports.production import production_report
from app.reports.response import response_report

router = APIRouter(tags=["reports"])

ReportBody = dict[str, Any]


# What the yearly review is offered as, in the order that wins a tie (JSON when anything goes).
YEARLY_TYPES = ("application/json", "text/html", "text/csv", exports.XLSX_TYPE)


@router.get("/reports/coverage", response_model=ReportBody, operation_id="report_coverage")
def report_coverage(session: DbSession, _: AuditReader, params: ReportParamsDep) -> Any:
    """Materials published in the period by ethnic group (all 54, zeros included), with their
    languages, kinds, topics and routes; whether each group has anything in its own language
    (a published translation counts); materials per 100,000 people (2019 census); and the gaps,
    ranked: groups with nothing, groups with nothing in their own language, provinces and routes
    whose units received nothing."""
    return jsonable_encoder(coverage_report(session, params))


@router.get("/reports/distribution", response_model=ReportBody, operation_id="report_distribution")
def report_distribution(
    session: DbSession,
    _: AuditReader,
    params: ReportParamsDep,
    silent_days: Annotated[int, Query(ge=1, le=3650, description="Units silent for this many days are listed")] = 30,
) -> Any:
    """Bundles published, deliveries, the share fetched and acknowledged and the median hours to
    fetch and to acknowledge, by province (whole lines of succession, named after today's
    province), border route and unit type; and the active units silent for `silent_days`."""
    return jsonable_encoder(distribution_report(session, params, silent_days))


@router.get("/reports/response", response_model=ReportBody, operation_id="report_response")
def report_response(session: DbSession, _: AuditReader, params: ReportParamsDep) -> Any:
    """False information in the period (claims first reported then): claims by status and by
    severity, hours from the first report to the rebuttal and to its delivery (p50, p90) by
    border route, severity and month, and the claims past their deadline."""
    return jsonable_encoder(response_report(session, params))


@router.get("/reports/production", response_model=ReportBody, operation_id="report_production")
def report_production(session: DbSession, _: AuditReader, params: ReportParamsDep) -> Any:
    """Materials created and published per month, by kind, language and topic, and the hours from
    the first draft to publication (p50, p90), overall and by kind."""
    return jsonable_encoder(production_report(session, params))


@router.get(
    "/reports/yearly",
    response_model=ReportBody,
    operation_id="report_yearly",
    responses={
        200: {
            "content": {
                "text/html": {},
                "text/csv": {},
                exports.XLSX_TYPE: {},
            }
        }
    },
)
def report_yearly(
    request: Request,
    session: DbSession,
    _: AuditReader,
    year: Annotated[int, Query(ge=1, le=9999, description="The calendar year; the year before is shown next to it")],
    table: Annotated[str | None, Query(description="For text/csv: which table (the JSON lists them)")] = None,
) -> Response:
    """The yearly review: every report for `year` next to `year - 1`. JSON by default;
    `Accept: text/html` gives one self-contained page with charts, `text/csv` one table
    (`table=`), and the XLSX media type a workbook with one sheet per table."""
    media_type = negotiation.choose(request.headers.get("accept"), YEARLY_TYPES)
    review = yearly.yearly_review(session, yearly.check_year(year, ["query", "year"]))
    if media_type == exports.XLSX_TYPE:
        return Response(exports.review_xlsx(review), media_type=exports.XLSX_TYPE, headers=_download(year, "xlsx"))
    if media_type == "text/csv":
        chosen = yearly.one_table(review, table)
        headers = _download(f"{year}-{table}", "csv")  # one name per table: several land in one folder
        return Response(exports.table_csv(chosen), media_type="text/csv; charset=utf-8", headers=headers)
    if media_type == "text/html":
        return Response(render_html(review), media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)
    return JSONResponse(jsonable_encoder(review), headers=VARY)


# One URL, four representations chosen by Accept: a cache must keep them apart.
VARY = {"Vary": "Accept"}
# The page has no script; its styles are inline (a <style> element, and the style attributes of
# the SVG charts matplotlib draws), which the strict default policy would block. Nothing else
# may load.
PAGE_HEADERS = {
    **VARY,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
}


def _download(name: object, extension: str) -> dict[str, str]:
    """A download named after the review (and its table): ASCII letters, digits, '-', '_' and '.'."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", str(name))
    return {**VARY, "Content-Disposition": f'attachment; filename="bao-cao-nam-{safe}.{extension}"'}
