"""One JSON error shape everywhere: ``{"error": {"code", "message", "details"}}``, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """The one error shape of the API."""

    error: ErrorDetail


_ERROR_MEANINGS = {
    400: "请求格式错误 (bad request)",
    401: "未登录或凭证无效 (not authenticated)",
    403: "无权访问 (forbidden for this role)",
    404: "不存在或无权查看 (not found)",
    409: "与当前状态冲突 (conflict)",
    413: "请求内容过大 (body too large)",
    422: "请求参数无效 (invalid request)",
    429: "请求过于频繁 (rate limited)",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": meaning} for status, meaning in _ERROR_MEANINGS.items()
}
"""Declared on the API router so the OpenAPI schema documents every error answer any route can give."""


def error_response(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": {"code": code, "message": message, "details": details}}
    )


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": err.get("type")}
        for err in exc.errors()
    ]


_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    routes = request.app.router.routes
    return [
        method
        for method in _HTTP_METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]


HtmlErrorPage = Callable[[Request, int], Response]
"""Renders the page a browser gets for an error status (the site's own look, in Chinese)."""


def wants_html(request: Request) -> bool:
    """A browser asking for a page: not an /api path, and HTML accepted. API clients keep JSON."""
    if request.url.path == "/api" or request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def install_error_handlers(app: FastAPI, html_page: HtmlErrorPage | None = None) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if html_page is not None and exc.status_code == 404 and wants_html(request):
            return html_page(request, exc.status_code)
        code = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
            413: "payload_too_large",
            422: "invalid_request",
            429: "rate_limited",
        }.get(exc.status_code, "http_error")
        response = error_response(exc.status_code, code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(
            422, "invalid_request", "请求参数无效 (invalid request)", _validation_details(exc)
        )

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
        """A value the database cannot hold (an id past 64 bits, a NUL in text) is the client's error."""
        log.info("value refused by the database on %s %s: %s", request.method, request.url.path, exc)
        return error_response(
            422, "invalid_request", "请求参数超出允许范围 (value out of range for this field)"
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if html_page is not None and wants_html(request):
            return html_page(request, 500)
        return error_response(500, "internal_error", "服务器内部错误 (internal error)")
