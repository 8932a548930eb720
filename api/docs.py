"""Interactive API docs that work offline: Swagger UI from the installed ``swagger-ui-bundle-v2`` wheel
(Swagger UI 5, which reads the OpenAPI 3.1 FastAPI writes).

FastAPI's own ``/docs`` loads Swagger UI from a CDN, so on a city's intranet (or any machine without
internet) it is a blank page. Here the same page loads the assets this app serves from the wheel.
ReDoc has no offline package, so ``/redoc`` leads to these docs.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, status
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, RedirectResponse
from swagger_ui_bundle import swagger_ui_path

ASSETS = Path(swagger_ui_path)
ASSET_PREFIX = "/static/vendor/swagger-ui"
ASSET_CACHE = "public, max-age=604800"

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} · 接口文档",
        swagger_js_url=f"{ASSET_PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSET_PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{ASSET_PREFIX}/favicon-32x32.png",
        oauth2_redirect_url="/docs/oauth2-redirect",
    )


@router.get("/docs/oauth2-redirect", response_class=HTMLResponse)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", response_class=RedirectResponse)
def redoc() -> RedirectResponse:
    return RedirectResponse("/docs", status_code=status.HTTP_307_TEMPORARY_REDIRECT)
