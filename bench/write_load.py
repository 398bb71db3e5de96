"""Concurrent writers against `ttdn serve`: 16 clients doing mixed writes for 60 s (issue 7).

Each client, in a loop until the time is up: creates a material, changes it with PATCH and the
If-Match of its last ETag, creates another, changes it, creates a unit, issues that unit a key,
and signs in. The server runs with its background indexer and releaser on (their defaults), so
they compete with the clients as they would in service. Afterwards every material and unit that
was answered 2xx is looked up in the database: a write acknowledged and lost would be counted.

Loopback only; the run stops by itself after `--seconds` (plus at most one request timeout).

    .venv/bin/python -m bench.write_load --config sqlite --label after
    .venv/bin/python -m bench.write_load --config postgres-es --label after \
        --pg-url postgresql://postgres@127.0.0.1:25432 --database ttdn_a --es-url http://127.0.0.1:29200

Results are kept in bench/out/write_load.json (one entry per configuration and label) and the
section at the end of bench/RESULTS.md is rewritten from them.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import create_engine, text

from bench.common import OUT, REPO, TTDN, log, percentile, run, serve

ADMIN = "load-admin@ttdn.local"
EDITOR = "load-editor@ttdn.local"
PASSWORD = "Load-only password 3b9e1d, never reused"
RESULTS_JSON = OUT / "write_load.json"
RESULTS_MD = REPO / "bench" / "RESULTS.md"
START, END = "<!-- write-load:start -->", "<!-- write-load:end -->"
ES_ALIAS = "ttdn-a-write-load"


class Tally:
    """Status counts and latencies of every request, by operation; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: collections.Counter[str] = collections.Counter()
        self.latencies: list[float] = []
        self.by_op: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.materials: list[str] = []
        self.units: list[str] = []
        self.failures: list[str] = []

    def record(self, op: str, status: str, ms: float, body: str = "") -> None:
        with self.lock:
            self.statuses[status] += 1
            self.by_op[op][status] += 1
            self.latencies.append(ms)
            if (not status.isdigit() or int(status) >= 500) and len(self.failures) < 10:
                self.failures.append(f"{op} {status} {body[:300]}")


def call(client: httpx.Client, tally: Tally, op: str, method: str, url: str, **kw: Any) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        tally.record(op, type(exc).__name__, (time.perf_counter() - started) * 1000)
        return None
    tally.record(op, str(response.status_code), (time.perf_counter() - started) * 1000, response.text)
    return response


def sign_in(client: httpx.Client, base: str, email: str) -> str:
    response = client.post(base + "/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    response.raise_for_status()
    return response.json()["access_token"]


def client_loop(n: int, base: str, tokens: dict[str, str], stop_at: float, tally: Tally) -> None:
    editor = {"Authorization": "Bearer " + tokens["editor"]}
    admin = {"Authorization": "Bearer " + tokens["admin"]}
    with httpx.Client(base_url=base + "/api/v1", timeout=60) as client:
        i = 0
        while time.monotonic() < stop_at:
            i += 1
            for _ in range(2):
                doc = {"title": f"Tải trọng {n}-{i}-{uuid.uuid4().hex[:6]}", "kind": "article", "language": "vi"}
                created = call(client, tally, "create material", "POST", "/materials", json=doc, headers=editor)
                if created is None or created.status_code != 201:
                    continue
                mid = created.json()["id"]
                with tally.lock:
                    tally.materials.append(mid)
                call(
                    client,
                    tally,
                    "patch material",
                    "PATCH",
                    f"/materials/{mid}",
                    json={"summary": f"đã sửa {i}"},
                    headers={**editor, "If-Match": created.headers["ETag"]},
                )
            code = f"L{n:02d}-{i}-{uuid.uuid4().hex[:6]}"
            unit = call(
                client,
                tally,
                "create unit",
                "POST",
                "/units",
                json={"code": code, "name": f"Đồn {code}", "type": "border_guard_post"},
                headers=admin,
            )
            if unit is not None and unit.status_code == 201:
                with tally.lock:
                    tally.units.append(unit.json()["id"])
                call(client, tally, "issue key", "POST", f"/units/{unit.json()['id']}/keys", headers=admin)
            call(client, tally, "sign in", "POST", "/auth/token", data={"username": EDITOR, "password": PASSWORD})


def prepare(config: str, args: argparse.Namespace, data_dir: Path) -> tuple[dict[str, str], str]:
    """A fresh database with two users; returns the server's environment and the SQLAlchemy URL."""
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ELASTICSEARCH_URL")}
    env.update(
        DATA_DIR=str(data_dir),
        APP_ENV="development",
        TTDN_PASSWORD=PASSWORD,
        SECRET_KEY="write-load-secret-key-" + "y" * 32,
    )
    if config == "sqlite":
        url = f"sqlite:///{data_dir / 'ttdn.sqlite3'}"
    else:
        with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.database}"')
        httpx.delete(f"{args.es_url}/{ES_ALIAS}*", timeout=30)
        env.update(
            DATABASE_URL=f"{args.pg_url}/{args.database}", ELASTICSEARCH_URL=args.es_url, ELASTICSEARCH_INDEX=ES_ALIAS
        )
        url = f"postgresql+psycopg://{args.pg_url.split('://', 1)[1]}/{args.database}"
    run([TTDN, "migrate"], env)
    run([TTDN, "seed"], env)
    run([TTDN, "create-user", ADMIN, "--role", "admin"], env)
    run([TTDN, "create-user", EDITOR, "--role", "editor"], env)
    return env, url


