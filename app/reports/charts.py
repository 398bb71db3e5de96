"""Charts for the yearly page, drawn server-side by matplotlib as inline SVG.

Figure objects are used directly (no pyplot), so nothing global is shared between requests.
Text is drawn as paths in DejaVu Sans (shipped with matplotlib, Vietnamese glyphs included),
so the SVG needs no font on the reader's machine.
"""

import io
import logging

import matplotlib
from matplotlib.figure import Figure

# matplotlib's own INFO lines (fonts found, and the like: 16 per yearly page) are not the
# service's to log.
logging.getLogger("matplotlib").setLevel(logging.WARNING)

CURRENT, PREVIOUS = "#1f5fa8", "#9bb7d8"
FONT = {"font.family": "DejaVu Sans", "font.size": 9, "svg.fonttype": "path", "svg.hashsalt": "ttdn"}


def _svg(figure: Figure) -> str:
    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = out.getvalue()
    return text[text.index("<svg") :]


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure


def group_bars(by_group_current: list[dict], by_group_previous: list[dict], year: int) -> str:
    """Materials per ethnic group, the year against the one before (horizontal bars, 54 rows)."""
    names = [row["name"] for row in by_group_current]
    previous = {row["code"]: row["materials"] for row in by_group_previous}
    with matplotlib.rc_context(FONT):
        figure = _figure(7.5, 0.2 * len(names) + 1)
        axes = figure.add_subplot()
        positions = range(len(names))
        axes.barh(
            [p + 0.2 for p in positions],
            [previous.get(r["code"], 0) for r in by_group_current],
            0.4,
            color=PREVIOUS,
            label=str(year - 1),
        )
        axes.barh(
            [p - 0.2 for p in positions],
            [r["materials"] for r in by_group_current],
            0.4,
            color=CURRENT,
            label=str(year),
        )
        axes.set_yticks(list(positions), names)
        axes.invert_yaxis()
        axes.set_xlabel("Số tài liệu đã xuất bản")
        axes.legend(loc="lower right")
        axes.grid(axis="x", alpha=0.3)
        return _svg(figure)


def province_bars(rows: list[dict], year: int) -> str:
    """Deliveries per province (line of succession), fetched and acknowledged shown inside."""
    names = [row["province"] for row in rows] or ["(không có)"]
    with matplotlib.rc_context(FONT):
        figure = _figure(7.5, 0.3 * len(names) + 1.2)
        axes = figure.add_subplot()
        positions = list(range(len(names)))
        for key, color, label in (
            ("deliveries", PREVIOUS, "Lượt gửi"),
            ("fetched", "#4f8fd0", "Đã tải"),
            ("acknowledged", CURRENT, "Đã xác nhận"),
        ):
            axes.barh(positions, [row[key] for row in rows] or [0], 0.6, color=color, label=label)
        axes.set_yticks(positions, names)
        axes.invert_yaxis()
        axes.set_title(f"Phân phối theo tỉnh, năm {year}")
        axes.legend(loc="lower right")
        axes.grid(axis="x", alpha=0.3)
        return _svg(figure)


def monthly_lines(current: list[dict], previous: list[dict], year: int) -> str:
    """Materials published per month, the year against the one before (lines)."""
    months = list(range(1, 13))
    labels = [f"T{m}" for m in months]
    with matplotlib.rc_context(FONT):
        figure = _figure(7.5, 3.2)
        axes = figure.add_subplot()
        for rows, which, color, style in ((previous, year - 1, PREVIOUS, "--"), (current, year, CURRENT, "-")):
            by_month = {int(row["month"][5:7]): row for row in rows}
            for key, marker, label in (("published", "o", "xuất bản"), ("created", "s", "tạo mới")):
                values = [by_month.get(m, {}).get(key) or 0 for m in months]
                axes.plot(
                    labels,
                    values,
                    style,
                    color=color,
                    marker=marker,
                    alpha=1 if key == "published" else 0.5,
                    label=f"{which}: {label}",
                )
        axes.set_ylabel("Số tài liệu")
        axes.legend(ncols=2, fontsize=8)
        axes.grid(alpha=0.3)
        return _svg(figure)
