"""/api/price-follows: the public follows a good's city median price by e-mail (``alerts.price_follows``).

Requests answer the same whatever the address already follows (202, one message), so the API never
tells whether an address is known; the confirmation mail goes out after the answer. Confirm and
unsubscribe take the signed token of the mail's link; a token that does not verify is a 400.
``POST /unsubscribe?token=`` is also the ``List-Unsubscribe`` one-click target (RFC 8058): mail
programs post ``List-Unsubscribe=One-Click`` there, which is accepted and ignored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, status
from sqlalchemy.orm import Session, sessionmaker

from alerts.price_follows import (
    FollowEnded,
    InvalidToken,
    confirm,
    request_follow,
    send_confirmation,
    unsubscribe,
)
from api.routes.prices import find_product
from api.schemas.price_follows import PriceFollowCreate, PriceFollowPublic, PriceFollowRequested
from core.config import Settings
from core.models import PriceFollow
from web.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/price-follows", tags=["price follows"])


Token = Annotated[
    str, Query(min_length=3, max_length=120, pattern=r"^[0-9A-Za-z._-]+$", description="邮件链接中的令牌")
]


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
