"""E-mail over SMTP: a UTF-8 plain-text message with a Chinese subject and the alert's evidence."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from alerts.channels import DeliveryError, Message
from core.config import Settings

TIMEOUT_SECONDS = 15.0


def build(message: Message, *, sender: str, recipient: str) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = sender
    email["To"] = recipient
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    email["X-FairMarket-Key"] = message.key
    email.set_content(message.body, charset="utf-8")
    return email


def send(settings: Settings, recipient: str, message: Message) -> None:
    email = build(message, sender=settings.smtp_sender, recipient=recipient)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            smtp.send_message(email)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"recipient refused: {recipient}", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"smtp failed: {type(exc).__name__}: {exc}") from exc
