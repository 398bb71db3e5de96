"""Report timings at 100,000 materials, 2,000 units and 200,000 deliveries, next to a plain
count(*) over the same tables in the same run.

    REPORTS_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:25432/ttdn_i \\
        .venv/bin/python -m bench.reports_bench [--materials 100000 --units 2000 --deliveries 200000]

The database's schema is rebuilt with the migrations (everything in it is dropped). Materials
come from bench/corpus.py (the same seed as the other benchmarks), written with bulk Core
inserts (the reports read materials and their tags; revisions and the search outbox are not
needed); units, bundles, publications and deliveries are written the same way, with fetch and
acknowledgement times spread over two years; claims of false information (with their route and
province tags, some rebutted, some delivered through a rebuttal bundle) the same way. Each report,
and the yearly review built as JSON and rendered as HTML, runs 3 times: the median is printed with
the fastest and slowest run, next to the count(*)s and the load average, and the size of the
yearly HTML page; and the median CPU time of the database backend (read from /proc when the
server runs on this machine) and of this process, which a busy shared machine does not inflate.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app import migrate
from app.bundles.models import Bundle, BundlePublication, Delivery
from app.claims.models import CLAIM_STATUSES, SEVERITIES, Claim, ClaimRebuttal, ClaimTag
from app.db import build_engine
from app.materials.models import Material, MaterialTag
from app.reports.coverage import coverage_report
from app.reports.distribution import distribution_report
from app.reports.html import render_html
from app.reports.production import production_report
from app.reports.response import response_report
from app.reports.yearly import year_params, yearly_review
from app.taxonomy import seed as taxonomy_seed
from app.taxonomy import service as taxonomy_service
from app.units.models import Unit
from bench.common import log
from bench.corpus import materials as corpus_materials

CHUNK = 5000
YEAR = 2026


def _ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


def _when(rng: random.Random) -> datetime:
    return datetime(YEAR - 1, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(2 * 365 * 86400))


def load(session: Session, n_materials: int, n_units: int, n_deliveries: int, n_claims: int) -> None:

    rng = random.Random(7)
    provinces = {p.name: p.id for p in taxonomy_service.provinces_on(session, date(YEAR, 12, 1))}
    province_ids = list(provinces.values())
    rows, tags = [], []
    for n, item in enumerate(corpus_materials(n_materials, seed=7)):
        created = _when(rng)
        published = item["status"] in ("published", "archived")
        material_id = uuid.uuid4()
        rows.append(
            {
                "id": material_id,
                "title": item["title"],
                "summary": item["summary"],
                "body": item["body"],
                "kind": item["kind"],
                "language": item["language"],
                "classification": item["classification"],
                "status": item["status"],
                "created_at": created,
                "updated_at": created,
                "version": 1,
                "published_at": created + timedelta(hours=rng.expovariate(1 / 72)) if published else None,
                "is_demo": False,
                "source": item["source"],
            }
        )
        for facet, values in (
            ("ethnic_group", item["ethnic_groups"]),
            ("border_route", item["border_routes"]),
            ("province", [str(provinces[p]) for p in item["provinces"] if p in provinces]),
            ("topic", item["topics"]),
        ):
            tags += [
                {"material_id": material_id, "facet": facet, "value": v, "position": i}
                for i, v in enumerate(dict.fromkeys(values))
            ]
        if len(rows) >= CHUNK:
            session.execute(Material.__table__.insert(), rows)
            session.execute(MaterialTag.__table__.insert(), tags)
            rows, tags = [], []
            log(f"materials {n + 1}")
    if rows:
        session.execute(Material.__table__.insert(), rows)
        session.execute(MaterialTag.__table__.insert(), tags)
    units = _ids(n_units)
    routes = ["VN-CN", "VN-LA", "VN-KH"]
    types = ["border_guard_post", "police", "commune", "provincial_department", "ethnic_affairs_office", "other"]
    session.execute(
        Unit.__table__.insert(),
        [
            {
                "id": u,
                "code": f"B{i:05d}",
                "name": f"Đơn vị {i}",
                "type": rng.choice(types),
                "version": 1,
                "province": rng.choice(province_ids),
                "border_routes": [rng.choice(routes)],
                "active": True,
                "is_demo": False,
                "created_at": _when(rng),
                "updated_at": _when(rng),
            }
            for i, u in enumerate(units)
        ],
    )
    per_bundle = min(n_units, 200)
    bundles = _ids(max(1, n_deliveries // per_bundle))
    now = datetime.now(UTC)
    bundle_rows, publication_rows, delivery_rows = [], [], []
    for b in bundles:
        at = _when(rng)
        bundle_rows.append(
            {
                "id": b,
                "title": "Gói",
                "description": "",
                "priority": "normal",
                "items": [],
                "targets": {},
                "status": "published",
                "published_version": 1,
                "published_at": at,
                "created_at": at,
                "updated_at": at,
                "version": 1,
            }
        )
        publication_rows.append(
            {
                "bundle_id": b,
                "version": 1,
                "title": "Gói",
                "description": "",
                "priority": "normal",
                "items": [],
                "targets": {},
                "published_at": at,
                "release_at": at,
            }
        )
        for u in rng.sample(units, per_bundle):
            fetched = at + timedelta(hours=rng.expovariate(1 / 24)) if rng.random() < 0.8 else None
            acked = fetched + timedelta(hours=rng.expovariate(1 / 12)) if fetched and rng.random() < 0.7 else None
            delivery_rows.append(
                {
                    "bundle_id": b,
                    "unit_id": u,
                    "version": 1,
                    "created_at": at,
                    "status": "acknowledged" if acked else ("fetched" if fetched else "pending"),
                    "fetched_at": min(fetched, now) if fetched else None,
                    "acknowledged_at": min(acked, now) if acked else None,
                }
            )
    session.execute(Bundle.__table__.insert(), bundle_rows)
    session.execute(BundlePublication.__table__.insert(), publication_rows)
    for start in range(0, len(delivery_rows), CHUNK):
        session.execute(Delivery.__table__.insert(), delivery_rows[start : start + CHUNK])
    material_ids = session.scalars(select(Material.id).limit(n_claims)).all()
    load_claims(session, rng, n_claims, province_ids, routes, material_ids, bundles)
    session.commit()
    # What autovacuum would have done by the time anyone reads a report: statistics, and the
    # visibility map that lets the covering indexes answer without reading the table.
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    log(f"loaded {n_materials} materials, {n_units} units, {len(delivery_rows)} deliveries")


def load_claims(
    session: Session,
    rng: random.Random,
    n_claims: int,
    province_ids: list[uuid.UUID],
    routes: list[str],
    material_ids: list[uuid.UUID],
    bundles: list[uuid.UUID],
) -> None:
    """Claims first reported over the two years, half rebutted, a third of those delivered."""
    claims, tags, rebuttals = [], [], []
    for i in range(n_claims):
        claim_id = uuid.uuid4()
        reported = _when(rng)
        rebutted = reported + timedelta(hours=rng.expovariate(1 / 30)) if rng.random() < 0.5 else None
        status = "rebutted" if rebutted else rng.choice(CLAIM_STATUSES)
        claims.append(
            {
                "id": claim_id,
                "title": f"Tin sai {i}",
                "summary": "",
                "status": status,
                "severity": rng.choice(SEVERITIES),
                "first_reported_at": reported,
                "deadline_at": reported + timedelta(hours=48),
                "rebutted_at": rebutted,
                "report_count": 1,
                "created_at": reported,
                "updated_at": reported,
                "version": 1,
            }
        )
        tags.append({"claim_id": claim_id, "facet": "border_route", "value": rng.choice(routes), "position": 0})
        tags.append({"claim_id": claim_id, "facet": "province", "value": str(rng.choice(province_ids)), "position": 0})
        if rebutted and material_ids:
            rebuttals.append(
                {
                    "claim_id": claim_id,
                    "material_id": material_ids[i % len(material_ids)],
                    "verdict": "false",
                    "published_at": rebutted,
                    "bundle_id": rng.choice(bundles) if rng.random() < 0.33 else None,
                }
            )
    for start in range(0, n_claims, CHUNK):
        session.execute(Claim.__table__.insert(), claims[start : start + CHUNK])
    for table, rows in ((ClaimTag.__table__, tags), (ClaimRebuttal.__table__, rebuttals)):
        for start in range(0, len(rows), CHUNK):
            session.execute(table.insert(), rows[start : start + CHUNK])


Timing = tuple[float, float, float, float | None, float]


def backend_cpu(session: Session) -> Callable[[], float | None]:
    """Seconds of CPU the session's PostgreSQL backend has used so far, read from /proc (the
    server runs on this machine in the benchmarks); a reader that gives None where it cannot.
    Parallel workers' CPU is not counted. On a shared machine, wall-clock time grows with the
    load; this and the client's CPU time do not."""
    if session.get_bind().dialect.name != "postgresql":
        return lambda: None
    stat = Path(f"/proc/{session.execute(text('SELECT pg_backend_pid()')).scalar()}/stat")
    if not stat.exists():
        return lambda: None
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime, in clock ticks

    return read


