"""Public price follows: an e-mail when a good's city median price moves more than the follower's threshold.

Double opt-in: a follow starts ``pending`` and only its confirmation mail is ever sent until the
confirm link is used. Every mail carries a one-click unsubscribe link and a ``List-Unsubscribe`` header
(RFC 2369/8058). Links carry a signed token (HMAC-SHA256 with the app's secret over the follow's id,
the link's purpose and a random nonce kept with the follow), so they work without a login and a
guessed or altered link is refused.

The address is kept only while it is needed: an unsubscribe or a confirmation not used within
``CONFIRM_WITHIN`` erases it. Looking up an address's follows uses a keyed digest, never the address.

A cycle of the scheduler's ``price_follows`` job (:func:`run_price_follows`) erases expired requests,
sends confirmation mails that are due (the API sends them at once; the job retries failures), and for
each confirmed follow compares the median it last notified with the current city median: a move of
more than its threshold becomes one notice, recorded before it is sent and cleared once the SMTP server
took it, so each move is mailed once (a crash between the two sends it again, under the same key).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from alerts.channels import DeliveryError, Message
from alerts.channels import email as email_channel
from core.config import Settings
from core.display_names import display_name, price_unit_name
from core.models import PriceDailyAggregate, PriceFollow, Product, utcnow

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD_PERCENT = 10.0
#: A confirmation link not used within this long expires; the request and its address are deleted.
CONFIRM_WITHIN = dt.timedelta(days=7)
#: A repeated request for the same follow re-sends its confirmation mail at most this often.
RESEND_CONFIRMATION_AFTER = dt.timedelta(minutes=10)
#: Unconfirmed follows one address may have at once: a stranger cannot flood someone's mailbox.
MAX_PENDING_PER_ADDRESS = 5
MAX_CONFIRMATION_ATTEMPTS = 5
MAX_NOTICE_ATTEMPTS = 10

Purpose = Literal["confirm", "unsubscribe"]
PriceType = Literal["retail", "wholesale"]


class InvalidToken(ValueError):
    """A confirm or unsubscribe link that was not made by this platform for a follow it still has."""


class FollowEnded(ValueError):
    """A confirm link of a follow that was unsubscribed since."""


# --- addresses and tokens --------------------------------------------------------------------------


def email_digest(secret: str, address: str) -> str:
    """A keyed digest of the address (case folded): finds an address's follows without storing a
    searchable copy of it; without the secret, a list of addresses cannot be tested against it."""
    normalised = address.strip().lower()
    return hmac.new(secret.encode(), f"price-follow-email:{normalised}".encode(), hashlib.sha256).hexdigest()


def _signature(secret: str, follow_id: int, nonce: str, purpose: Purpose) -> str:
    mac = hmac.new(secret.encode(), f"price-follow:{purpose}:{follow_id}:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def sign_token(secret: str, follow: PriceFollow, purpose: Purpose) -> str:
    """``<id>.<signature>``: what a confirm or unsubscribe link carries."""
    return f"{follow.id}.{_signature(secret, follow.id, follow.nonce, purpose)}"


def follow_for_token(session: Session, secret: str, token: str, purpose: Purpose) -> PriceFollow:
    """The follow a link was made for; :class:`InvalidToken` for anything else (same message always)."""
    identifier, _, signature = (token or "").strip().partition(".")
    follow_id = (
        int(identifier) if identifier.isascii() and identifier.isdigit() and len(identifier) <= 10 else 0
    )
    follow = session.get(PriceFollow, follow_id) if 0 < follow_id < 2**31 else None
    if follow is None or not hmac.compare_digest(
        signature.encode(), _signature(secret, follow.id, follow.nonce, purpose).encode()
    ):
        raise InvalidToken("链接无效或已过期")
    return follow


# --- the city median -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CityMedian:
    day: dt.date
    median: float  # 元 per standard unit
    count: int


def city_median(session: Session, product_id: int, region: str, price_type: str) -> CityMedian | None:
    """The median of the good's prices on the newest day it was priced in ``region`` ("" = all)."""
    conditions = [
        PriceDailyAggregate.product_id == product_id,
        PriceDailyAggregate.price_type == price_type,
    ]
    if region:
        conditions.append(PriceDailyAggregate.region == region)
    newest = session.scalar(select(func.max(PriceDailyAggregate.observed_date)).where(*conditions))
    if newest is None:
        return None
    texts = session.scalars(
        select(PriceDailyAggregate.prices).where(*conditions, PriceDailyAggregate.observed_date == newest)
    ).all()
    prices = [float(value) for text in texts for value in text.split(",") if value]
    if not prices:
        return None
    return CityMedian(newest, round(statistics.median(prices), 4), len(prices))


