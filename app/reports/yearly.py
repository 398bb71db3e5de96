"""The yearly review: every report for one calendar year, next to the year before."""

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.reports.coverage import coverage_report
from app.reports.distribution import distribution_report
from app.reports.params import ReportParams, check_year
from app.reports.production import production_report
from app.reports.response import response_report

SECTIONS: dict[str, tuple[str, Callable[[Session, ReportParams], dict[str, Any]]]] = {
    "coverage": ("Độ bao phủ", coverage_report),
    "distribution": ("Phân phối", distribution_report),
    "production": ("Sản xuất tài liệu", production_report),
    "response": ("Phản bác thông tin sai", response_report),
}

Progress = Callable[[str], None]


def year_params(year: int) -> ReportParams:
    return ReportParams(date_from=date(year, 1, 1), date_to=date(year, 12, 31))


def yearly_review(session: Session, year: int, on_step: Progress | None = None) -> dict[str, Any]:
    """{"year", "previous_year", "sections": {name: {"title", str(year): report, str(year - 1): report}},
    "tables": {name: table}}: the flat tables hold both years, a `year` column first."""
    check_year(year, ["query", "year"])
    check_year(year - 1, ["query", "year"])
    sections: dict[str, Any] = {}
    for name, (title, build) in SECTIONS.items():
        sections[name] = {"title": title}
        for which in (year - 1, year):
            if on_step:
                on_step(f"{name} {which}")
            sections[name][str(which)] = build(session, year_params(which))
    return {
        "report": "yearly",
        "year": year,
        "previous_year": year - 1,
        "sections": sections,
        "tables": {"summary": summary_table(sections, year), **flat_tables(sections, year)},
    }


def flat_tables(sections: dict[str, Any], year: int) -> dict[str, Any]:
    """`section.table` -> one table with a `year` column and the rows of both years."""
    flat = {}
    for name, section in sections.items():
        for table_name, current in section[str(year)]["tables"].items():
            previous = section[str(year - 1)]["tables"][table_name]
            flat[f"{name}.{table_name}"] = {
                "title": f"{section['title']}: {current['title']}",
                "columns": [{"key": "year", "label": "Năm"}, *current["columns"]],
                "rows": [{"year": year - 1, **row} for row in previous["rows"]]
                + [{"year": year, **row} for row in current["rows"]],
            }
    return flat


INDICATORS = [
    ("coverage", "summary", "materials", "Tài liệu đã xuất bản"),
    ("coverage", "summary", "languages", "Số ngôn ngữ"),
    ("coverage", "summary", "groups_served", "Số dân tộc có tài liệu"),
    ("distribution", "summary", "bundles_published", "Gói đã phát hành"),
    ("distribution", "summary", "deliveries", "Lượt gửi đến đơn vị"),
    ("distribution", "summary", "share_fetched", "Tỷ lệ đã tải"),
    ("distribution", "summary", "share_acknowledged", "Tỷ lệ đã xác nhận"),
    ("distribution", "summary", "median_hours_to_fetch", "Trung vị giờ đến khi tải"),
    ("production", "workflow_hours", "p50", "Giờ từ nháp đến xuất bản, trung vị"),
    ("production", "workflow_hours", "p90", "Giờ từ nháp đến xuất bản, p90"),
]


def _first_row_value(report: dict[str, Any], table: str, key: str) -> Any:
    rows = report["tables"][table]["rows"]
    return rows[0].get(key) if rows else None


def summary_table(sections: dict[str, Any], year: int) -> dict[str, Any]:
    rows = []
    for section, table, key, label in INDICATORS:
        if section not in sections:
            continue
        previous = _first_row_value(sections[section][str(year - 1)], table, key)
        current = _first_row_value(sections[section][str(year)], table, key)
        change = current - previous if isinstance(current, int | float) and isinstance(previous, int | float) else None
        rows.append({"indicator": key, "label": label, "previous": previous, "current": current, "change": change})
    served = {
        which: sum(
            1 for row in sections["coverage"][str(which)]["tables"]["by_group"]["rows"] if row["served_in_own_language"]
        )
        for which in (year - 1, year)
    }
    rows.insert(
        3,
        {
            "indicator": "groups_served_in_own_language",
            "label": "Số dân tộc có tài liệu bằng tiếng của mình",
            "previous": served[year - 1],
            "current": served[year],
            "change": served[year] - served[year - 1],
        },
    )
    columns = [
        {"key": "indicator", "label": "Chỉ số"},
        {"key": "label", "label": "Nội dung"},
        {"key": "previous", "label": str(year - 1)},
        {"key": "current", "label": str(year)},
        {"key": "change", "label": "Thay đổi"},
    ]
    return {"title": f"Tóm tắt {year} so với {year - 1}", "columns": columns, "rows": rows}


def table_names(review: dict[str, Any]) -> list[str]:
    return list(review["tables"])


def one_table(review: dict[str, Any], name: str | None) -> dict[str, Any]:
    names = table_names(review)
    if not name or name not in names:
        given = "is missing" if not name else f"{name!r} is not a table of the review"
        raise ValidationFailed(["query", "table"], f"table {given}; the tables are: {', '.join(names)}.")
    return review["tables"][name]
