"""create_app(): the lifespan builds engine, session factory and search backend; routers; errors."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.deps import AUDIT_READERS
from app.accounts.router import router as accounts_router
from app.audit.router import router as audit_router
from app.bundles.router import router as bundles_router
from app.claims.router import router as claims_router
from app.config import Settings, get_settings, with_secret_key
from app.db import TransactionMiddleware, build_engine, build_session_factory
from app.docs import install_docs
from app.errors import install_error_handlers
from app.feeds import signing
from app.feeds.browser import router as feeds_browser_router
from app.feeds.router import router as feeds_router
from app.http import (
    BodyLimitMiddleware,
    HeadMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
    UnhandledErrorMiddleware,
)
from app.inputs import InputCheckMiddleware
from app.logs import AccessLogMiddleware, configure_logging
from app.materials.router import router as materials_router
from app.openapi import install_openapi
from app.ops.router import router as ops_router
from app.organisations.router import router as organisations_router
from app.reports.router import router as reports_router
from app.search.backend import READY_STATUSES, SearchBackend
from app.search.factory import build_search_backend
from app.search.router import router as search_router
from app.taxonomy.router import router as taxonomy_router
from app.units.router import router as units_router
from app.urls import API_PREFIX
from app.webhooks.router import router as webhooks_router
from app.wiring import background_workers, register_hooks

log = logging.getLogger("ttdn.startup")


def _report_search_health(backend: SearchBackend) -> None:
    """Say at start-up, in the log, why the search backend cannot be used (wrong key, CA, scheme...).
    The service still starts: writes wait in the outbox, and /readyz says the same."""
    health = backend.health()
    if health["status"] not in READY_STATUSES:
        log.error("search backend %s not ready: %s", backend.name, health.get("reason", health["status"]))


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    search_backend: SearchBackend | None = None,
) -> FastAPI:
    """Build the application. Tests pass their own session factory and backend."""
    # A fresh installation makes its own secrets here, on first start (kept in DATA_DIR).
    settings = with_secret_key(settings or get_settings())
    signing.private_key(settings)
    register_hooks()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = None
        factory = session_factory
        if factory is None:
            engine = build_engine(settings.sqlalchemy_url, write_wait_seconds=settings.write_wait_seconds)
            factory = build_session_factory(engine)
        backend = search_backend or build_search_backend(settings, factory)
        if backend.name == "elasticsearch":
            await anyio.to_thread.run_sync(_report_search_health, backend)
        app.state.session_factory = factory
        app.state.search_backend = backend
        workers = background_workers(factory, backend, settings)
        for worker in workers:
            worker.start()
        try:
            yield
        finally:
            for worker in reversed(workers):
                worker.stop()
            if engine is not None:
                engine.dispose()

    app = FastAPI(
        title="ttdn-hub",
        version="1.0",
        description="External-information materials for Vietnam's border regions.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app)
    app.state.settings = settings
    install_error_handlers(app)
    install_openapi(app)

    api = APIRouter(prefix=API_PREFIX)
    # Dispatch order: a request is matched against the routes one by one, in this order, which
    # costs more than anything else in a cheap request. The feeds come first because border
    # units poll them all day (an unchanged feed is a 304 from memory), then search; the HTML
    # pages stay before the JSON feed routes, whose `/feed/bundles/{bundle_id}` would also match
    # `/feed/bundles/{id}.html`. The documentation keeps its own order (OPENAPI_TAGS).
    for router in (
        feeds_browser_router,
        feeds_router,
        search_router,
        accounts_router,
        taxonomy_router,
        materials_router,
        units_router,
        bundles_router,
        organisations_router,
        claims_router,
        reports_router,
        webhooks_router,
    ):
        api.include_router(router)
    # The audit trail imports no other domain, so who may read it is declared here.
    api.include_router(audit_router, dependencies=[AUDIT_READERS])
    app.include_router(api)
    app.include_router(ops_router)

    # Outermost last: request context wraps everything, so even a 413 carries a request id.
    # HEAD becomes GET only for the routes: everything outside still sees (and logs) HEAD.
    app.add_middleware(HeadMiddleware)
    app.add_middleware(TransactionMiddleware)
    app.add_middleware(InputCheckMiddleware)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Request-ID"],
            expose_headers=["ETag", "Location", "X-Request-ID", "Retry-After"],
        )
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(RequestContextMiddleware)
    configure_logging(settings.log_format, settings.log_level)
    return app
