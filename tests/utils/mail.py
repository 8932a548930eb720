"""A real SMTP server (aiosmtpd) on a free local port, keeping the mail it takes."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any, TypeVar

from aiosmtpd.controller import Controller

from tests.alerts.receiver import free_port


class Mailbox:
    """Mail the test's SMTP server took. A message is stored before the server's 250 reply, and every send
    returns only after that reply, so counting right after a send sees all it sent: no sleep is needed to
    show nothing more arrived."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


BoxT = TypeVar("BoxT", bound=Mailbox)


@contextmanager
def serving(box: BoxT) -> Iterator[tuple[BoxT, int]]:
    """``box`` behind an SMTP server on 127.0.0.1; yields it and the server's port."""
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()
