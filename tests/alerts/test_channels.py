"""E-mail through a real SMTP server (aiosmtpd; STARTTLS, SMTPS and login with a certificate made here)
and IM through Apprise to a real local endpoint."""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr
from sqlalchemy import Engine, select

from alerts.channels import DeliveryError, Message, im
from alerts.channels import email as email_channel
from alerts.delivery import deliver_due
from alerts.enqueue import enqueue_pending
from core.config import Settings
from core.db import session_factory
from core.models import Delivery
from tests.alerts.receiver import Receiver, free_port
from tests.utils.alerts import make_alert, make_merchant, make_product, make_subscription
from tests.utils.auth import make_association

SMTP_LOGIN, SMTP_PASSWORD = "alerts@fairmarket.example.cn", "sq7Kx-auth-code-2026"


class Mailbox:
    """Keeps what arrives, whether it came over TLS, and the logins the server was offered."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.over_tls: list[bool] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        self.over_tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 OK"

    def authenticate(
        self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=(login, password) == (SMTP_LOGIN, SMTP_PASSWORD), handled=False)


@contextmanager
def _smtp_server(*, login: bool = False, **options: Any) -> Iterator[tuple[Mailbox, int]]:
    """A real aiosmtpd server on a free local port delivering into a new mailbox; ``login``: required."""
    box, port = Mailbox(), free_port()
    if login:
        options.update(authenticator=box.authenticate, auth_required=True)
    controller = Controller(box, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with _smtp_server() as served:
        yield served


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(certificate_authority: trustme.CA, tmp_path: Path) -> Path:
    """The test CA's certificate, for ``smtp_ca_file``: the server's certificate is verified, not skipped."""
    path = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(path))
    return path


def _server_context(certificate_authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def starttls_mailbox(certificate_authority: trustme.CA) -> Iterator[tuple[Mailbox, int]]:
    """A server that offers STARTTLS, requires it before mail, and offers login only after it."""
    context = _server_context(certificate_authority)
    with _smtp_server(login=True, tls_context=context, require_starttls=True) as served:
        yield served


@pytest.fixture
def smtps_mailbox(certificate_authority: trustme.CA) -> Iterator[tuple[Mailbox, int]]:
    """A server that speaks TLS from the first byte (SMTPS, as on port 465) and requires login."""
    context = _server_context(certificate_authority)
    # The whole connection is TLS, but aiosmtpd only counts STARTTLS as TLS for offering login.
    with _smtp_server(login=True, ssl_context=context, auth_require_tls=False) as served:
        yield served


MESSAGE = Message(
    key="alert:1:sub:1:email", subject="【公平市场】价格预警", body="鸡蛋 6.4 元/500克", document={}
)
RECIPIENT = "jiance@chaoshi.example.cn"


def _smtp(
    port: int, security: str, *, password: str = SMTP_PASSWORD, ca_file: Path | None = None
) -> Settings:
    """Settings for the local server on ``port``, logging in as the mailbox expects (no database needed)."""
    return Settings(environment="test").model_copy(
        update={
            "smtp_port": port,
            "smtp_security": security,
            "smtp_username": SMTP_LOGIN,
            "smtp_password": SecretStr(password),
            "smtp_ca_file": ca_file,
        }
    )


def test_starttls_upgrades_the_connection_before_logging_in(
    starttls_mailbox: tuple[Mailbox, int], ca_file: Path
) -> None:
    box, port = starttls_mailbox
    email_channel.send(_smtp(port, "starttls", ca_file=ca_file), RECIPIENT, MESSAGE)
    ((recipients, message),) = box.messages
    assert recipients == [RECIPIENT] and message["Subject"] == MESSAGE.subject
    assert box.over_tls == [True] and box.logins == [(SMTP_LOGIN, SMTP_PASSWORD)]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_sends_over_smtps_with_login(smtps_mailbox: tuple[Mailbox, int], ca_file: Path) -> None:
    box, port = smtps_mailbox
    email_channel.send(_smtp(port, "tls", ca_file=ca_file), RECIPIENT, MESSAGE)
    assert len(box.messages) == 1 and box.over_tls == [True] and box.logins == [(SMTP_LOGIN, SMTP_PASSWORD)]


def test_a_refused_login_is_retried_and_says_so(starttls_mailbox: tuple[Mailbox, int], ca_file: Path) -> None:
    box, port = starttls_mailbox
    with pytest.raises(DeliveryError) as refused:
        email_channel.send(
            _smtp(port, "starttls", password="wrong-password", ca_file=ca_file), RECIPIENT, MESSAGE
        )
    assert not refused.value.permanent  # fixing the password in time still delivers it
    assert str(refused.value) == f"smtp login refused for {SMTP_LOGIN}: 535"
    assert box.messages == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_certificate_that_is_not_trusted_stops_the_message_before_login(
    starttls_mailbox: tuple[Mailbox, int], smtps_mailbox: tuple[Mailbox, int], security: str
) -> None:
    box, port = starttls_mailbox if security == "starttls" else smtps_mailbox
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        email_channel.send(_smtp(port, security), RECIPIENT, MESSAGE)
    assert box.messages == [] and box.logins == []


def test_a_plain_server_cannot_be_asked_for_starttls(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    with pytest.raises(DeliveryError, match="STARTTLS extension not supported"):
        email_channel.send(_smtp(port, "starttls"), RECIPIENT, MESSAGE)
    assert box.messages == []


def test_smtp_settings_default_smtps_to_465_and_keep_passwords_off_plain_connections() -> None:
    assert Settings(smtp_security="tls").smtp_port == 465
    assert Settings(smtp_security="tls", smtp_port=2465).smtp_port == 2465
    assert Settings(smtp_security="starttls").smtp_port == 25
    with pytest.raises(ValueError, match="FAIRMARKET_SMTP_SECURITY") as refused:
        Settings(smtp_host="smtp.example.cn", smtp_username=SMTP_LOGIN, smtp_password=SMTP_PASSWORD)
    assert SMTP_PASSWORD not in str(refused.value)
    assert Settings(smtp_host="localhost", smtp_username=SMTP_LOGIN).smtp_security == "none"
    assert SMTP_PASSWORD not in repr(Settings(smtp_password=SMTP_PASSWORD))
    with pytest.raises(ValueError, match="ASCII"):
        Settings(smtp_security="starttls", smtp_username=SMTP_LOGIN, smtp_password="邮件密码")


def test_email_carries_a_chinese_subject_and_the_evidence(
    engine: Engine, settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    with session_factory(engine)() as session:
        supermarkets = make_association(session, "chaoshi", ["supermarket"])
        make_subscription(session, supermarkets, channels=["email"], email="jiance@chaoshi.example.cn")
        make_alert(
            session,
            merchant=make_merchant(session, "家乐福南岗店", "supermarket"),
            product=make_product(session, "鸡蛋"),
            severity="critical",
        )
        enqueue_pending(session)
    stats = deliver_due(session_factory(engine), settings)
    assert stats.sent == 1
    ((recipients, message),) = box.messages
    assert recipients == ["jiance@chaoshi.example.cn"]
    assert message["Subject"] == "【公平市场】紧急级价格预警：家乐福南岗店 鸡蛋"
    text = message.get_content()
    assert "当前价格：6.4 元/500克" in text
    assert "参考价格：3.2 元/500克（2020-01-14 至 2020-01-22" in text
    assert "涨幅：+100.0%，阈值：10%" in text
    assert "California Penal Code §396" in text
    assert message["X-FairMarket-Key"].startswith("alert:")


def test_email_to_an_unreachable_server_is_retried(engine: Engine, settings: Settings) -> None:
    settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    with session_factory(engine)() as session:
        supermarkets = make_association(session, "chaoshi", ["supermarket"])
        make_subscription(session, supermarkets, channels=["email"], email="jiance@chaoshi.example.cn")
        make_alert(session, merchant=make_merchant(session, "沃尔玛", "supermarket"), product=None)
        enqueue_pending(session)
    stats = deliver_due(session_factory(engine), settings)
    assert (stats.sent, stats.retrying) == (0, 1)


def test_im_goes_through_apprise_once_per_bot(engine: Engine, settings: Settings) -> None:
    receiver = Receiver().start()
    second_bot = f"{receiver.apprise_url}?bot=2"
    try:
        with session_factory(engine)() as session:
            supermarkets = make_association(session, "chaoshi", ["supermarket"])
            make_subscription(
                session, supermarkets, channels=["im"], apprise_urls=[receiver.apprise_url, second_bot]
            )
            make_alert(session, merchant=make_merchant(session, "大润发", "supermarket"), product=None)
            assert enqueue_pending(session) == 3  # two bots and the inbox
            keys = set(session.scalars(select(Delivery.dedupe_key).where(Delivery.channel == "im")))
        stats = deliver_due(session_factory(engine), settings)
        assert deliver_due(session_factory(engine), settings).claimed == 0
    finally:
        receiver.stop()
    assert stats.sent == 2
    assert {key.rsplit(":", 1)[1] for key in keys} == {
        im.url_fingerprint(receiver.apprise_url),
        im.url_fingerprint(second_bot),
    }
    assert len(receiver.apprise) == 2
    assert all(post["title"].startswith("【公平市场】") for post in receiver.apprise)
    assert all("参考价格" in post["message"] for post in receiver.apprise)


def test_an_unreachable_bot_is_retried_with_apprises_reason(engine: Engine, settings: Settings) -> None:
    with session_factory(engine)() as session:
        supermarkets = make_association(session, "chaoshi", ["supermarket"])
        make_subscription(
            session, supermarkets, channels=["im"], apprise_urls=[f"json://127.0.0.1:{free_port()}/down"]
        )
        make_alert(session, merchant=make_merchant(session, "大润发", "supermarket"), product=None)
        enqueue_pending(session)
        stats = deliver_due(session_factory(engine), settings)
        row = session.scalar(select(Delivery).where(Delivery.channel == "im"))
    assert stats.retrying == 1
    assert row is not None and row.status == "retrying"
    assert row.last_error and row.last_error.startswith("IM notification failed via json://")


def test_bot_urls_are_never_shown_in_full() -> None:
    assert im.redact("dingtalk://secret-token-abcd") == "dingtalk://…abcd"
    assert im.is_supported("wecombot://botkey") and im.is_supported("feishu://token")
    assert not im.is_supported("nonsense://x")
