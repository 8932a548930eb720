"""Signed JSON webhooks: HMAC-SHA256 over ``f"{timestamp}.{body}"`` with the subscriber's secret.

The scheme (headers, replay window, a receiver in a few lines) is documented in docs/webhooks.md.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
import time
from functools import cache

import certifi
import httpx

from alerts.channels import DeliveryError, Message

TIMEOUT_SECONDS = 10.0
_RETRYABLE_STATUS = frozenset({408, 425, 429})


@cache
def _tls_context() -> ssl.SSLContext:
    """Built once: loading the CA bundle costs far more than a local POST."""
    return ssl.create_default_context(cafile=certifi.where())


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def send(url: str, secret: str, message: Message, *, timeout: float = TIMEOUT_SECONDS) -> None:
    """POST the message; 2xx is success, 4xx (but 408/425/429) is a permanent refusal."""
    body = message.json_bytes()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "FairMarket-Webhook/1",
        "Idempotency-Key": message.key,
        "X-FairMarket-Timestamp": timestamp,
        "X-FairMarket-Signature": signature(secret, timestamp, body),
    }
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout, verify=_tls_context())
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook unreachable: {type(exc).__name__}: {exc}") from exc
    if response.is_success:
        return
    permanent = 400 <= response.status_code < 500 and response.status_code not in _RETRYABLE_STATUS
    raise DeliveryError(f"webhook answered HTTP {response.status_code}", permanent=permanent)