def change_percent(old: float, new: float) -> float:
    """The move from ``old`` to ``new`` in percent of ``old`` [%]."""
    return (new - old) / old * 100 if old else 0.0


def moved_beyond(old: float, new: float, threshold_percent: float) -> bool:
    """True when the median moved by more than the threshold, up or down."""
    return old > 0 and abs(change_percent(old, new)) > threshold_percent


# --- requests, confirmation and unsubscribing ------------------------------------------------------


def request_follow(
    session: Session,
    settings: Settings,
    *,
    address: str,
    product: Product,
    region: str,
    price_type: str,
    threshold_percent: float,
    now: dt.datetime | None = None,
) -> int | None:
    """Record a request to follow; commits. The id of the follow whose confirmation mail is now due, or
    None when nothing is to be sent (already followed, a mail sent a moment ago, too many pending).

    Callers answer the same whatever this returns, so nobody learns whether an address follows a good.
    """
    now = now or utcnow()
    digest = email_digest(settings.secret_key, address)
    existing = session.scalar(
        select(PriceFollow).where(
            PriceFollow.email_digest == digest,
            PriceFollow.product_id == product.id,
            PriceFollow.region == region,
            PriceFollow.price_type == price_type,
            PriceFollow.status.in_(("pending", "confirmed")),
        )
    )
    if existing is not None:
        if existing.status == "confirmed":
            return None
        sent = existing.confirmation_sent_at
        if sent is not None and now - sent < RESEND_CONFIRMATION_AFTER:
            return None
        existing.confirmation_sent_at = None
        existing.confirmation_attempts = 0
        session.commit()
        return existing.id
    pending = session.scalar(
        select(func.count())
        .select_from(PriceFollow)
        .where(PriceFollow.email_digest == digest, PriceFollow.status == "pending")
    )
    if (pending or 0) >= MAX_PENDING_PER_ADDRESS:
        return None
    follow = PriceFollow(
        product_id=product.id,
        region=region,
        price_type=price_type,
        email=address.strip(),
        email_digest=digest,
        threshold_percent=threshold_percent,
        status="pending",
        nonce=secrets.token_hex(16),
        created_at=now,
    )
    session.add(follow)
    session.commit()
    return follow.id


def confirm(
    session: Session, settings: Settings, token: str, *, now: dt.datetime | None = None
) -> PriceFollow:
    """Confirm a follow from its link (again: no change); its baseline is the median now. Commits."""
    follow = follow_for_token(session, settings.secret_key, token, "confirm")
    if follow.status == "unsubscribed":
        raise FollowEnded("该关注已退订；如需继续关注，请重新提交")
    if follow.status == "pending":
        current = city_median(session, follow.product_id, follow.region, follow.price_type)
        follow.status = "confirmed"
        follow.confirmed_at = now or utcnow()
        if current is not None:
            follow.baseline_median, follow.baseline_date = current.median, current.day
        session.commit()
    return follow


def unsubscribe(
    session: Session, settings: Settings, token: str, *, now: dt.datetime | None = None
) -> PriceFollow:
    """End a follow from its link (again: no change) and erase its address. Commits."""
    follow = follow_for_token(session, settings.secret_key, token, "unsubscribe")
    if follow.status != "unsubscribed":
        follow.status = "unsubscribed"
        follow.unsubscribed_at = now or utcnow()
        follow.email = None
        follow.email_digest = None
        follow.pending_notice = None
        session.commit()
    return follow


