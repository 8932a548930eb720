"""Delivery channels: the in-app inbox (the outbox row itself), signed webhooks, e-mail and IM bots.

Each sender takes one ``Message`` and either returns or raises ``DeliveryError``; a permanent error
(a receiver that refuses the message, a missing address) is not retried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CHANNELS: tuple[str, ...] = ("inbox", "webhook", "email", "im")


GENERIC_DELIVERY_ERROR = "投递失败，请核对推送地址；详情请联系平台管理员"


def error_shown(last_error: str | None, *, detailed: bool) -> str | None:
    """The delivery error as a caller may read it: administrators see the cause, others a generic note.

    The cause ("connection refused", "HTTP 405") would tell association staff which internal ports are
    open when they point a target at the platform's network.
    """
    if last_error is None or detailed:
        return last_error
    return GENERIC_DELIVERY_ERROR


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Message:
    """One message on the wire; ``key`` is stable across retries so receivers can drop repeats.

    ``headers``: extra e-mail headers (``List-Unsubscribe`` on mails to the public).
    """

    key: str
    subject: str
    body: str
    document: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)

    def json_bytes(self) -> bytes:
        return json.dumps(self.document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
