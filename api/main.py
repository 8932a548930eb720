"""Builds the FastAPI application; routers are collected in ``api.routes``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, FastAPI

from api import docs
from api.errors import ERROR_RESPONSES, install_error_handlers
from api.middleware import install_middleware
from api.public_reads import PublicReads, PublicReadsFastPath
from api.routes import (
    alerts,
    audit,
    auth,
    classification_proposals,
    complaint_search,
    complaints,
    crawls,
    health,
    inbox,
    jobs,
    merchants,
    price_follows,
    prices,
    products,
    provisional_goods,
    subscriptions,
    users,
    watches,
)
from complaints.service import learned_classifier
from core.config import Settings, get_settings
from core.db import get_engine, prepare_database, session_factory
from core.tokenizer import get_tokenizer
from dashboards import pages
from search.masking import remask_at_start
from web.static import CachedStaticFiles

log = logging.getLogger(__name__)


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api", responses=ERROR_RESPONSES)
    router.include_router(health.router)
    router.include_router(auth.router)
    router.include_router(users.router)
    router.include_router(audit.router)
    router.include_router(complaint_search.router)
    router.include_router(complaints.router)
    router.include_router(classification_proposals.router)
    router.include_router(products.router)
    router.include_router(provisional_goods.router)
    router.include_router(prices.router)
    router.include_router(price_follows.router)
    router.include_router(crawls.router)
    router.include_router(jobs.router)
    router.include_router(alerts.router)
    router.include_router(inbox.router)
    router.include_router(subscriptions.router)
    router.include_router(watches.router)
    router.include_router(merchants.router)
    return router


def warm_up(app: FastAPI) -> None:
    """Load jieba's dictionaries and the classifier before serving: with several workers, each would
    otherwise stall its first complaints and searches for seconds."""
    get_tokenizer()
    try:
        with app.state.sessions() as session:
            learned_classifier(app.state, session)
    except Exception:  # the database may be down at start; the classifier then loads on first use
        log.exception("complaint classifier not loaded at start")


# The middleware refuses a NUL byte anywhere in the URL (400), before any route: no string parameter
# may hold one, and the schema says so.
NUL_FREE_PATTERN = "^[^\\x00]*$"


def _nul_free(schema: dict[str, Any]) -> None:
    if schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema:
        schema["pattern"] = NUL_FREE_PATTERN
    for key in ("anyOf", "oneOf", "allOf"):
        for member in schema.get(key, []):
            _nul_free(member)
    if isinstance(schema.get("items"), dict):
        _nul_free(schema["items"])


def _with_nul_free_parameters(build: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """The app's OpenAPI builder, with every path and query string parameter declared NUL-free."""

    def openapi() -> dict[str, Any]:
        schema = build()  # cached by FastAPI: patched once, returned as is afterwards
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                for parameter in operation.get("parameters", []):
                    _nul_free(parameter.get("schema", {}))
        return schema

    return openapi


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or get_settings()
    engine = get_engine(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if migrate:
            prepare_database(engine)
            await to_thread.run_sync(remask_at_start, settings, engine)
            await to_thread.run_sync(warm_up, app)
        yield

    app = FastAPI(
        title="FairMarket",
        description="消费维权投诉与民生商品价格监测平台 API",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.public_reads = PublicReads(engine, app.state.sessions)
    install_error_handlers(app, html_page=pages.error_page)
    app.add_middleware(PublicReadsFastPath, reads=app.state.public_reads)  # innermost: after rate limits
    app.state.database_probe = health.DatabaseProbe(engine)
    app.add_middleware(health.HealthFastPath, settings=settings, probe=app.state.database_probe)
    install_middleware(app, settings)
    app.include_router(api_router())
    app.include_router(docs.router)
    app.openapi = _with_nul_free_parameters(app.openapi)  # type: ignore[method-assign]
    # The pages before the /static mounts: they serve /static/vendor/plotly.min.js (gzipped) themselves.
    app.include_router(pages.router)
    swagger_ui = CachedStaticFiles(directory=docs.ASSETS, cache_control=docs.ASSET_CACHE)
    app.mount(docs.ASSET_PREFIX, swagger_ui, name="swagger-ui")
    app.mount(
        "/static",
        CachedStaticFiles(directory=pages.STATIC_DIR, cache_control=pages.STATIC_CACHE),
        name="static",
    )
    return app
