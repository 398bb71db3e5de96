"""The yearly review as CSV (one table) and as an XLSX workbook (one sheet per table, openpyxl)."""

import csv
import io
from datetime import datetime
from typing import Any

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NAME_MAX = 31  # Excel's limit


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _csv_cell(value: Any) -> Any:
    """As `_cell`; a yes/no as the JSON gives it (true, false), not Python's True and False."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _cell(value)


def table_csv(table: dict[str, Any]) -> str:
    """Header row of column keys, then the rows; lists joined with commas (RFC 4180 quoting)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    keys = [column["key"] for column in table["columns"]]
    writer.writerow(keys)
    writer.writerows([_csv_cell(row.get(key)) for key in keys] for row in table["rows"])
    return out.getvalue()


def _sheet_name(name: str, used: set[str]) -> str:
    base = name.replace(".", " ")[:SHEET_NAME_MAX]
    candidate, n = base, 2
    while candidate in used:
        suffix = f" {n}"
        candidate, n = base[: SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
    used.add(candidate)
    return candidate


def review_xlsx(review: dict[str, Any]) -> bytes:
    """One sheet per table: its title, the Vietnamese column labels, then the rows."""
    # openpyxl takes a second to import: only a process that writes a workbook pays for it.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for name, table in review["tables"].items():
        sheet = workbook.create_sheet(_sheet_name(name, used))
        sheet.append([table["title"]])
        sheet["A1"].font = Font(bold=True, size=13)
        keys = [column["key"] for column in table["columns"]]
        sheet.append([column["label"] for column in table["columns"]])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table["rows"]:
            sheet.append([_cell(row.get(key)) for key in keys])
        sheet.freeze_panes = "A3"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
