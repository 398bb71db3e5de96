"""Search latency through the API, and the same Elasticsearch requests sent straight to Elasticsearch.

The direct requests are not written by hand: the application itself, built in this process on
the same database and alias, answers each of the 200 API queries once with an Elasticsearch
client that records what it sends (method, path, query string, body). So the direct run
replays, byte for byte in meaning, the requests the server makes for the same API queries.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.search.elasticsearch import ElasticsearchBackend
from bench.common import ES_URL, STAFF_EMAIL, STAFF_PASSWORD, log, percentile

API_SEARCH = "/api/v1/search"
TIMED_PASSES = 3
# A bound on any one run of the query mix, whatever happens.
PASS_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    body: Any


class RecordingElasticsearch(Elasticsearch):
    """A real client that also keeps every `_search` request it performs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorded: list[RecordedRequest] = []

    def perform_request(self, method: str, path: str, **kwargs: Any) -> Any:
        if path.endswith("/_search"):
            params = {k: _query_value(v) for k, v in (kwargs.get("params") or {}).items()}
            self.recorded.append(RecordedRequest(method, path, params, kwargs.get("body")))
        return super().perform_request(method, path, **kwargs)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def record_es_requests(settings: Settings, queries: Sequence[dict[str, Any]]) -> list[RecordedRequest]:
    """The Elasticsearch request the application sends for each API query, in order."""
    client = RecordingElasticsearch(settings.elasticsearch_url, request_timeout=30)
    backend = ElasticsearchBackend(client, settings.elasticsearch_index)
    app = create_app(settings, search_backend=backend)
    with TestClient(app) as api:
        token = api.post("/api/v1/auth/token", data={"username": STAFF_EMAIL, "password": STAFF_PASSWORD}).json()[
            "access_token"
        ]
        for params in queries:
            before = len(client.recorded)
            response = api.get(API_SEARCH, params=params, headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()
            if len(client.recorded) != before + 1:
                raise RuntimeError(
                    f"expected one Elasticsearch search for {params}, got {len(client.recorded) - before}"
                )
    client.close()
    return client.recorded


def api_latencies(client: httpx.Client, base_url: str, token: str, queries: Sequence[dict[str, Any]]) -> list[float]:
    """Milliseconds per request, one pass over `queries`; also checks every answer is a 200."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + PASS_TIMEOUT_SECONDS
    out = []
    for params in queries:
        started = time.perf_counter()
        response = client.get(base_url + API_SEARCH, params=params, headers=headers)
        out.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {API_SEARCH} {params}: {response.status_code} {response.text[:300]}")
        if time.monotonic() > deadline:
            raise RuntimeError("the API pass took longer than its time bound")
    return out


def direct_latencies(client: httpx.Client, requests: Sequence[RecordedRequest]) -> list[float]:
    """Milliseconds per request, one pass, straight to Elasticsearch with the same client."""
    deadline = time.monotonic() + PASS_TIMEOUT_SECONDS
    out = []
    for request in requests:
        started = time.perf_counter()
        response = client.request(request.method, ES_URL + request.path, params=request.params, json=request.body)
        out.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        if time.monotonic() > deadline:
            raise RuntimeError("the direct pass took longer than its time bound")
    return out


def check_same_totals(
    client: httpx.Client,
    base_url: str,
    token: str,
    queries: Sequence[dict[str, Any]],
    requests: Sequence[RecordedRequest],
) -> None:
    """The API and the recorded request agree on every query's total: they ran the same search."""
    headers = {"Authorization": f"Bearer {token}"}
    for params, request in zip(queries, requests, strict=True):
        api_total = client.get(base_url + API_SEARCH, params=params, headers=headers).json()["total"]
        direct = client.request(request.method, ES_URL + request.path, params=request.params, json=request.body)
        if direct.json()["hits"]["total"]["value"] != api_total:
            raise RuntimeError(f"totals differ for {params}: API {api_total}, direct {direct.json()['hits']['total']}")


def per_pass(timings: Sequence[float], share: float) -> list[float]:
    """The percentile of each timed pass on its own (run_search_mix appends pass after pass)."""
    size = len(timings) // TIMED_PASSES
    return [percentile(timings[i * size : (i + 1) * size], share) for i in range(TIMED_PASSES)]


def run_search_mix(
    base_url: str, token: str, queries: Sequence[dict[str, Any]], requests: Sequence[RecordedRequest] | None
) -> dict[str, list[float]]:
    """Warm-up pass, then TIMED_PASSES passes; API and direct interleave pass by pass."""
    with httpx.Client(timeout=30) as client:
        if requests is not None:
            check_same_totals(client, base_url, token, queries, requests)
            direct_latencies(client, requests)
        api_latencies(client, base_url, token, queries)
        timings: dict[str, list[float]] = {"api": [], "direct": []}
        for number in range(TIMED_PASSES):
            timings["api"] += api_latencies(client, base_url, token, queries)
            if requests is not None:
                timings["direct"] += direct_latencies(client, requests)
            log(f"search pass {number + 1}/{TIMED_PASSES}: api p50 {percentile(timings['api'], 0.5):.1f} ms")
    return timings
