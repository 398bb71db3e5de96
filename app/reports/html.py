"""The yearly review as one self-contained HTML page in Vietnamese: Jinja2, inline CSS with a
print stylesheet, and charts as inline SVG (charts.py). Nothing is loaded from outside."""

from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from app.reports.coverage import GAP_LABELS

_environment = Environment(loader=PackageLoader("app.reports", "templates"), autoescape=select_autoescape(["html"]))


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if value is True:
        return "có"
    if value is False:
        return "chưa"
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", " ").replace(".", ",")
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "–"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    return GAP_LABELS.get(str(value), str(value))


_environment.filters["cell"] = _cell


def _charts(name: str, current: dict[str, Any], previous: dict[str, Any], year: int) -> list[dict[str, str]]:
    # matplotlib takes a second to import: only a process that draws a chart pays for it.
    from app.reports import charts

    tables, before = current["tables"], previous["tables"]
    if name == "coverage":
        svg = charts.group_bars(tables["by_group"]["rows"], before["by_group"]["rows"], year)
        return [{"svg": svg, "caption": f"Tài liệu đã xuất bản theo dân tộc, {year - 1} và {year}"}]
    if name == "distribution":
        svg = charts.province_bars(tables["by_province"]["rows"], year)
        return [{"svg": svg, "caption": "Lượt gửi, đã tải và đã xác nhận theo tỉnh (theo dòng kế thừa)"}]
    if name == "production":
        svg = charts.monthly_lines(tables["monthly"]["rows"], before["monthly"]["rows"], year)
        return [{"svg": svg, "caption": f"Tài liệu tạo mới và xuất bản theo tháng, {year - 1} và {year}"}]
    return []


def render_html(review: dict[str, Any]) -> str:
    year = review["year"]
    sections = {
        name: {
            "title": section["title"],
            "current": section[str(year)],
            "charts": _charts(name, section[str(year)], section[str(year - 1)], year),
        }
        for name, section in review["sections"].items()
    }
    return _environment.get_template("yearly.html").render(
        year=year,
        previous_year=review["previous_year"],
        summary=review["tables"]["summary"],
        sections=sections,
        generated_at=datetime.now(UTC).strftime("%d/%m/%Y %H:%M UTC"),
    )
