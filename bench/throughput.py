"""Search throughput at 8 clients: the query mix through `GET /api/v1/search` against the same
Elasticsearch requests sent straight to Elasticsearch, in interleaved rounds (median and spread).

Each client is a thread with its own httpx client, cycling through the 200 queries from its own
offset; a round runs for ROUND_SECONDS on each side. Loopback only; bounded in time.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from bench.common import ES_URL, Measure, log, run_clients
from bench.search_bench import API_SEARCH, RecordedRequest

CLIENTS = 8
ROUND_SECONDS = 10
REPEATS = 3


def rate(
    send: Callable[[httpx.Client, int], int],
    items: int,
    *,
    clients: int = CLIENTS,
    seconds: float = ROUND_SECONDS,
    keep_alive: bool = True,
) -> float:
    """Requests per second of `clients` threads calling `send(client, i)` for `seconds`, each
    from its own offset into the `items`; without `keep_alive`, a connection per request."""
    deadline = time.monotonic() + seconds
    counts = [0] * clients
    failures: list[str] = []
    limits = httpx.Limits() if keep_alive else httpx.Limits(max_keepalive_connections=0)

    def client_loop(slot: int) -> None:
        with httpx.Client(timeout=30, limits=limits) as client:
            i = slot * (items // clients)
            while time.monotonic() < deadline:
                status = send(client, i % items)
                if status != 200:
                    failures.append(f"status {status}")
                    return
                counts[slot] += 1
                i += 1

    elapsed = run_clients(clients, client_loop, seconds + 60)
    if failures:
        raise RuntimeError(f"search throughput: a request failed ({failures[0]})")
    return sum(counts) / elapsed


def rounds(
    base_url: str, token: str, queries: Sequence[dict[str, Any]], requests: Sequence[RecordedRequest]
) -> list[dict[str, float]]:
    headers = {"Authorization": f"Bearer {token}"}

    def api(client: httpx.Client, i: int) -> int:
        return client.get(base_url + API_SEARCH, params=queries[i], headers=headers).status_code

    def direct(client: httpx.Client, i: int) -> int:
        request = requests[i]
        return client.request(
            request.method, ES_URL + request.path, params=request.params, json=request.body
        ).status_code

    out = []
    for number in range(REPEATS):
        row = {"api_rps": rate(api, len(queries)), "direct_rps": rate(direct, len(requests))}
        row["ratio"] = row["api_rps"] / row["direct_rps"]
        log(f"search throughput round {number + 1}: api {row['api_rps']:.0f}/s, direct {row['direct_rps']:.0f}/s")
        out.append(row)
    return out


def measure(found: list[dict[str, float]], workers: int) -> Measure:
    ratios = [row["ratio"] for row in found]
    ratio = statistics.median(ratios)
    return Measure(
        "search_pg_es_throughput_8c_rps",
        statistics.median(row["api_rps"] for row in found),
        "requests/s",
        statistics.median(row["direct_rps"] for row in found),
        ratio,
        ">= 0.3 of direct Elasticsearch",
        ratio >= 0.3,
        f"ttdn serve --workers {workers} (PostgreSQL + Elasticsearch); GET /api/v1/search, the 200 queries "
        f"cycled by {CLIENTS} httpx clients (threads) for {ROUND_SECONDS} s",
        [
            "baseline: the same Elasticsearch requests (recorded from the application) sent straight to "
            f"POST <alias>/_search by {CLIENTS} clients for {ROUND_SECONDS} s, interleaved with the API rounds",
            f"{len(found)} rounds, medians; ratio per round: "
            + ", ".join(f"{r:.2f}" for r in ratios)
            + f" (spread {max(ratios) - min(ratios):.2f})",
        ],
    )
