"""Hardening middleware: NUL guard, request size limit, security headers, CORS and per-client rate limit.

All are plain ASGI middleware so they also see streamed bodies and answer before a route runs;
every refusal uses the one JSON error shape of ``api.errors``.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.csrf import CSRF_COOKIE, PENDING_COOKIE_STATE
from api.errors import error_response
from api.rate_limits import RateLimitMiddleware
from core.config import Settings

DOCS_PATHS = ("/docs", "/redoc")

TOO_LARGE_MESSAGE = "请求内容过大 (request body too large)"


class RequestTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit; FastAPI lets it through as is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"{TOO_LARGE_MESSAGE}: 上限 {limit} 字节")


PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
# /docs loads Swagger UI from this server (api/docs.py); its page starts it with an inline script.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'"
)
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"
NUL_MESSAGE = "请求地址或参数包含无效字符 (NUL byte in URL)"
#: Only pages render scripts; API answers never need a nonce, so none is drawn for them.
API_PREFIX = "/api/"


def _security_headers(https_only: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if https_only:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


def _has_nul(scope: Scope) -> bool:
    query = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


class HardeningMiddleware:
    """One pass per request: NUL-byte guard (400), body size limit (413) and security headers.

    A NUL byte in the path or query is refused: no route wants one and PostgreSQL refuses it in text.
    A body over ``max_bytes`` is refused by Content-Length up front, else while it streams in (a
    malformed Content-Length never gets here: the HTTP server answers 400 itself); requests without a
    body are not wrapped at all. Every response gets the security headers, computed once; pages get a
    CSP whose per-request nonce allows their scripts — templates read it as
    ``request.state.csp_nonce``: ``<script nonce="{{ request.state.csp_nonce }}">``. This middleware
    also sets the CSRF cookie that ``api.csrf.csrf_token`` asked for.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, https_only: bool) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.https_only = https_only
        self.fixed_headers = _security_headers(https_only)
        self.data_headers = [*self.fixed_headers, (b"content-security-policy", DATA_CSP.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            await self._respond(error_response(400, "bad_request", NUL_MESSAGE), scope, receive, send)
            return
        declared, streamed = b"", False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                streamed = True
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse_too_large(scope, receive, send)
            return
        path = scope["path"]
        state = scope.setdefault("state", {})
        nonce = None
        if not path.startswith(API_PREFIX):
            nonce = state["csp_nonce"] = secrets.token_urlsafe(16)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), *self._headers_for(path, message, nonce)]
                pending = state.get(PENDING_COOKIE_STATE)
                if pending:
                    message["headers"].append((b"set-cookie", self._csrf_cookie(pending).encode("latin-1")))
            await send(message)

        if not (declared or streamed):
            await self.app(scope, receive, send_with_headers)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestTooLarge(self.max_bytes)
            return message

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except RequestTooLarge:
            if started:
                raise
            await self._refuse_too_large(scope, receive, send)

    def _headers_for(self, path: str, message: Message, nonce: str | None) -> list[tuple[bytes, bytes]]:
        if path in DOCS_PATHS:
            return [*self.fixed_headers, (b"content-security-policy", DOCS_CSP.encode())]
        is_html = any(
            name.lower() == b"content-type" and value.startswith(b"text/html")
            for name, value in message.get("headers", ())
        )
        if is_html and nonce is not None:
            policy = PAGE_CSP.format(nonce=nonce).encode()
            return [*self.fixed_headers, (b"content-security-policy", policy)]
        return self.data_headers

    async def _refuse_too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = str(RequestTooLarge(self.max_bytes).detail)
        await self._respond(error_response(413, "payload_too_large", message), scope, receive, send)

    async def _respond(self, response: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *self.data_headers]
            await send(message)

        await response(scope, receive, with_headers)

    def _csrf_cookie(self, token: str) -> str:
        cookie: SimpleCookie = SimpleCookie()
        cookie[CSRF_COOKIE] = token
        morsel = cookie[CSRF_COOKIE]
        morsel["path"] = "/"
        morsel["httponly"] = True
        morsel["samesite"] = "Strict"
        morsel["secure"] = self.https_only
        return morsel.OutputString()


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Outermost first: hardening (NUL guard, body size, security headers), CORS, rate limit.

    The rate limiter lives in ``api.rate_limits`` (shared across workers, keyed on verified principals).
    """
    app.add_middleware(RateLimitMiddleware, settings=settings, engine=getattr(app.state, "engine", None))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-CSRF-Token"],
            max_age=600,
        )
    app.add_middleware(
        HardeningMiddleware,
        max_bytes=settings.max_request_bytes,
        https_only=settings.environment == "production",
    )
