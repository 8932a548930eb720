"""CSRF protection for the HTML pages' forms: a signed double-submit token.

For page authors:

- In a template, put ``<input type="hidden" name="csrf_token" value="{{ csrf_token(request) }}">`` in
  every form that POSTs (register ``csrf_token`` as a Jinja global, or pass ``csrf_token(request)``
  in the context). The first call in a request sets the ``fairmarket_csrf`` cookie on the response.
- On the route that receives the form, add the dependency: ``_: CsrfProtected``. It accepts the
  token from the ``csrf_token`` form field or the ``X-CSRF-Token`` header (for fetch() calls) and
  answers 403 when it is missing or does not match the cookie.

The JSON API needs none of this: it authenticates with bearer tokens or API keys, never cookies.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from core.security import csrf_token_valid, new_csrf_token
from web.deps import SettingsDep

CSRF_COOKIE = "fairmarket_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
PENDING_COOKIE_STATE = "csrf_cookie_to_set"


def csrf_token(request: Request) -> str:
    """The token to embed in this request's forms; reuses a valid cookie, else issues a new one."""
    secret: str = request.app.state.settings.secret_key
    pending: str | None = getattr(request.state, PENDING_COOKIE_STATE, None)
    if pending:
        return pending
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if cookie and csrf_token_valid(cookie, secret):
        return cookie
    token = new_csrf_token(secret)
    setattr(request.state, PENDING_COOKIE_STATE, token)
    return token


async def require_csrf(request: Request, settings: SettingsDep) -> None:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else ""
    if not (
        cookie
        and sent
        and hmac.compare_digest(cookie, sent)
        and csrf_token_valid(cookie, settings.secret_key)
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "表单已过期或来源无效，请刷新页面后重试 (CSRF check failed)"
        )


CsrfProtected = Annotated[None, Depends(require_csrf)]
