"""Embedded configuration: searches per second at 1, 2 and 8 clients, with `ttdn serve`'s default
worker count (one per core), on the SQLite file a `bench.search_only --only sqlite --keep` run left.

    .venv/bin/python -m bench.sqlite_throughput [--seconds 15] [--clients 1,2,8] [--workers N]

Each client is a thread with its own HTTP client (a new connection per request), cycling
through the 200 queries of the search benchmark from its own offset, for `--seconds` per client
count; every answer must be a 200 (bench.throughput's loop). No baseline of its own: run it
before and after a change (alternated, on a quiet machine) and compare. A tool for a change's
effect under load, not one of the goals.
"""

from __future__ import annotations

import argparse

import httpx

from app.cores import cpu_cores
from bench.common import log, serve, sqlite_env, staff_token
from bench.corpus import queries
from bench.search_bench import API_SEARCH
from bench.sqlite_bench import DATA_DIR
from bench.throughput import rate


def rates(workers: int, clients: list[int], seconds: float) -> dict[int, float]:
    out = {}
    with serve(sqlite_env(DATA_DIR), workers=workers) as server:
        with httpx.Client(timeout=30) as client:
            token = staff_token(client, server.base_url)
        for count in clients:
            out[count] = _rate(server.base_url, token, count, seconds)
            log(f"{workers} workers, {count} clients: {out[count]:.1f} searches/s")
    return out


def _rate(base_url: str, token: str, clients: int, seconds: float) -> float:
    mix, headers = queries(), {"Authorization": f"Bearer {token}"}

    def search(client: httpx.Client, i: int) -> int:
        return client.get(base_url + API_SEARCH, params=mix[i], headers=headers).status_code

    # A connection per request: a kept-alive connection stays with the worker that accepted it,
    # and which worker got how many clients would decide the figure.
    return rate(search, len(mix), clients=clients, seconds=seconds, keep_alive=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", default="1,2,8")
    parser.add_argument("--workers", type=int, default=cpu_cores())
    args = parser.parse_args()
    if not (DATA_DIR / "ttdn.sqlite3").exists():
        raise SystemExit(f"no {DATA_DIR / 'ttdn.sqlite3'}: run bench.search_only --only sqlite --keep first")
    result = rates(args.workers, [int(n) for n in args.clients.split(",")], args.seconds)
    print("| clients | searches/s |\n| ---: | ---: |")
    for count, per_second in result.items():
        print(f"| {count} | {per_second:.1f} |")


if __name__ == "__main__":
    main()
