"""Response: how fast false information was answered. The figures come from the claims
domain's own aggregates (app/claims/reports.py, computed in SQL); this turns them into the
report's tables."""

from typing import Any

from sqlalchemy.orm import Session

from app.claims import reports as claims_reports
from app.reports.params import ReportParams
from app.reports.tables import table

STATUS_COLUMNS = [("status", "Trạng thái"), ("claims", "Số tin sai")]
SEVERITY_COLUMNS = [("severity", "Mức độ"), ("claims", "Số tin sai")]
TIME_COLUMNS = [
    ("dimension", "Theo"),
    ("value", "Giá trị"),
    ("count", "Số tin sai"),
    ("p50", "p50 (giờ)"),
    ("p90", "p90 (giờ)"),
]
OVERDUE_COLUMNS = [
    ("claim_id", "Mã"),
    ("title", "Tiêu đề"),
    ("severity", "Mức độ"),
    ("status", "Trạng thái"),
    ("deadline_at", "Hạn xử lý"),
    ("hours_overdue", "Quá hạn (giờ)"),
]


def response_report(session: Session, params: ReportParams) -> dict[str, Any]:
    summary = claims_reports.response_summary(
        session, params.start, params.end, params.border_routes or None, params.provinces or None
    )
    by_status = [{"status": k, "claims": v} for k, v in sorted(summary["claims_by_status"].items())]
    by_severity = [{"severity": k, "claims": v} for k, v in sorted(summary["claims_by_severity"].items())]
    tables = {
        "claims_by_status": table("Tin sai theo trạng thái", STATUS_COLUMNS, by_status),
        "claims_by_severity": table("Tin sai theo mức độ", SEVERITY_COLUMNS, by_severity),
        "time_to_rebuttal": table("Thời gian đến khi bác bỏ", TIME_COLUMNS, summary["time_to_rebuttal_hours"]),
        "time_to_delivery": table("Thời gian đến khi gửi tới đơn vị", TIME_COLUMNS, summary["time_to_delivery_hours"]),
        "overdue": table("Tin sai quá hạn xử lý", OVERDUE_COLUMNS, summary["overdue"]),
    }
    return {"report": "response", "parameters": params.as_dict(), "tables": tables}
