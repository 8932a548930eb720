"""Public price follows end to end through a real SMTP server (aiosmtpd), on SQLite and PostgreSQL:
double opt-in, one notice per move beyond the threshold, one-click unsubscribe, refused tokens."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.price_follows import CONFIRM_WITHIN, run_price_follows
from api.main import create_app
from core.catalogue import seed_catalogue
from core.config import Settings
from core.models import PriceFollow, Product
from core.prices import PriceInput, store_observations
from tests.alerts.receiver import free_port
from tests.utils.mail import Mailbox, serving
from tests.utils.waiting import wait_until

PUBLIC_URL = "https://jiage.example.cn"
ADDRESS = "Reader@Example.cn"
CITY = "哈尔滨"
DAY = dt.date(2026, 11, 2)
LINK = re.compile(re.escape(PUBLIC_URL) + r"/[^\s]+")


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with serving(Mailbox()) as served:
        yield served


@pytest.fixture
def mail_settings(settings: Settings, mailbox: tuple[Mailbox, int]) -> Settings:
    return settings.model_copy(
        update={"smtp_port": mailbox[1], "public_url": PUBLIC_URL, "rate_limit_per_minute": 0}
    )


@pytest.fixture
def app_client(mail_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(mail_settings)) as client:
        yield client


@pytest.fixture
def pork(app_client: TestClient, session: Session) -> Product:
    seed_catalogue(session)
    session.commit()
    return session.scalars(select(Product).where(Product.code == "pork")).one()


def _price_day(
    session: Session, product: Product, day: dt.date, prices: list[float], region: str = CITY
) -> None:
    """One day of retail prices of the good at as many sellers as prices."""
    store_observations(
        session,
        [
            PriceInput(
                source="survey",
                product_id=product.id,
                observed_at=dt.datetime.combine(day, dt.time(9)),
                price=price,
                raw_unit="元/500g",
                unit_price=price,
                standard_unit="500g",
                merchant=f"超市{number}",
                region=region,
            )
            for number, price in enumerate(prices)
        ],
    )
    session.commit()


def _wait_for(box: Mailbox, count: int) -> None:
    """The scheduler's jobs send on their own thread; wait until ``count`` mails arrived."""
    wait_until(lambda: len(box.messages) >= count, f"{count} mails", timeout=10)


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _link(message: EmailMessage, path: str) -> str:
    """The path and query of the mail's link to ``path`` (the test client serves it locally)."""
    for url in LINK.findall(_body(message)):
        parts = urlsplit(url)
        if parts.path == path:
            return f"{parts.path}?{parts.query}"
    raise AssertionError(f"no link to {path} in {_body(message)!r}")


def _token(link: str) -> str:
    return link.split("token=", 1)[1]


def _follow(client: TestClient, **fields: Any) -> Any:
    body = {"email": ADDRESS, "product": "pork", "region": CITY, **fields}
    return client.post("/api/price-follows", json=body)


def _cycle(session: Session, settings: Settings) -> dict[str, int]:
    session.expire_all()
    return run_price_follows(session, settings)


