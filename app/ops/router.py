"""Liveness, readiness and metrics: no credentials, nothing secret."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from app import metrics as app_metrics
from app.search import indexer
from app.search.backend import READY_STATUSES

router = APIRouter(tags=["operations"])


@router.get("/healthz", operation_id="healthz")
async def healthz() -> dict[str, str]:
    """The process is alive (answered on the event loop: it needs no thread, and it is the
    baseline the authentication benchmark compares cached requests against)."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="readyz")
def readyz(request: Request) -> JSONResponse:
    """Database and search backend reachable; how many changes wait to be indexed.

    The search backend reports its state: "ok" (database backend), or the Elasticsearch
    cluster's colour: green and yellow are ready, red (a primary shard missing) and
    "unavailable" (with the reason) are not."""
    state = request.app.state
    checks: dict[str, object] = {}
    ready = True
    try:
        with state.session_factory() as session:
            session.execute(text("SELECT 1"))
            checks["indexing_backlog"] = indexer.backlog(session)
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
        ready = False
    health = state.search_backend.health()
    backend_ok = health["status"] in READY_STATUSES
    checks["search_backend"] = {"name": state.search_backend.name, **health}
    ready = ready and backend_ok
    return JSONResponse({"status": "ready" if ready else "not ready", **checks}, status_code=200 if ready else 503)


@router.get("/metrics", operation_id="metrics")
def metrics(request: Request) -> Response:
    """Prometheus metrics: requests, feed fetches by unit type, sign-in refusals, and, read at
    scrape time, the indexing backlog and its age and the database pool's use."""
    scrape = CollectorRegistry()
    _collect_backlog(request.app.state.session_factory, scrape)
    _collect_pool(request.app.state.session_factory, scrape)
    body = app_metrics.render_process_metrics() + generate_latest(scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _collect_backlog(session_factory: sessionmaker[Session], registry: CollectorRegistry) -> None:
    up = Gauge("ttdn_database_up", "1 when the database answered this scrape", registry=registry)
    try:
        with session_factory() as session:
            pending, age = indexer.backlog(session), indexer.backlog_age_seconds(session)
    except Exception:
        up.set(0)
        return
    up.set(1)
    Gauge("ttdn_indexing_backlog", "Changes waiting to be indexed", registry=registry).set(pending)
    Gauge("ttdn_indexing_backlog_age_seconds", "How long the oldest waiting change has waited", registry=registry).set(
        age
    )


def _collect_pool(session_factory: sessionmaker[Session], registry: CollectorRegistry) -> None:
    """Pool saturation: connections in use against the pool's size (+ overflow allowed)."""
    bind = session_factory.kw.get("bind")
    engine = getattr(bind, "engine", bind)
    pool = getattr(engine, "pool", None)
    if not isinstance(pool, QueuePool):
        return
    Gauge("ttdn_db_pool_size", "Connections the pool keeps", registry=registry).set(pool.size())
    Gauge("ttdn_db_pool_checked_out", "Connections in use right now", registry=registry).set(pool.checkedout())
    Gauge("ttdn_db_pool_overflow", "Connections open beyond the pool size", registry=registry).set(
        max(0, pool.overflow())
    )
