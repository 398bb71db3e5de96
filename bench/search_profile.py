"""Where a search's time goes outside Elasticsearch: server CPU per request, Elasticsearch wait,
and (with --yappi) the server's functions by CPU time.

    BENCH_DB=... BENCH_ALIAS=... .venv/bin/python -m bench.search_profile [--passes 3] [--yappi]

Searches data a `bench.search_only --keep` run left in place (PostgreSQL + Elasticsearch). The
server is `app.server`'s uvicorn in a child process (one worker), started from here so that it can
time its own Elasticsearch calls (wall clock, around the client's `perform_request`) and, with
`--yappi`, profile every thread. The 200 queries are sent sequentially with httpx, after a warm-up
pass, interleaved pass by pass with the same Elasticsearch requests sent straight to the cluster.
Per request it prints: API and direct wall time (p50, mean), the server's CPU time (user + system,
from /proc), and the server's time waiting on Elasticsearch. Timings never go to results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from statistics import mean
from typing import Any

import httpx

from bench import pg_es
from bench.common import OUT, REPO, _wait_healthy, free_port, log, percentile, pg_env, staff_token
from bench.corpus import queries
from bench.search_bench import api_latencies, direct_latencies, record_es_requests

STATS = OUT / "search-profile"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _es_wait(base_url: str) -> dict[str, float]:
    return httpx.get(base_url + "/_profile/es-wait", timeout=10).json()


def client_main(passes: int, use_yappi: bool) -> int:
    env = pg_env(pg_es.DATA_DIR)
    mix = queries()
    requests = record_es_requests(pg_es.settings_for(env), mix)
    port = free_port()
    STATS.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "bench.search_profile", "--server", str(port)] + (["--yappi"] if use_yappi else [])
    log("$ " + " ".join(cmd) + " &")
    with (STATS / "server.log").open("w") as logfile:
        process = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=logfile, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(base_url, process, 60)
            with httpx.Client(timeout=30) as client:
                token = staff_token(client, base_url)
                api_latencies(client, base_url, token, mix)
                direct_latencies(client, requests)
                api: list[float] = []
                direct: list[float] = []
                cpu = 0.0
                waits = _es_wait(base_url)
                for _ in range(passes):
                    before = _cpu_seconds(process.pid)
                    api += api_latencies(client, base_url, token, mix)
                    cpu += _cpu_seconds(process.pid) - before
                    direct += direct_latencies(client, requests)
                after = _es_wait(base_url)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(60)
    count = len(api)
    es_ms = (after["seconds"] - waits["seconds"]) * 1000 / count
    summary = {
        "requests": count,
        "load": " / ".join(f"{v:.2f}" for v in os.getloadavg()),
        "api_p50_ms": percentile(api, 0.5),
        "direct_p50_ms": percentile(direct, 0.5),
        "api_p95_ms": percentile(api, 0.95),
        "direct_p95_ms": percentile(direct, 0.95),
        "api_mean_ms": mean(api),
        "direct_mean_ms": mean(direct),
        "server_cpu_ms_per_request": cpu * 1000 / count,
        "server_es_wait_ms_per_request": es_ms,
        "es_calls": after["calls"] - waits["calls"],
    }
    print(json.dumps(summary, indent=2))
    if use_yappi:
        print((STATS / "yappi.txt").read_text()[:12000])
    return 0


def server_main(port: int, use_yappi: bool) -> int:
    import uvicorn
    from elastic_transport import Transport

    waited = {"seconds": 0.0, "calls": 0}
    original = Transport.perform_request

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            waited["seconds"] += time.perf_counter() - started
            waited["calls"] += 1

    Transport.perform_request = timed  # type: ignore[method-assign]

    from app.main import create_app

    app = create_app()

    @app.get("/_profile/es-wait", include_in_schema=False)
    async def es_wait() -> dict[str, float]:
        return dict(waited)

    if use_yappi:
        import yappi

        yappi.set_clock_type("cpu")
        yappi.start()
    uvicorn.run(app, host="127.0.0.1", port=port, proxy_headers=True, log_config=None, access_log=False)
    if use_yappi:
        yappi.stop()
        with (STATS / "yappi.txt").open("w") as out:
            stats = yappi.get_func_stats()
            stats.sort("ttot")
            stats.print_all(
                out=out,
                columns={0: ("name", 100), 1: ("ncall", 10), 2: ("tsub", 9), 3: ("ttot", 9), 4: ("tavg", 9)},
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--yappi", action="store_true", help="profile the server's threads by CPU time")
    parser.add_argument("--server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.server:
        return server_main(args.server, args.yappi)
    return client_main(args.passes, args.yappi)


if __name__ == "__main__":
    sys.exit(main())
