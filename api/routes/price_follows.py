"""/api/price-follows: the public follows a good's city median price by e-mail (``alerts.price_follows``).

Requests answer the same whatever the address already follows (202, one message), so the API never
tells whether an address is known; the confirmation mail goes out after the answer. Confirm and
unsubscribe take the signed token of the mail's link; a token that does not verify is a 400.
``POST /unsubscribe?token=`` is also the ``List-Unsubscribe`` one-click target (RFC 8058): mail
programs post ``List-Unsubscribe=One-Click`` there, which is accepted and ignored.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker

from alerts.price_follows import (
    DEFAULT_THRESHOLD_PERCENT,
    FollowEnded,
    InvalidToken,
    confirm,
    request_follow,
    send_confirmation,
    unsubscribe,
)
from api.routes.prices import find_product
from core.config import Settings
from core.models import PriceFollow
from web.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/price-follows", tags=["price follows"])

# An ASCII address with a dotted domain (what SMTP without SMTPUTF8 delivers; no header can be smuggled
# in). In the schema, so generated clients know it too.
EMAIL_PATTERN = r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$"
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
REQUESTED_MESSAGE = (
    "请查收确认邮件：点击邮件里的链接确认后才会开始提醒（如未收到，请检查垃圾邮件或稍后重试）。"
)

Token = Annotated[
    str, Query(min_length=3, max_length=120, pattern=r"^[0-9A-Za-z._-]+$", description="邮件链接中的令牌")
]


class PriceFollowCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    email: str = Field(max_length=254, pattern=EMAIL_PATTERN, description="接收提醒的邮箱")
    product: str = Field(min_length=1, max_length=100, description="商品代码、中文名或编号")
    region: str = Field(
        default="",
        max_length=60,
        pattern=PRINTABLE_PATTERN,
        description="地区（城市或区县，按价格数据）；留空为全部地区",
    )
    price_type: Literal["retail", "wholesale"] = "retail"
    threshold_percent: float = Field(
        default=DEFAULT_THRESHOLD_PERCENT, ge=1, le=100, description="中位价变动超过该百分比时提醒"
    )


class PriceFollowRequested(BaseModel):
    status: Literal["pending_confirmation"] = "pending_confirmation"
    message: str = REQUESTED_MESSAGE


class PriceFollowPublic(BaseModel):
    """A follow as its own link shows it: never the address."""

    status: Literal["pending", "confirmed", "unsubscribed"]
    product_code: str
    product_name: str
    region: str
    price_type: str
    threshold_percent: float
    baseline_median: float | None = Field(description="上次提醒（或确认时）的中位价，元/标准单位")
    baseline_date: dt.date | None


def _public(follow: PriceFollow) -> PriceFollowPublic:
    return PriceFollowPublic(
        status=follow.status,
        product_code=follow.product.code,
        product_name=follow.product.name,
        region=follow.region,
        price_type=follow.price_type,
        threshold_percent=follow.threshold_percent,
        baseline_median=follow.baseline_median,
        baseline_date=follow.baseline_date,
    )


def _send_now(sessions: sessionmaker[Session], settings: Settings, follow_id: int) -> None:
    """After the answer: send the confirmation mail (the job retries it if this fails)."""
    with sessions() as session:
        send_confirmation(session, settings, follow_id)


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=PriceFollowRequested)
def follow_price(
    follow_in: PriceFollowCreate,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
) -> PriceFollowRequested:
    """Follow a good's median price (anyone): a confirmation mail is sent; nothing else before it is used."""
    product = find_product(session, follow_in.product)
    follow_id = request_follow(
        session,
        settings,
        address=follow_in.email,
        product=product,
        region=follow_in.region,
        price_type=follow_in.price_type,
        threshold_percent=follow_in.threshold_percent,
    )
    if follow_id is not None:
        background.add_task(_send_now, request.app.state.sessions, settings, follow_id)
    return PriceFollowRequested()


@router.post("/confirm", response_model=PriceFollowPublic)
def confirm_follow(token: Token, session: SessionDep, settings: SettingsDep) -> PriceFollowPublic:
    """Confirm a follow with the token of its confirmation mail (anyone holding the link)."""
    try:
        return _public(confirm(session, settings, token))
    except InvalidToken as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{exc}（invalid or expired link）") from exc
    except FollowEnded as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


@router.post("/unsubscribe", response_model=PriceFollowPublic)
def unsubscribe_follow(token: Token, session: SessionDep, settings: SettingsDep) -> PriceFollowPublic:
    """End a follow with the token of any of its mails (one click; the address is erased)."""
    try:
        return _public(unsubscribe(session, settings, token))
    except InvalidToken as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{exc}（invalid or expired link）") from exc
