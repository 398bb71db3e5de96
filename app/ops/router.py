"""Liveness, readiness and metrics: no credentials, nothing secret."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.search import indexer
from app.search.backend import READY_STATUSES

router = APIRouter(tags=["operations"])


@router.get("/healthz", operation_id="healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
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
def metrics() -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
