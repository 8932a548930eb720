"""IM bots (DingTalk ``dingtalk://``, WeCom ``wecombot://``, Feishu ``feishu://`` …) through Apprise.

One delivery per bot URL, so a retry never re-posts to a bot that already has the message.
"""

from __future__ import annotations

import hashlib

import apprise

from alerts.channels import DeliveryError, Message


def url_fingerprint(url: str) -> str:
    """Names a bot URL in keys and payloads without exposing its token."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def is_supported(url: str) -> bool:
    return apprise.Apprise().add(url)


def redact(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://…{rest[-4:]}" if rest else url


def send(url: str, message: Message) -> None:
    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise DeliveryError(f"unsupported IM URL {redact(url)}", permanent=True)
    with apprise.LogCapture(level=apprise.logging.WARNING) as log:
        sent = notifier.notify(
            title=message.subject, body=message.body, body_format=apprise.NotifyFormat.TEXT
        )
        if not sent:
            detail = " ".join(log.getvalue().split())[-300:]
            raise DeliveryError(f"IM notification failed via {redact(url)}: {detail}")
