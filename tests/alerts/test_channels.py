"""E-mail through a real SMTP server (aiosmtpd) and IM through Apprise to a real local endpoint."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from alerts.channels import im
from alerts.outbox import deliver_due, enqueue_pending
from core.config import Settings
from core.db import session_factory
from core.models import Delivery
from tests.alerts.receiver import Receiver, free_port
from tests.utils.alerts import make_alert, make_merchant, make_product, make_subscription
from tests.utils.auth import make_association


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


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