# --- the mails -------------------------------------------------------------------------------------


def _place(follow: PriceFollow) -> str:
    return follow.region or "全部地区"


def _links(settings: Settings, follow: PriceFollow) -> tuple[str, dict[str, str]]:
    """The unsubscribe link for the body, and the List-Unsubscribe headers (one click, RFC 8058)."""
    base = settings.public_url.rstrip("/")
    token = sign_token(settings.secret_key, follow, "unsubscribe")
    headers = {
        "List-Unsubscribe": f"<{base}/api/price-follows/unsubscribe?token={token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return f"{base}/price-follows/unsubscribe?token={token}", headers


def confirmation_message(settings: Settings, follow: PriceFollow) -> Message:
    base = settings.public_url.rstrip("/")
    confirm_url = f"{base}/price-follows/confirm?token={sign_token(settings.secret_key, follow, 'confirm')}"
    unsubscribe_url, headers = _links(settings, follow)
    name, place = follow.product.name, _place(follow)
    kind = display_name("price_type", follow.price_type)
    body = (
        f"您好！\n\n有人（可能是您本人）用这个邮箱在 FairMarket 申请关注“{name}”（{place}，{kind}）的价格："
        f"当中位价较上次提醒变动超过 {follow.threshold_percent:g}% 时发邮件告诉您。\n\n"
        f"确认关注请打开下面的链接并点击“确认关注”（{CONFIRM_WITHIN.days} 天内有效）：\n{confirm_url}\n\n"
        "如果不是您本人申请，请忽略本邮件：不确认就不会再收到任何邮件，邮箱地址将在到期后删除。\n"
        f"取消这次申请：{unsubscribe_url}\n"
    )
    return Message(
        key=f"price-follow:{follow.id}:confirm",
        subject=f"【FairMarket】请确认关注“{name}”价格",
        body=body,
        document={"type": "price_follow_confirmation", "follow_id": follow.id},
        headers=headers,
    )


def notice_message(settings: Settings, follow: PriceFollow, notice: dict[str, Any]) -> Message:
    unsubscribe_url, headers = _links(settings, follow)
    product = follow.product
    unit = price_unit_name(product.standard_unit)
    change = float(notice["change_percent"])
    direction = "上涨" if change > 0 else "下跌"
    place = _place(follow)
    kind = display_name("price_type", follow.price_type)
    chart = f"{settings.public_url.rstrip('/')}/prices?product={product.code}"
    body = (
        f"“{product.name}”（{place}，{kind}）的中位价{direction}了 {abs(change):.1f}%：\n\n"
        f"  上次提醒：{notice['old_median']:.2f} {unit}（{notice['old_date']}）\n"
        f"  最新：    {notice['new_median']:.2f} {unit}（{notice['new_date']}，{notice['count']} 个报价）\n\n"
        f"您设置的提醒幅度是 {follow.threshold_percent:g}%，下次提醒以最新中位价为准。\n"
        f"查看价格走势：{chart}\n\n"
        f"不想再收到这类邮件？一键退订：{unsubscribe_url}\n"
    )
    return Message(
        key=f"price-follow:{follow.id}:notice:{notice['sequence']}",
        subject=f"【FairMarket】{product.name}（{place}）中位价{direction} {abs(change):.1f}%",
        body=body,
        document={"type": "price_follow_notice", "follow_id": follow.id, **notice},
        headers=headers,
    )


Send = Callable[[Settings, str, Message], None]


def send_confirmation(
    session: Session, settings: Settings, follow_id: int, *, send: Send = email_channel.send
) -> bool:
    """Send a due confirmation mail once: the row is claimed first, so the API's immediate send and the
    job's retry never both send it. A failed send is released for the next cycle."""
    now = utcnow()
    claimed = session.execute(
        update(PriceFollow)
        .where(
            PriceFollow.id == follow_id,
            PriceFollow.status == "pending",
            PriceFollow.confirmation_sent_at.is_(None),
            PriceFollow.confirmation_attempts < MAX_CONFIRMATION_ATTEMPTS,
        )
        .values(confirmation_sent_at=now, confirmation_attempts=PriceFollow.confirmation_attempts + 1)
    )
    session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    follow = session.get(PriceFollow, follow_id)
    if follow is None or follow.email is None:
        return False
    try:
        send(settings, follow.email, confirmation_message(settings, follow))
    except DeliveryError as exc:
        log.warning("confirmation mail of price follow %s failed: %s", follow_id, exc)
        follow.confirmation_sent_at = None
        if exc.permanent:
            follow.confirmation_attempts = MAX_CONFIRMATION_ATTEMPTS
        session.commit()
        return False
    return True


def _send_notice(session: Session, settings: Settings, follow: PriceFollow, send: Send) -> bool:
    notice = follow.pending_notice
    if notice is None or follow.email is None:
        return False
    try:
        send(settings, follow.email, notice_message(settings, follow, notice))
    except DeliveryError as exc:
        follow.notice_attempts += 1
        if exc.permanent or follow.notice_attempts >= MAX_NOTICE_ATTEMPTS:
            log.error("price follow %s: notice %s dropped: %s", follow.id, notice["sequence"], exc)
            follow.pending_notice = None
            follow.notice_attempts = 0
        else:
            log.warning("price follow %s: notice failed, retrying next cycle: %s", follow.id, exc)
        session.commit()
        return False
    follow.pending_notice = None
    follow.notice_attempts = 0
    follow.notices_sent += 1
    follow.last_notified_at = utcnow()
    session.commit()
    return True


def _record_move(follow: PriceFollow, current: CityMedian) -> bool:
    """Turn a move beyond the threshold into the follow's pending notice and move its baseline."""
    old = follow.baseline_median
    if old is None:
        follow.baseline_median, follow.baseline_date = current.median, current.day
        return False
    if not moved_beyond(old, current.median, follow.threshold_percent):
        return False
    follow.pending_notice = {
        "sequence": follow.notices_sent + 1,
        "old_median": old,
        "old_date": follow.baseline_date.isoformat() if follow.baseline_date else None,
        "new_median": current.median,
        "new_date": current.day.isoformat(),
        "count": current.count,
        "change_percent": round(change_percent(old, current.median), 2),
    }
    follow.baseline_median, follow.baseline_date = current.median, current.day
    return True


def run_price_follows(
    session: Session, settings: Settings, *, now: dt.datetime | None = None, send: Send = email_channel.send
) -> dict[str, int]:
    """One cycle: expire unconfirmed requests, send due confirmations, notify each move once."""
    now = now or utcnow()
    expired = session.execute(
        delete(PriceFollow).where(
            PriceFollow.status == "pending", PriceFollow.created_at < now - CONFIRM_WITHIN
        )
    ).rowcount  # type: ignore[attr-defined]
    session.commit()
    stats = {"expired": int(expired or 0), "confirmations": 0, "moves": 0, "notices": 0}
    due = session.scalars(
        select(PriceFollow.id).where(
            PriceFollow.status == "pending",
            PriceFollow.confirmation_sent_at.is_(None),
            PriceFollow.confirmation_attempts < MAX_CONFIRMATION_ATTEMPTS,
        )
    ).all()
    stats["confirmations"] = sum(
        send_confirmation(session, settings, follow_id, send=send) for follow_id in due
    )
    medians: dict[tuple[int, str, str], CityMedian | None] = {}
    follows = session.scalars(
        select(PriceFollow).where(PriceFollow.status == "confirmed").order_by(PriceFollow.id)
    ).all()
    for follow in follows:
        if follow.pending_notice is None:
            key = (follow.product_id, follow.region, follow.price_type)
            if key not in medians:
                medians[key] = city_median(session, *key)
            current = medians[key]
            if current is None:
                continue
            moved = _record_move(follow, current)
            session.commit()
            if not moved:
                continue
            stats["moves"] += 1
        stats["notices"] += _send_notice(session, settings, follow, send)
    return stats
