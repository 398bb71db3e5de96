"""Prometheus metrics that any part of the service may update (a kit module: it imports no
domain). What is cheaper to read at scrape time than to keep up to date (the indexing backlog,
the database pool) is collected by /metrics itself (app/ops/router.py).

With several worker processes, set PROMETHEUS_MULTIPROC_DIR (`ttdn serve --workers N` does) so
that every process's counters are added up in one scrape.
"""

import os

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

HTTP_REQUESTS = Counter("ttdn_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
HTTP_DURATION = Histogram(
    "ttdn_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
FEED_FETCHES = Counter(
    "ttdn_feed_fetches_total", "Feed reads by border units (any format, 304s included)", ["unit_type", "format"]
)
SIGN_IN_REFUSALS = Counter(
    "ttdn_sign_in_refusals_total", "Staff sign-ins refused", ["reason"]
)  # reason: bad_credentials, throttled


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(route).observe(seconds)


def render_process_metrics() -> bytes:
    """Every counter of this process, or of all worker processes in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)
