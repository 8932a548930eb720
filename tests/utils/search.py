"""A small hand-written complaint corpus for search tests (fields cycle so every filter has work)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from core.models import Association, Complaint
from search.query import SearchDocument

TEXTS = (
    "道里区沃尔玛超市鲜猪肉每斤卖到28元，比上周贵了一倍，属于哄抬价格。",
    "南岗区某药店一次性口罩每个卖10元，我电话13912345678，请消协处理。",
    "在香坊区买的N95口罩是假货，包装简陋，怀疑以次充好。",
    "健身房预付卡充值5000元后商家跑路，拒不退款。",
    "农贸市场大白菜缺斤短两，电子秤被动过手脚。",
    "超市西红柿标价4元结账按6元收，价格欺诈。",
    "外卖平台商家虚假宣传，图片与实物严重不符。",
    "84消毒液囤积居奇，每瓶从10元涨到45元。",
    "家乐福番茄价格一天涨了三次，消费者很不满。",
    "装修合同里有霸王条款，定金概不退还。",
    "手机售后服务差，维修三次仍未修好，要求退一赔三。",
    "餐馆排骨以次充好，用冷冻肉冒充鲜肉。",
    "药店医用口罩限购还加价，哄抬物价。",
    "Emoji 投诉😡：猪肉涨价太离谱！！！",
    'He said "OR" AND NEAR(x) -- 这不是检索语法',
    "大润发食用油买一送一是虚假宣传，实际不送。",
)
NATURES = ("价格", "质量", "虚假宣传", "合同", "计量", None)
INDUSTRIES = ("supermarket", "pharmacy", "catering", "ecommerce")
DISTRICTS = ("道里区", "南岗区", "香坊区", None)
MERCHANTS = ("沃尔玛(道里店)", "家乐福", "康宁大药房", None, "大润发")
STATUSES = ("received", "accepted", "mediating", "closed")


def make_corpus(session: Session, copies: int = 3) -> list[Complaint]:
    """``copies`` × 16 complaints with cycling fields; some share a timestamp so ties need the id."""
    associations = [Association(code=f"search-{i}", name=f"检索测试协会{i}", industries=[]) for i in range(2)]
    session.add_all(associations)
    session.flush()
    start = dt.datetime(2026, 3, 1, 1, 30, 0, 123456)
    complaints = []
    for number in range(copies * len(TEXTS)):
        complaints.append(
            Complaint(
                tracking_code=f"TS-SEARCH{number:04d}",
                title=f"投诉{number}" if number % 4 else None,
                text=TEXTS[number % len(TEXTS)],
                nature=NATURES[number % len(NATURES)],
                industry=INDUSTRIES[number % len(INDUSTRIES)],
                district=DISTRICTS[number % len(DISTRICTS)],
                merchant_name=MERCHANTS[number % len(MERCHANTS)],
                status=STATUSES[number % len(STATUSES)],
                created_at=start + dt.timedelta(hours=17 * (number // 2)),
                amount=None if number % 5 == 0 else Decimal(number * 37) / 4,
                association_id=associations[number % 2].id,
            )
        )
    session.add_all(complaints)
    session.commit()
    return complaints


def search_document(number: int, text: str, created_at: dt.datetime, **fields: object) -> SearchDocument:
    """An index entry made by hand (``text`` holds space-separated terms); other fields default to empty."""
    values: dict[str, object] = {
        "nature": None,
        "industry": None,
        "district": None,
        "merchant": None,
        "status": "received",
        "amount_cents": None,
        "association_id": None,
    }
    values.update(fields)
    return SearchDocument(
        id=number,
        tracking_code=f"TS-{number:08d}",
        title=None,
        text=text,
        tokens=text,
        created_at=created_at,
        source_hash="-",
        **values,  # type: ignore[arg-type]
    )
