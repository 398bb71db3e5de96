"""bench/RESULTS.md from the measures of one run (bench/run.py writes it).

Everything is regenerated except the marked sections (see KEPT_SECTION): the hand-written
analysis (what was changed for speed, where the time goes), which a run cannot measure, and the
sections other benchmarks write into the same file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import Measure

SECTIONS = (
    ("1. Import through `ttdn import` (PostgreSQL + Elasticsearch)", ("import_pg_es_docs_per_s",)),
    ("2. Search through the API vs straight to Elasticsearch", ("search_pg_es_p50_ms", "search_pg_es_p95_ms")),
    ("3. Search on the embedded SQLite + database backend", ("search_sqlite_p50_ms", "search_sqlite_p95_ms")),
    ("4. `ttdn reindex`", ("reindex_docs_per_s",)),
    ("5. Server peak memory during 2 and 3", ("server_peak_rss_pg_es_mb", "server_peak_rss_sqlite_mb")),
    (
        "6. Authenticated request overhead",
        (
            "auth_unit_key_me_rps",
            "auth_staff_token_me_rps",
            "auth_unit_key_border_routes_rps",
            "auth_staff_token_border_routes_rps",
        ),
    ),
)

HEADER = """# Benchmarks

Written by `make bench` (`scripts/run-bench.sh`, which starts PostgreSQL and Elasticsearch with the
repository's scripts, generates the corpus when missing and runs `.venv/bin/python -m bench.run`).
Every baseline was measured in the same run, on the same machine, with the same client. Timings
live here, never in tests. Raw figures: `bench/results.json`.
"""

CAVEATS = """## Caveats

- **Two cores are shared by everything**: the load generator or benchmark client, the server,
  PostgreSQL and Elasticsearch (512 MB heap, single node) all run on the same 2-core machine.
  Figures are comparable within a run, not with a production cluster.
- Import and reindex rates are wall time of the whole `ttdn` command (process start included).
  The raw `_bulk` baseline only measures Elasticsearch: the documents are built and serialised
  before its clock starts, and nothing is written to PostgreSQL. `ttdn import` does much more per
  document (validation, tag resolution, the material, its tags, its first revision and its outbox
  row in PostgreSQL, folding its text and sending it to Elasticsearch, the last two while the next
  batch is written), on the same two cores that Elasticsearch indexes with.
- The direct search baseline replays the requests the application itself sent for the same API
  queries (recorded through a wrapped Elasticsearch client), so both sides run the same search;
  the run checks that both report the same totals for every query. The API side adds the staff
  token check, filter resolution, reading the 20 materials from PostgreSQL, highlighting, facet
  names and JSON rendering.
- Latency percentiles are nearest-rank over every timed request (3 passes of the 200 queries after
  a warm-up pass); one run, no repetitions across runs.
- Peak memory is the server's VmHWM (the kernel's high-water mark of resident memory) or the largest
  sampled VmRSS, whichever is larger; it includes start-up.
"""


# Sections between `<!-- NAME:start -->` and `<!-- NAME:end -->` are not this run's: the
# hand-written notes (NAME = notes) and other benchmarks' sections (e.g. feeds-bench, written by
# bench/feeds_bench.py). They are carried over, in order, when the file is rewritten.
KEPT_SECTION = re.compile(r"<!-- ([\w-]+):start -->.*?<!-- \1:end -->", re.DOTALL)


def kept_sections(path: Path) -> list[str]:
    """The marked sections of an existing RESULTS.md, markers included."""
    if not path.exists():
        return []
    return [match.group(0) for match in KEPT_SECTION.finditer(path.read_text(encoding="utf-8"))]


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def _table(measures: Sequence[Measure]) -> list[str]:
    lines = [
        "| measure | value | unit | baseline | ratio | goal | met? |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in measures:
        met = "n/a" if m.goal.startswith("(none") else "yes" if m.met else "**no**"
        lines.append(
            f"| `{m.name}` | {_number(m.value)} | {m.unit} | {_number(m.baseline)} | {m.ratio:.2f} | {m.goal} | {met} |"
        )
    return lines


def _section(title: str, measures: Sequence[Measure]) -> list[str]:
    lines = [f"## {title}", "", *_table(measures), ""]
    for m in measures:
        lines.append(f"- `{m.name}`: `{m.command}`")
        lines += [f"  - {note}" for note in m.notes]
    return [*lines, ""]


def _machine(facts: dict[str, Any], count: int) -> list[str]:
    return [
        "## Machine and run",
        "",
        "| fact | value |",
        "| --- | --- |",
        *(f"| {name} | {value} |" for name, value in facts.items()),
        f"| corpus | {count:,} materials: `python bench/corpus.py --count {count} --seed 7 "
        "--out bench/out/corpus.ndjson` |",
        "| queries | `bench.corpus.queries()`: 200 requests (seed 11), limit 20, facets on |",
        "",
    ]


def _slowest(slowest: Sequence[tuple[float, dict]]) -> list[str]:
    lines = ["### Slowest queries on SQLite (median of the timed passes)", "", "| ms | query |", "| --- | --- |"]
    lines += [f"| {ms:.1f} | `{params}` |" for ms, params in slowest]
    return [*lines, ""]


def write_markdown(
    path: Path, measures: Sequence[Measure], facts: dict[str, Any], count: int, slowest: Sequence[tuple[float, dict]]
) -> None:
    by_name = {m.name: m for m in measures}
    lines = [HEADER, "## Summary", "", *_table(measures), "", *_machine(facts, count)]
    for title, names in SECTIONS:
        lines += _section(title, [by_name[name] for name in names if name in by_name])
        if names[0] == "search_sqlite_p50_ms":
            lines += _slowest(slowest)
    kept = kept_sections(path)
    lines.append(CAVEATS)
    lines += [section + "\n" for section in kept]
    path.write_text("\n".join(lines), encoding="utf-8")
