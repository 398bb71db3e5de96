"""Benchmarks 1, 2, 4 and half of 5 on PostgreSQL + Elasticsearch: import, search, reindex, memory.

Each is compared with a baseline taken in the same run: a raw `_bulk` of the same documents
(import, reindex) and the same Elasticsearch requests sent straight to Elasticsearch (search).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from app.config import Settings
from app.db import build_engine, build_session_factory
from app.search.factory import build_search_backend
from bench import throughput
from bench.common import (
    BASELINE_INDEX,
    BENCH_ALIAS,
    BENCH_DB,
    ES_URL,
    OUT,
    PG_ADMIN_URL,
    STAFF_EMAIL,
    TTDN,
    WARM_UP_INDEX,
    Measure,
    log,
    percentile,
    pg_env,
    run,
    serve,
    shell_line,
    staff_token,
)
from bench.cpu_timeline import jit_compiler_seconds
from bench.es_baseline import WarmUp, bulk_payloads, delete_index, raw_bulk, warm_up
from bench.search_bench import per_pass, record_es_requests, run_search_mix

DATA_DIR = OUT / "pg-es-data"


def reset_services() -> None:
    """A fresh bench database and no bench index (never the test suite's database or indices)."""
    drop_services()
    subprocess.run(["psql", f"{PG_ADMIN_URL}/postgres", "-qc", f"CREATE DATABASE {BENCH_DB}"], check=True)


def drop_services() -> None:
    subprocess.run(
        ["psql", f"{PG_ADMIN_URL}/postgres", "-qc", f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"], check=True
    )
    with httpx.Client(timeout=60) as client:
        for index in _bench_indices(client):
            delete_index(client, index)
    shutil.rmtree(DATA_DIR, ignore_errors=True)


def _bench_indices(client: httpx.Client, prefix: str = BENCH_ALIAS) -> list[str]:
    response = client.get(f"{ES_URL}/_cat/indices/{prefix}*", params={"h": "index", "format": "json"})
    response.raise_for_status()
    return [row["index"] for row in response.json()]


def prepare(env: dict[str, str]) -> None:
    reset_services()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    run([TTDN, "migrate"], env)
    run([TTDN, "seed"], env)
    run([TTDN, "create-user", STAFF_EMAIL, "--role", "analyst"], env)


def settings_for(env: dict[str, str]) -> Settings:
    return Settings(
        data_dir=Path(env["DATA_DIR"]),
        database_url=env["DATABASE_URL"],
        elasticsearch_url=env["ELASTICSEARCH_URL"],
        elasticsearch_index=env["ELASTICSEARCH_INDEX"],
        secret_key=env["SECRET_KEY"],
        indexer_interval_seconds=0,
        feed_release_interval_seconds=0,
    )


def import_and_bulk(env: dict[str, str], corpus: Path, count: int) -> tuple[Measure, list[bytes]]:
    """Benchmark 1: `ttdn import` (PostgreSQL, then drained into Elasticsearch) vs raw `_bulk`,
    both on an Elasticsearch whose JIT compiler has settled (`warm_up`)."""
    warmed = _warm_up(env, corpus, count)
    cmd = [TTDN, "import", str(corpus)]
    compiler = jit_compiler_seconds()
    seconds = run(cmd, env)
    compiled = _spent(compiler, jit_compiler_seconds())
    rate = count / seconds
    log(f"ttdn import: {count} materials in {seconds:.1f} s, {rate:.0f} documents/s")
    payloads, documents = bulk_payloads(settings_for(env).sqlalchemy_url, BASELINE_INDEX)
    if documents != count:
        raise RuntimeError(f"{documents} documents in the database, {count} lines in the corpus")
    with httpx.Client(timeout=120) as client:
        baseline = count / raw_bulk(client, BASELINE_INDEX, payloads, refresh_interval="1s")
    measure = Measure(
        "import_pg_es_docs_per_s",
        rate,
        "documents/s",
        baseline,
        rate / baseline,
        ">= 0.5 of raw _bulk",
        rate / baseline >= 0.5,
        shell_line(cmd),
        [
            f"{count} materials, wall time of the whole command ({seconds:.1f} s): process start, "
            "validation, writes to PostgreSQL (COPY) while the next batch is validated, each committed "
            "batch indexed into Elasticsearch while the next is written, a final drain and a refresh",
            "baseline: the same documents (document_for + the backend's own bulk operations, 1,000 per request), "
            "serialised beforehand, into a fresh index with the backend's mappings and settings, refreshed",
            f"before either is timed, Elasticsearch indexes the {count} corpus lines through the application's "
            "client into a scratch index until its JIT compiler has settled (bench.es_baseline.warm_up; in this "
            f"process {warmed.describe()}): a server just started took twice the CPU for its first import; "
            f"its JIT compiler used {compiled} CPU-seconds during the timed import",
        ],
    )
    return measure, payloads


def _spent(before: float | None, after: float | None) -> str:
    return "?" if before is None or after is None else f"{after - before:.1f}"


def _warm_up(env: dict[str, str], corpus: Path, count: int) -> WarmUp:
    settings = settings_for(env).model_copy(update={"elasticsearch_index": WARM_UP_INDEX})
    engine = build_engine(settings.sqlalchemy_url)
    try:
        return warm_up(build_search_backend(settings, build_session_factory(engine)), corpus, count)
    finally:
        engine.dispose()
        with httpx.Client(timeout=60) as client:
            for index in _bench_indices(client, WARM_UP_INDEX):
                delete_index(client, index)


def reindex_and_bulk(env: dict[str, str], count: int, payloads: list[bytes]) -> Measure:
    """Benchmark 4: `ttdn reindex` vs raw `_bulk` with the settings a rebuild uses (no refresh while filling)."""
    cmd = [TTDN, "reindex"]
    seconds = run(cmd, env)
    rate = count / seconds
    log(f"ttdn reindex: {count} materials in {seconds:.1f} s, {rate:.0f} documents/s")
    with httpx.Client(timeout=120) as client:
        baseline = count / raw_bulk(client, BASELINE_INDEX, payloads, refresh_interval="-1")
    return Measure(
        "reindex_docs_per_s",
        rate,
        "documents/s",
        baseline,
        rate / baseline,
        ">= 0.8 of raw _bulk",
        rate / baseline >= 0.8,
        shell_line(cmd),
        [
            f"wall time of the whole command ({seconds:.1f} s): reading every material from PostgreSQL, "
            "a new index filled without refreshes, refresh, alias swap, old index deleted",
            "baseline: the same serialised documents into a fresh index with refresh_interval -1, "
            "then 1s and a refresh",
        ],
    )


def search(env: dict[str, str], queries: Sequence[dict[str, Any]]) -> tuple[list[Measure], dict[str, float]]:
    """Benchmark 2: the 200 queries through `GET /api/v1/search` vs the same requests straight to Elasticsearch."""
    requests = record_es_requests(settings_for(env), queries)
    with serve(env) as server:
        with httpx.Client(timeout=30) as client:
            token = staff_token(client, server.base_url)
        timings = run_search_mix(server.base_url, token, queries, requests)
    memory = {"peak_mb": server.memory.peak_mb(), "startup_mb": server.startup_mb}
    command = "ttdn serve (PostgreSQL + Elasticsearch); GET /api/v1/search x 200 queries, sequential, httpx"
    measures = _latency_measures("search_pg_es", timings, command)
    # Throughput: the server as a user starts it, one worker per core.
    workers = os.cpu_count() or 1
    with serve(env, workers=workers) as server:
        with httpx.Client(timeout=30) as client:
            token = staff_token(client, server.base_url)
        measures.append(throughput.measure(throughput.rounds(server.base_url, token, queries, requests), workers))
    return measures, memory


def _latency_measures(prefix: str, timings: dict[str, list[float]], command: str) -> list[Measure]:
    measures = []
    for share, goal_factor in ((0.5, 1.5), (0.95, 1.5)):
        label = f"p{round(share * 100)}"
        api, direct = percentile(timings["api"], share), percentile(timings["direct"], share)
        measures.append(
            Measure(
                f"{prefix}_{label}_ms",
                api,
                "ms",
                direct,
                api / direct,
                f"<= {goal_factor}x direct",
                api / direct <= goal_factor,
                command,
                [
                    f"baseline: {label} of the same Elasticsearch requests (recorded from the application) "
                    "sent straight to POST <alias>/_search with the same httpx client",
                    f"{len(timings['api'])} timed requests each (warm-up pass first)",
                    _pass_note(label, timings, share),
                ],
            )
        )
    return measures


def _pass_note(label: str, timings: dict[str, list[float]], share: float) -> str:
    api, direct = per_pass(timings["api"], share), per_pass(timings["direct"], share)
    ratios = [a / d for a, d in zip(api, direct, strict=True)]
    shown = ", ".join(f"{a:.1f}/{d:.1f} ms = {r:.2f}" for a, d, r in zip(api, direct, ratios, strict=True))
    return f"{label} per pass, API/direct: {shown} (ratio spread {max(ratios) - min(ratios):.2f})"


def run_all(corpus: Path, count: int, queries: Sequence[dict[str, Any]]) -> tuple[list[Measure], dict[str, float]]:
    env = pg_env(DATA_DIR)
    log(f"PostgreSQL + Elasticsearch: database {BENCH_DB}, alias {BENCH_ALIAS}")
    prepare(env)
    imported, payloads = import_and_bulk(env, corpus, count)
    searched, memory = search(env, queries)
    reindexed = reindex_and_bulk(env, count, payloads)
    return [imported, *searched, reindexed], memory


def run_import_reindex(corpus: Path, count: int) -> list[Measure]:
    """Only benchmarks 1 and 4 (import, reindex), each against its raw `_bulk` baseline of this run."""
    env = pg_env(DATA_DIR)
    log(f"import and reindex only: database {BENCH_DB}, alias {BENCH_ALIAS}")
    prepare(env)
    imported, payloads = import_and_bulk(env, corpus, count)
    reindexed = reindex_and_bulk(env, count, payloads)
    return [imported, reindexed]
