"""Provisional goods (待归类) for consumer-association staff: review them, merge one into a good, undo it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlalchemy.orm import Session

from api.schemas.provisional_goods import (
    GoodRef,
    MergePublic,
    MergeRequest,
    ProvisionalGoodPublic,
    ProvisionalGoodsPublic,
    SuggestionPublic,
)
from core.models import Product
from core.provisional import (
    PROVISIONAL,
    MergeError,
    ProvisionalGood,
    find_good,
    merge_provisional,
    review_provisional,
    undo_merge,
)
from web.deps import ConsumerStaffDep, SessionDep

router = APIRouter(prefix="/provisional-goods", tags=["catalogue"])

CodePath = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f/]+$")]


def _public(item: ProvisionalGood) -> ProvisionalGoodPublic:
    return ProvisionalGoodPublic(
        code=item.product.code,
        name=item.product.name,
        category=item.product.category.name,
        standard_unit=item.product.standard_unit,
        observations=item.observations,
        first_day=item.first_day,
        last_day=item.last_day,
        aliases=item.aliases,
        suggestions=[
            SuggestionPublic(code=s.product.code, name=s.product.name, reason=s.reason, score=s.score)
            for s in item.suggestions
        ],
    )


def _good(session: Session, reference: str) -> Product:
    try:
        return find_good(session, reference)
    except MergeError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc


@router.get("", response_model=ProvisionalGoodsPublic)
def list_provisional_goods(
    session: SessionDep,
    _: ConsumerStaffDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ProvisionalGoodsPublic:
    """Provisional goods, most prices first, each with suggested catalogued goods."""
    items = [_public(item) for item in review_provisional(session, limit=limit)]
    return ProvisionalGoodsPublic(data=items, count=len(items))


@router.post("/{code}/merge", response_model=MergePublic)
def merge_provisional_good(
    session: SessionDep, caller: ConsumerStaffDep, code: CodePath, body: MergeRequest
) -> MergePublic:
    """Move a provisional good's prices and names into a catalogued good (audited; undo with unmerge)."""
    provisional, target = _good(session, code), _good(session, body.into)
    try:
        merge = merge_provisional(session, provisional, target, actor=caller.username or caller.role)
    except MergeError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.commit()
    return MergePublic(
        provisional=GoodRef(code=provisional.code, name=provisional.name),
        product=GoodRef(code=target.code, name=target.name),
        observations=merge.observations,
        days=[dt.date.fromisoformat(day) for day in merge.days],
        aliases=merge.aliases,
        undone=False,
    )


@router.post("/{code}/unmerge", response_model=MergePublic)
def unmerge_provisional_good(session: SessionDep, caller: ConsumerStaffDep, code: CodePath) -> MergePublic:
    """Undo the last merge of a provisional good: its prices and names go back to it (audited)."""
    provisional = _good(session, code)
    try:
        merge = undo_merge(session, provisional, actor=caller.username or caller.role)
    except MergeError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.commit()
    target = session.get(Product, merge.product_id)
    assert target is not None and provisional.status == PROVISIONAL
    return MergePublic(
        provisional=GoodRef(code=provisional.code, name=provisional.name),
        product=GoodRef(code=target.code, name=target.name),
        observations=merge.observations,
        days=[dt.date.fromisoformat(day) for day in merge.days],
        aliases=merge.aliases,
        undone=True,
    )