def lost_rows(url: str, tally: Tally) -> dict[str, int]:
    """Materials and units answered 201 that the database does not hold."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            materials = {r[0] for r in conn.execute(text("SELECT id FROM materials"))}
            units = {r[0] for r in conn.execute(text("SELECT id FROM units"))}
    finally:
        engine.dispose()
    return {"materials": len(set(tally.materials) - materials), "units": len(set(tally.units) - units)}


def measure(config: str, args: argparse.Namespace) -> dict[str, Any]:
    data_dir = OUT / f"write-load-{config}"
    env, url = prepare(config, args, data_dir)
    tally = Tally()
    with serve(env, startup_timeout=180, workers=args.workers) as server, httpx.Client(timeout=60) as client:
        tokens = {"admin": sign_in(client, server.base_url, ADMIN), "editor": sign_in(client, server.base_url, EDITOR)}
        stop_at = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=client_loop, args=(n, server.base_url, tokens, stop_at, tally))
            for n in range(args.clients)
        ]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    lost = lost_rows(url, tally)
    if config != "sqlite":
        httpx.delete(f"{args.es_url}/{ES_ALIAS}*", timeout=30)
    shutil.rmtree(data_dir, ignore_errors=True)
    total = sum(tally.statuses.values())
    return {
        "config": config,
        "label": args.label,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": args.commit,
        "workers": args.workers,
        "load": round(os.getloadavg()[0], 1),
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": total,
        "statuses": dict(sorted(tally.statuses.items())),
        "errors_5xx": sum(v for k, v in tally.statuses.items() if not k.isdigit() or int(k) >= 500),
        "p50_ms": round(percentile(tally.latencies, 0.5), 1),
        "p95_ms": round(percentile(tally.latencies, 0.95), 1),
        "p99_ms": round(percentile(tally.latencies, 0.99), 1),
        "max_ms": round(max(tally.latencies), 1),
        "by_op": {op: dict(c) for op, c in sorted(tally.by_op.items())},
        "lost": lost,
        "failures": tally.failures,
        "command": args.command,
    }


def write_markdown(results: dict[str, Any]) -> None:
    rows = sorted(results.values(), key=lambda r: (r["config"], r["label"] != "before", r["date"]))
    lines = [
        START,
        "## Concurrent writers (issue 7)",
        "",
        f"{rows[0]['clients'] if rows else 16} clients on loopback against `ttdn serve` (workers as in the table, "
        "background indexer and releaser on in each), each looping over: create a material, PATCH it with If-Match, "
        "again, create a unit, issue it a key, sign in. Client: httpx, one thread per client, 60 s timeout. "
        "`lost` counts materials and units answered 201 that the database did not hold afterwards; `s` runs "
        "until the last client has finished the round it was in at 60 s. "
        "`before` is the code as it was when the load was first run (commit named), `after` the change. "
        "2 cores shared with other work (`load`: the 1-minute load average at the end of the run, not "
        "recorded for the first runs): the "
        "latencies vary from run to run with it; the status counts are the point. Each sign-in verifies an "
        "Argon2 hash (about 0.5 s of CPU here), which dominates the latencies of every configuration.",
        "",
        "| config | workers | label | commit | date | load | s | requests | statuses | ≥500 | lost "
        "| p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        statuses = ", ".join(f"{v}×{k}" for k, v in r["statuses"].items())
        lost = r["lost"]["materials"] + r["lost"]["units"]
        lines.append(
            f"| {r['config']} | {r.get('workers', 1)} | {r['label']} | {r['commit']} | {r['date']} "
            f"| {r.get('load', '')} | {r['seconds']} | {r['requests']} "
            f"| {statuses} | {r['errors_5xx']} | {lost} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} |"
        )
    lines += ["", "Commands:", ""]
    lines += [f"- {r['config']} / {r['label']}: `{r['command']}`" for r in rows]
    lines += [END, ""]
    current = RESULTS_MD.read_text()
    if START in current:
        current = current[: current.index(START)] + current[current.index(END) + len(END) :].lstrip("\n")
    RESULTS_MD.write_text(current.rstrip("\n") + "\n\n" + "\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=["sqlite", "postgres-es"], required=True)
    parser.add_argument("--label", default="after")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1, help="`ttdn serve --workers`")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:25432")
    parser.add_argument("--database", default="ttdn_a")
    parser.add_argument("--es-url", default="http://127.0.0.1:29200")
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z0-9_]+", args.database):
        parser.error("--database: lower-case letters, digits and _ only")
    args.command = ".venv/bin/python -m bench.write_load " + shlex.join(sys.argv[1:])
    args.commit = run_git("rev-parse", "--short", "HEAD")
    OUT.mkdir(parents=True, exist_ok=True)
    result = measure(args.config, args)
    results = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    results[f"{args.config}/{args.label}/{args.workers}"] = result
    RESULTS_JSON.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    write_markdown(results)
    log(json.dumps({k: result[k] for k in ("requests", "statuses", "p50_ms", "p95_ms", "p99_ms", "lost")}))
    for failure in result["failures"]:
        log("  " + failure)
    return 0


def run_git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