def test_confirmed_follow_gets_one_mail_per_move_until_unsubscribed(
    app_client: TestClient,
    session: Session,
    mail_settings: Settings,
    mailbox: tuple[Mailbox, int],
    pork: Product,
) -> None:
    box, _ = mailbox
    _price_day(session, pork, DAY, [10.0, 10.0, 10.0])

    requested = _follow(app_client)
    assert requested.status_code == 202
    _wait_for(box, 1)
    confirmation = box.messages[0]
    assert confirmation["To"] == ADDRESS
    assert "请确认关注" in confirmation["Subject"]
    assert confirmation["List-Unsubscribe"].startswith(f"<{PUBLIC_URL}/api/price-follows/unsubscribe?token=")
    assert confirmation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    confirm_link = _link(confirmation, "/price-follows/confirm")

    # Unconfirmed: a move far beyond the threshold sends nothing.
    _price_day(session, pork, DAY + dt.timedelta(days=1), [12.0, 12.0, 12.0])
    assert _cycle(session, mail_settings)["notices"] == 0
    assert len(box.messages) == 1

    # The link shows a button; the button (the API) confirms. The baseline is the median now.
    page = app_client.get(confirm_link)
    assert page.status_code == 200 and "确认关注" in page.text and "猪肉" in page.text
    confirmed = app_client.post(f"/api/price-follows/confirm?token={_token(confirm_link)}")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["baseline_median"] == 12.0
    assert "email" not in confirmed.json()
    assert _cycle(session, mail_settings)["notices"] == 0

    # +12.5 % > 10 %: exactly one notice, however often the job runs.
    _price_day(session, pork, DAY + dt.timedelta(days=2), [13.5, 13.5, 13.5])
    assert _cycle(session, mail_settings) == {"expired": 0, "confirmations": 0, "moves": 1, "notices": 1}
    assert _cycle(session, mail_settings)["notices"] == 0
    _wait_for(box, 2)
    assert len(box.messages) == 2
    notice = box.messages[1]
    assert "上涨 12.5%" in notice["Subject"]
    body = _body(notice)
    assert "12.00" in body and "13.50" in body
    header_url = notice["List-Unsubscribe"].strip("<>")
    assert header_url.startswith(f"{PUBLIC_URL}/api/price-follows/unsubscribe?token=")
    unsubscribe_link = _link(notice, "/price-follows/unsubscribe")

    # A move within the threshold of the last notified median sends nothing.
    _price_day(session, pork, DAY + dt.timedelta(days=3), [14.5, 14.5, 14.5])
    assert _cycle(session, mail_settings)["notices"] == 0

    # One click on the link ends it and erases the address; the header's one-click POST agrees.
    page = app_client.get(unsubscribe_link)
    assert page.status_code == 200 and "已退订" in page.text
    one_click = app_client.post(
        urlsplit(header_url).path + "?" + urlsplit(header_url).query,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200 and one_click.json()["status"] == "unsubscribed"
    session.expire_all()
    follow = session.scalars(select(PriceFollow)).one()
    assert (follow.status, follow.email, follow.email_digest) == ("unsubscribed", None, None)

    _price_day(session, pork, DAY + dt.timedelta(days=4), [30.0, 30.0, 30.0])
    assert _cycle(session, mail_settings)["notices"] == 0
    assert len(box.messages) == 2
    # The old confirm link cannot bring it back.
    assert app_client.post(f"/api/price-follows/confirm?token={_token(confirm_link)}").status_code == 409


def test_a_fall_counts_as_a_move_and_the_threshold_is_the_followers(
    app_client: TestClient,
    session: Session,
    mail_settings: Settings,
    mailbox: tuple[Mailbox, int],
    pork: Product,
) -> None:
    box, _ = mailbox
    _price_day(session, pork, DAY, [20.0, 20.0])
    assert _follow(app_client, threshold_percent=25).status_code == 202
    _wait_for(box, 1)
    token = _token(_link(box.messages[0], "/price-follows/confirm"))
    assert app_client.post(f"/api/price-follows/confirm?token={token}").status_code == 200

    _price_day(session, pork, DAY + dt.timedelta(days=1), [16.0, 16.0])  # -20 %: within 25 %
    assert _cycle(session, mail_settings)["notices"] == 0
    _price_day(session, pork, DAY + dt.timedelta(days=2), [14.0, 14.0])  # -30 %
    assert _cycle(session, mail_settings)["notices"] == 1
    _wait_for(box, 2)
    assert "下跌 30.0%" in box.messages[1]["Subject"]


def test_requests_answer_alike_whatever_the_address_follows(
    app_client: TestClient,
    session: Session,
    mail_settings: Settings,
    mailbox: tuple[Mailbox, int],
    pork: Product,
) -> None:
    box, _ = mailbox
    first = _follow(app_client)
    _wait_for(box, 1)
    app_client.post(
        f"/api/price-follows/confirm?token={_token(_link(box.messages[0], '/price-follows/confirm'))}"
    )
    again = _follow(app_client, email=ADDRESS.lower())  # already confirmed: nothing is sent
    stranger = _follow(app_client, email="someone.else@example.cn")
    assert first.status_code == again.status_code == stranger.status_code == 202
    assert first.json() == again.json() == stranger.json()
    _wait_for(box, 2)
    assert [message["To"] for message in box.messages] == [ADDRESS, "someone.else@example.cn"]
    # A repeated request for a pending follow does not re-send at once (no mail cannon).
    assert _follow(app_client, email="someone.else@example.cn").status_code == 202
    assert len(box.messages) == 2


def test_bad_tokens_are_refused_clearly(
    app_client: TestClient, session: Session, mailbox: tuple[Mailbox, int], pork: Product
) -> None:
    box, _ = mailbox
    _follow(app_client)
    _wait_for(box, 1)
    confirm_token = _token(_link(box.messages[0], "/price-follows/confirm"))
    unsubscribe_token = _token(_link(box.messages[0], "/price-follows/unsubscribe"))
    identifier, signature = confirm_token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for token in (f"{identifier}.{flipped}", unsubscribe_token, "999999.abc", "0.x", "not-a-token"):
        response = app_client.post(f"/api/price-follows/confirm?token={token}")
        assert response.status_code == 400, (token, response.text)
        assert "链接无效或已过期" in response.json()["error"]["message"]
    assert app_client.post(f"/api/price-follows/unsubscribe?token={confirm_token}").status_code == 400
    assert app_client.post(f"/api/price-follows/unsubscribe?token=1.{'a' * 200}").status_code == 422
    page = app_client.get(f"/price-follows/confirm?token={identifier}.{flipped}")
    assert page.status_code == 400 and "链接无效或已过期" in page.text
    page = app_client.get("/price-follows/unsubscribe?token=nonsense")
    assert page.status_code == 400 and "链接无效或已过期" in page.text
    session.expire_all()
    assert session.scalars(select(PriceFollow.status)).all() == ["pending"]


def test_invalid_requests_get_a_422_or_404(app_client: TestClient, pork: Product) -> None:
    assert _follow(app_client, email="no-at-sign").status_code == 422
    assert _follow(app_client, email="a@b.cn\r\nBcc: x@y.cn").status_code == 422
    assert _follow(app_client, threshold_percent=0).status_code == 422
    assert _follow(app_client, threshold_percent=500).status_code == 422
    assert _follow(app_client, price_type="black_market").status_code == 422
    missing = _follow(app_client, product="no-such-good")
    assert missing.status_code == 404 and "未知商品" in missing.json()["error"]["message"]


def test_unconfirmed_requests_expire_and_their_address_is_deleted(
    app_client: TestClient,
    session: Session,
    mail_settings: Settings,
    mailbox: tuple[Mailbox, int],
    pork: Product,
) -> None:
    box, _ = mailbox
    _follow(app_client)
    _wait_for(box, 1)
    link = _link(box.messages[0], "/price-follows/confirm")
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + CONFIRM_WITHIN + dt.timedelta(minutes=1)
    session.expire_all()
    assert run_price_follows(session, mail_settings, now=later)["expired"] == 1
    assert session.scalars(select(PriceFollow)).all() == []
    assert app_client.get(link).status_code == 400


def test_the_job_sends_a_confirmation_the_request_could_not(
    session: Session, mail_settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    """SMTP down when the request came: the next cycle sends the confirmation, once."""
    box, _ = mailbox
    down = mail_settings.model_copy(update={"smtp_port": free_port()})
    with TestClient(create_app(down)) as client:
        assert _follow(client).status_code == 202
    assert box.messages == []
    assert _cycle(session, mail_settings)["confirmations"] == 1
    assert _cycle(session, mail_settings)["confirmations"] == 0
    _wait_for(box, 1)
    assert len(box.messages) == 1 and "请确认关注" in box.messages[0]["Subject"]


def test_a_notice_the_smtp_server_did_not_take_is_sent_once_in_a_later_cycle(
    app_client: TestClient,
    session: Session,
    mail_settings: Settings,
    mailbox: tuple[Mailbox, int],
    pork: Product,
) -> None:
    box, _ = mailbox
    _price_day(session, pork, DAY, [10.0])
    _follow(app_client)
    _wait_for(box, 1)
    token = _token(_link(box.messages[0], "/price-follows/confirm"))
    assert app_client.post(f"/api/price-follows/confirm?token={token}").status_code == 200
    _price_day(session, pork, DAY + dt.timedelta(days=1), [12.0])

    down = mail_settings.model_copy(update={"smtp_port": free_port()})
    assert _cycle(session, down) == {"expired": 0, "confirmations": 0, "moves": 1, "notices": 0}
    follow = session.scalars(select(PriceFollow)).one()
    assert follow.pending_notice is not None and follow.notice_attempts == 1
    assert follow.baseline_median == 12.0  # the move is recorded, not found again

    assert _cycle(session, mail_settings) == {"expired": 0, "confirmations": 0, "moves": 0, "notices": 1}
    assert _cycle(session, mail_settings)["notices"] == 0
    _wait_for(box, 2)
    assert len(box.messages) == 2 and "上涨 20.0%" in box.messages[1]["Subject"]


def test_the_price_page_offers_the_follow_form(app_client: TestClient, pork: Product) -> None:
    page = app_client.get("/prices")
    assert page.status_code == 200
    assert 'id="follow"' in page.text and "关注价格" in page.text and 'type="email"' in page.text
