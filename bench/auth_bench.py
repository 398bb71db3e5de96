"""Benchmark 6: throughput of an authenticated cheap GET against the unauthenticated /healthz.

One server (PostgreSQL + Elasticsearch configuration), one load generator (wrk when installed,
else a bounded Python loop), the same concurrency and duration for every target, in one run:
`GET /healthz`, `GET /api/v1/border-routes` with a unit's API key (Bearer) and the same with a
staff access token. Loopback only; every run is bounded in time (and the Python loop in count).
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from bench.common import TTDN, Measure, log, run, run_clients, serve, staff_token

CONNECTIONS = 8
WARMUP_SECONDS = 3
SECONDS = 10
PYTHON_MAX_REQUESTS = 200_000
# /me does nothing but authenticate; /border-routes also reads three rows of reference data.
CHEAP_GETS = (("/api/v1/me", "me"), ("/api/v1/border-routes", "border_routes"))
UNIT_CODE = "BENCH-POST-1"


REPEATS = 3  # each figure is the median of this many rounds; the notes give the spread


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    authorization: str | None
    headers: tuple[tuple[str, str], ...] = ()  # more request headers (If-None-Match for a 304)
    expect: int = 200


def issue_unit_key(env: dict[str, str]) -> str:
    run([TTDN, "create-unit", UNIT_CODE, "--name", "Đồn biên phòng (bench)"], env)
    result = subprocess.run([TTDN, "issue-key", UNIT_CODE], env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-1]


def throughput(base_url: str, target: Target, seconds: int) -> float:
    """Requests per second over `seconds`, with CONNECTIONS concurrent connections."""
    if shutil.which("wrk"):
        return _wrk(base_url, target, seconds)
    return _python_load(base_url, target, seconds)


def _wrk(base_url: str, target: Target, seconds: int) -> float:
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s"]
    if target.authorization:
        cmd += ["-H", f"Authorization: {target.authorization}"]
    for name, value in target.headers:
        cmd += ["-H", f"{name}: {value}"]
    result = subprocess.run([*cmd, base_url + target.path], capture_output=True, text=True, check=True)
    if re.search(r"Non-2xx or 3xx responses: \d+", result.stdout):
        raise RuntimeError(f"{target.name}: some requests failed\n{result.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if not match:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{result.stdout}")
    return float(match.group(1))


def _python_load(base_url: str, target: Target, seconds: int) -> float:
    """CONNECTIONS threads, one httpx client each; stops at `seconds` or PYTHON_MAX_REQUESTS."""
    headers = {"Authorization": target.authorization} if target.authorization else {}
    headers.update(target.headers)
    deadline = time.monotonic() + seconds
    counts = [0] * CONNECTIONS
    failures: list[int] = []

    def worker(slot: int) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
            while time.monotonic() < deadline and sum(counts) < PYTHON_MAX_REQUESTS:
                if client.get(target.path).status_code != target.expect:
                    failures.append(slot)
                    return
                counts[slot] += 1

    elapsed = run_clients(CONNECTIONS, worker, seconds + 30)
    if failures:
        raise RuntimeError(f"{target.name}: a request failed")
    return sum(counts) / elapsed


def measure_targets(base_url: str, targets: Sequence[Target], repeats: int = REPEATS) -> dict[str, list[float]]:
    """Every target's rate in `repeats` rounds; in each round the targets run one after another,
    so that load from other processes falls on all of them alike."""
    for target in targets:
        throughput(base_url, target, WARMUP_SECONDS)
    rates: dict[str, list[float]] = {target.name: [] for target in targets}
    for round_number in range(repeats):
        for target in targets:
            rates[target.name].append(throughput(base_url, target, SECONDS))
            log(f"round {round_number + 1}: {target.name}: {rates[target.name][-1]:.0f} requests/s")
    return rates


def ratio_rounds(rates: dict[str, list[float]], name: str) -> list[float]:
    """The target's rate over /healthz's in the same round."""
    return [value / health for value, health in zip(rates[name], rates["healthz"], strict=True)]


def run_all(env: dict[str, str], workers: int = 1, config: str = "PostgreSQL + Elasticsearch") -> list[Measure]:
    """Needs the bench database prepared (staff user present)."""
    key = issue_unit_key(env)
    with serve(env, startup_timeout=180, workers=workers) as server:  # a loaded machine starts slowly
        with httpx.Client(timeout=30) as client:
            token = staff_token(client, server.base_url)
            # wrk asks for no gzip: so must the request whose ETag it sends back.
            plain = {"Authorization": f"Bearer {key}", "Accept-Encoding": "identity"}
            feed_etag = client.get(server.base_url + "/api/v1/feed", headers=plain)
        credentials = {"unit_key": f"Bearer {key}", "staff_token": f"Bearer {token}"}
        targets = [Target("healthz", "/healthz", None)]
        targets += [
            Target(f"{who}_{slug}", path, authorization)
            for path, slug in CHEAP_GETS
            for who, authorization in credentials.items()
        ]
        # An unchanged feed polled again (bench/feeds_bench.py measures it on a large feed).
        etag = (("If-None-Match", feed_etag.headers["etag"]),)
        targets.append(Target("unit_key_feed_304", "/api/v1/feed", credentials["unit_key"], etag, 304))
        rates = measure_targets(server.base_url, targets)
    tool = "wrk" if shutil.which("wrk") else "python httpx threads"
    command = f"{tool} -t1 -c{CONNECTIONS} -d{SECONDS}s against ttdn serve --workers {workers} ({config})"
    return [_measure(target, rates, command) for target in targets[1:]]


def main(argv: list[str] | None = None) -> int:
    """The authenticated GETs alone, on the embedded configuration (a SQLite file in a scratch
    DATA_DIR): `python -m bench.auth_bench [--workers N]`. Prints the measures as JSON."""
    import argparse
    import json
    import tempfile
    from dataclasses import asdict
    from pathlib import Path

    from bench.common import STAFF_EMAIL, sqlite_env

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ttdn-auth-bench-") as scratch:
        env = sqlite_env(Path(scratch))
        run([TTDN, "migrate"], env)
        run([TTDN, "seed"], env)
        run([TTDN, "create-user", STAFF_EMAIL, "--role", "analyst"], env)
        measures = run_all(env, args.workers, "SQLite, database search")
    print(json.dumps([asdict(m) for m in measures], ensure_ascii=False, indent=1))
    return 0


def _measure(target: Target, rates: dict[str, list[float]], command: str) -> Measure:
    ratios = ratio_rounds(rates, target.name)
    ratio = statistics.median(ratios)
    who = "a unit API key (Bearer)" if target.name.startswith("unit_key") else "a staff access token (Bearer)"
    return Measure(
        f"auth_{target.name}_rps",
        statistics.median(rates[target.name]),
        "requests/s",
        statistics.median(rates["healthz"]),
        ratio,
        ">= 0.8 of /healthz",
        ratio >= 0.8,
        f"{command}: GET {target.path} with {who} vs GET /healthz",
        [
            f"{CONNECTIONS} connections, {WARMUP_SECONDS} s warm-up per target, then {len(ratios)} rounds of "
            f"{SECONDS} s each, targets one after another in each round; medians",
            "ratio per round: " + ", ".join(f"{r:.2f}" for r in ratios) + f" (spread {max(ratios) - min(ratios):.2f})",
        ],
    )


if __name__ == "__main__":
    raise SystemExit(main())