def timed(action: Callable[[], object], db_cpu: Callable[[], float | None], runs: int = 3) -> Timing:
    """(median, fastest, slowest) wall seconds over `runs` runs, then the median database
    backend CPU seconds (None if unknown) and the median CPU seconds of this process."""
    seconds, db_seconds, own_seconds = [], [], []
    for _ in range(runs):
        db_before, own_before = db_cpu(), time.process_time()
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
        own_seconds.append(time.process_time() - own_before)
        db_after = db_cpu()
        if db_before is not None and db_after is not None:
            db_seconds.append(db_after - db_before)
    db = statistics.median(db_seconds) if db_seconds else None
    return statistics.median(seconds), min(seconds), max(seconds), db, statistics.median(own_seconds)


def measure(session: Session, yearly: bool = True) -> tuple[list[tuple[str, Timing]], int]:
    """The timings, and the size in bytes of the yearly HTML page (0 without `yearly`)."""
    params = year_params(YEAR)
    db_cpu = backend_cpu(session)
    figures = []
    for table in ("materials", "material_tags", "units", "deliveries", "claims"):
        count = f"SELECT count(*) FROM {table}"
        figures.append((f"count(*) {table}", timed(lambda q=count: session.execute(text(q)).scalar(), db_cpu)))
    for name, build in (
        ("coverage", coverage_report),
        ("distribution", distribution_report),
        ("production", production_report),
        ("response", response_report),
    ):
        figures.append((f"report {name}", timed(lambda b=build: b(session, params), db_cpu)))
    if not yearly:
        return figures, 0
    figures.append(("yearly review (JSON, both years)", timed(lambda: yearly_review(session, YEAR), db_cpu)))
    page: list[str] = []
    html = timed(lambda: page.append(render_html(yearly_review(session, YEAR))), db_cpu)
    figures.append(("yearly review as HTML", html))
    return figures, len(page[-1].encode())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--materials", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--deliveries", type=int, default=200_000)
    parser.add_argument("--claims", type=int, default=5_000)
    parser.add_argument("--no-load", action="store_true", help="measure the data loaded by a previous run")
    parser.add_argument("--no-yearly", action="store_true", help="time the four reports only")
    args = parser.parse_args()
    url = os.environ["REPORTS_BENCH_DATABASE_URL"]

    engine = build_engine(url)
    if not args.no_load:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate.upgrade(engine)
    with Session(engine) as session:
        if not args.no_load:
            taxonomy_seed.load_reference(session)
            session.commit()
            load(session, args.materials, args.units, args.deliveries, args.claims)
        load_average = " ".join(f"{x:.2f}" for x in os.getloadavg())
        figures, html_bytes = measure(session, yearly=not args.no_yearly)
        print(f"load average before the timings: {load_average}")
        print(f"load average after the timings: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print("| measure | median | fastest | slowest | database CPU, median | client CPU, median |")
        print("|---|---|---|---|---|---|")
        for name, (median, fastest, slowest, db, own) in figures:
            db_text = "n/a" if db is None else f"{db * 1000:,.0f} ms"
            print(
                f"| {name} | {median * 1000:,.0f} ms | {fastest * 1000:,.0f} ms | {slowest * 1000:,.0f} ms "
                f"| {db_text} | {own * 1000:,.0f} ms |"
            )
        print(f"yearly HTML page: {html_bytes:,} bytes ({html_bytes / 1024 / 1024:.2f} MiB)")


if __name__ == "__main__":
    main()
