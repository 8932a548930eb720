"""E-mail over SMTP: a UTF-8 plain-text message with a Chinese subject and the alert's evidence.

The connection is plain, upgraded with STARTTLS, or TLS from the first byte (SMTPS, port 465), as
``smtp_security`` says; the server's certificate is always verified, and the sender logs in when
``smtp_username`` is set.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from pathlib import Path

import certifi

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
    for name, value in message.headers.items():
        email[name] = value
    email.set_content(message.body, charset="utf-8")
    return email


@cache
def _tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Built once per CA bundle: loading it costs more than sending a message."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else certifi.where())


def _connect(settings: Settings) -> smtplib.SMTP:
    """An open SMTP session on the configured security, logged in when credentials are set."""
    if settings.smtp_security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=TIMEOUT_SECONDS,
            context=_tls_context(settings.smtp_ca_file),
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
    try:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=_tls_context(settings.smtp_ca_file))
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
    except BaseException:
        smtp.close()
        raise
    return smtp


def send(settings: Settings, recipient: str, message: Message) -> None:
    """Send one message; a refused recipient is permanent, anything else (login included) is retried."""
    email = build(message, sender=settings.smtp_sender, recipient=recipient)
    try:
        with _connect(settings) as smtp:
            smtp.send_message(email)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"recipient refused: {recipient}", permanent=True) from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"smtp login refused for {settings.smtp_username}: {exc.smtp_code}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"smtp failed: {type(exc).__name__}: {exc}") from exc
