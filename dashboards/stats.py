"""Public, anonymised complaint statistics for the 投诉统计 page: counts and hot words only.

Nothing here identifies a person or a case: complaints are counted by nature, industry and month, and a
hot word is shown only when at least ``MIN_WORD_COMPLAINTS`` complaints use it and it contains no digit
(so no phone numbers, order numbers or amounts leak through the words of a single complaint).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import Counter
from functools import lru_cache

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from pystopwords import stopwords
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from complaints.classification import INDUSTRIES, NATURES, Tokenizer
from complaints.privacy import mask_personal_data
from core.clock import china_date, china_day_start, china_today
from core.models import Complaint
from web.deps import SessionDep

MIN_WORD_COMPLAINTS = 5
# Hot words come from the newest complaints only: what people complain about now, at a bounded cost
# (about 0.17 s per 1,000 complaints to tokenise).
HOT_WORD_SAMPLE = 5_000
STATS_CACHE_SIZE = 64
HOT_WORDS = 30
MIN_WORD_LENGTH = 2
# Words that say nothing as hot words: a maintained Chinese stopword list (the union of the HIT, Baidu,
# SCU, ICT and ISO lists shipped in ``pystopwords``) plus words every complaint, or a complainant's
# address and sign-off, uses.
DOMAIN_STOPWORDS = frozenset(
    [
        "投诉",
        "投诉人",
        "消费者",
        "商家",
        "店家",
        "要求",
        "希望",
        "请求",
        "反映",
        "表示",
        "情况",
        "问题",
        "处理",
        "进行",
        "发现",
        "当时",
        "之后",
        "后来",
        "今天",
        "昨天",
        "前天",
        "上午",
        "下午",
        "晚上",
        "时间",
        "一直",
        "实际",
        "属于",
        "家住",
        "小区",
        "单元",
        "号楼",
        "电话",
        "联系",
        "联系方式",
        "本人",
        "先生",
        "女士",
        "核实",
        "上门",
        "尽快",
        "回复",
        "谢谢",
        "麻烦",
        "告知",
        "说明",
        "称",
        "说",
        "答复",
        "协商",
        "购买",
        "买",
        "消费",
        "元",
        "块",
        "联系电话",
        "平时",
        "几天",
    ]
)
COMMON_WORDS = frozenset(stopwords("zh", "all")) | DOMAIN_STOPWORDS
# 二十多天, 三个月: amounts of time written in Chinese numerals.
CHINESE_COUNT = re.compile(r"^[一二两三四五六七八九十百千万几多半]+")

router = APIRouter(prefix="/api/stats", tags=["stats"])


class CountPublic(BaseModel):
    label: str
    count: int


class ComplaintStatsPublic(BaseModel):
    total: int
    months: int
    by_nature: list[CountPublic]
    by_industry: list[CountPublic]
    by_month: list[CountPublic]
    hot_words: list[CountPublic]


@lru_cache(maxsize=1)
def _tokenizer() -> Tokenizer:
    return Tokenizer()


_tokenizer_lock = threading.Lock()


def hot_words(
    texts: list[str], *, limit: int = HOT_WORDS, min_documents: int = MIN_WORD_COMPLAINTS
) -> list[CountPublic]:
    """Words by how many complaints use them; only words shared by ``min_documents`` and free of digits."""
    with _tokenizer_lock:
        tokenizer = _tokenizer()
        documents = Counter(word for text in texts for word in set(tokenizer.tokens(text)))
    words = [
        (word, count)
        for word, count in documents.items()
        if count >= min_documents
        and len(word) >= MIN_WORD_LENGTH
        and not any(character.isdigit() for character in word)
        and not CHINESE_COUNT.match(word)
        and word not in COMMON_WORDS
    ]
    words.sort(key=lambda pair: (-pair[1], pair[0]))
    return [CountPublic(label=word, count=count) for word, count in words[:limit]]


def _counts(
    session: Session, column: InstrumentedAttribute[str | None], since: dt.datetime, names: dict[str, str]
) -> list[CountPublic]:
    """Counts per label code, shown by the label's Chinese name."""
    rows = session.execute(
        select(column, func.count())
        .where(Complaint.created_at >= since, column.is_not(None))
        .group_by(column)
        .order_by(func.count().desc(), column)
    )
    return [CountPublic(label=names.get(code, code), count=count) for code, count in rows if code]


def _window_start(months: int, today: dt.date) -> dt.date:
    first = today.replace(day=1)
    month_index = first.year * 12 + first.month - 1 - (months - 1)
    return dt.date(month_index // 12, month_index % 12 + 1, 1)


def _month_labels(start: dt.date, today: dt.date) -> list[str]:
    labels = []
    cursor = start
    while cursor <= today:
        labels.append(cursor.strftime("%Y-%m"))
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    return labels


def _compute_stats(session: Session, months: int, start: dt.date, today: dt.date) -> ComplaintStatsPublic:
    since = china_day_start(start)
    created = session.scalars(select(Complaint.created_at).where(Complaint.created_at >= since)).all()
    by_month = Counter(china_date(moment).strftime("%Y-%m") for moment in created)
    newest_texts = session.scalars(
        select(Complaint.text)
        .where(Complaint.created_at >= since)
        .order_by(Complaint.created_at.desc(), Complaint.id.desc())
        .limit(HOT_WORD_SAMPLE)
    ).all()
    return ComplaintStatsPublic(
        total=len(created),
        months=months,
        by_nature=_counts(session, Complaint.nature, since, NATURES.names),
        by_industry=_counts(session, Complaint.industry, since, INDUSTRIES.names),
        by_month=[
            CountPublic(label=label, count=by_month.get(label, 0)) for label in _month_labels(start, today)
        ],
        hot_words=hot_words([mask_personal_data(text) for text in newest_texts]),
    )


@router.get("/complaints", response_model=ComplaintStatsPublic)
def complaint_stats(
    request: Request,
    session: SessionDep,
    months: int = Query(12, ge=1, le=36, description="how many calendar months back, this one included"),
) -> ComplaintStatsPublic:
    """Complaints of the last ``months`` months by nature, industry and month, and their hot words.

    The answer is kept per app until a complaint is added or changed (count, newest id and newest update
    are the key), so the public page does not re-tokenise thousands of complaints on every visit.
    """
    today = china_today()
    start = _window_start(months, today)
    version = session.execute(
        select(func.count(), func.max(Complaint.id), func.max(Complaint.updated_at))
    ).one()
    key = (months, today, *version)
    cache: dict[tuple[object, ...], ComplaintStatsPublic] = request.app.state.__dict__.setdefault(
        "complaint_stats_cache", {}
    )
    if key not in cache:
        if len(cache) >= STATS_CACHE_SIZE:
            cache.clear()
        cache[key] = _compute_stats(session, months, start, today)
    return cache[key]
