"""The sample city's complaints: texts of ``complaints.yaml`` filled with shops, goods, prices, people.

One seeded ``random.Random`` (the city's seed + 2); a burst of complaints follows the gouging episode.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import yaml

from core.clock import china_day_start
from sample_city.market import DISTRICTS, SampleCity

COMPLAINTS_FILE = Path(__file__).with_name("complaints.yaml")
KIND_GROUPS = {
    "all": frozenset({"food", "fresh", "medical", "device", "meal", "service"}),
    "goods": frozenset({"food", "fresh", "medical", "device"}),
}


@dataclass(frozen=True)
class Template:
    nature: str
    kinds: frozenset[str]  # kinds of goods the sentence fits
    text: str


@dataclass(frozen=True)
class ComplaintVocabulary:
    """What the sample complaints are made of (``complaints.yaml``)."""

    nature_weights: dict[str, int]
    price_ranges: dict[str, tuple[float, float]]  # 元 per unit of each kind of good
    industry_goods: dict[str, tuple[tuple[str, str], ...]]  # industry → (good, kind)
    templates: tuple[Template, ...]
    titles: dict[str, str]
    demands: tuple[str, ...]
    surnames: str
    given_names: tuple[str, ...]
    streets: tuple[str, ...]
    unnamed_merchants: tuple[tuple[str, str, str | None], ...]  # (name, industry, district)


@cache
def complaint_vocabulary(path: Path = COMPLAINTS_FILE) -> ComplaintVocabulary:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    templates = tuple(
        Template(
            nature=item["nature"],
            kinds=KIND_GROUPS[item["kinds"]] if isinstance(item["kinds"], str) else frozenset(item["kinds"]),
            text=item["text"],
        )
        for item in raw["templates"]
    )
    return ComplaintVocabulary(
        nature_weights=dict(raw["nature_weights"]),
        price_ranges={kind: (low, high) for kind, (low, high) in raw["price_ranges"].items()},
        industry_goods={
            industry: tuple((good, kind) for good, kind in goods)
            for industry, goods in raw["industry_goods"].items()
        },
        templates=templates,
        titles=dict(raw["titles"]),
        demands=tuple(raw["demands"]),
        surnames=raw["surnames"],
        given_names=tuple(raw["given_names"]),
        streets=tuple(raw["streets"]),
        unnamed_merchants=tuple((m["name"], m["industry"], m["district"]) for m in raw["unnamed_merchants"]),
    )


@dataclass(frozen=True)
class SampleComplaint:
    created_at: dt.datetime
    text: str
    title: str
    merchant_name: str | None
    district: str | None
    nature: str
    industry: str
    amount: Decimal | None
    consumer_name: str | None
    contact: str | None
    demands: str | None
    product_category: str | None
    steps: tuple[tuple[str, dt.datetime, str | None], ...]  # workflow (to_status, at, note)


def _person(rng: random.Random) -> str:
    words = complaint_vocabulary()
    return rng.choice(words.surnames) + rng.choice(words.given_names)


def _phone(rng: random.Random) -> str:
    return rng.choice(("139", "138", "186", "150", "135", "177", "131")) + "".join(
        rng.choice("0123456789") for _ in range(8)
    )


def _address(rng: random.Random, district: str | None) -> str:
    street = rng.choice(complaint_vocabulary().streets)
    unit, floor, door = rng.randint(1, 6), rng.randint(1, 30), rng.randint(1, 4)
    return f"{district or rng.choice(DISTRICTS)}{street}{rng.randint(1, 400)}号{unit}单元{floor}0{door}室"


def _complaint_text(
    rng: random.Random, template: str, merchant: str, good: str, kind: str, day: dt.date
) -> tuple[str, Decimal]:
    low, high = complaint_vocabulary().price_ranges[kind]
    usual = round(rng.uniform(low, high), 1)
    price = round(usual * rng.uniform(1.2, 2.5), 1)
    amount = Decimal(str(round(rng.choice((price, price * rng.randint(2, 10))), 2)))
    weight = round(rng.uniform(2, 6), 1)
    text = template.format(
        day=f"{day.month}月{day.day}日",
        merchant=merchant,
        good=good,
        usual=usual,
        price=price,
        amount=amount,
        weight=weight,
        short=round(weight * rng.uniform(0.8, 0.92), 1),
    )
    return text, amount


def _personal_details(rng: random.Random, text: str, district: str | None) -> str:
    """About a third of consumers write their name, phone or address into the text itself."""
    roll = rng.random()
    if roll < 0.12:
        return f"{text}我叫{_person(rng)}，联系电话{_phone(rng)}。"
    if roll < 0.22:
        surname, honorific = rng.choice(complaint_vocabulary().surnames), rng.choice(("先生", "女士"))
        return f"{text}本人{surname}{honorific}，电话：{_phone(rng)}，请尽快回复。"
    if roll < 0.32:
        return f"{text}我家住{_address(rng, district)}，可上门核实。"
    return text


def _workflow_steps(
    rng: random.Random, created_at: dt.datetime, end: dt.date
) -> tuple[tuple[str, dt.datetime, str | None], ...]:
    """Older complaints have moved further; a few recent ones are left waiting (some overdue).

    Every step lies before the start of ``end`` in China (midnight, as naive UTC), so a demo built
    with ``end`` = today never shows a step later today.
    """
    age = (end - created_at.date()).days
    now = china_day_start(end)
    steps: list[tuple[str, dt.datetime, str | None]] = []
    at = created_at
    if age < 3 or (age < 20 and rng.random() < 0.15):
        return ()
    at += dt.timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 8))
    if at >= now:
        return ()
    if rng.random() < 0.06:
        steps.append(("rejected", at, "不属于消费者协会受理范围，建议向市场监管部门举报"))
        if age > 20:
            steps.append(("closed", min(at + dt.timedelta(days=2), now - dt.timedelta(hours=1)), None))
        return tuple(steps)
    steps.append(("accepted", at, None))
    at += dt.timedelta(days=rng.randint(1, 4))
    if at >= now:
        return tuple(steps)
    steps.append(("mediating", at, "已联系商家，组织双方调解"))
    at += dt.timedelta(days=rng.randint(5, 40))
    if at >= now:
        return tuple(steps)
    if rng.random() < 0.85:
        steps.append(
            ("resolved", at, rng.choice(("商家同意退款", "双方达成和解，商家赔偿", "商家退还差价并道歉")))
        )
    else:
        steps.append(("mediation_ended", at, "商家拒绝调解，建议消费者通过诉讼解决"))
    at += dt.timedelta(days=rng.randint(1, 10))
    if at < now:
        steps.append(("closed", at, None))
    return tuple(steps)


def generate_complaints(city: SampleCity, count: int = 2000) -> list[SampleComplaint]:
    """``count`` complaints over the city's days, plus a burst about the gouging episode."""
    rng = random.Random(city.seed + 2)
    words = complaint_vocabulary()
    gouging_templates = [t for t in words.templates if t.nature == "价格" and "medical" in t.kinds][:3]
    complaints: list[SampleComplaint] = []
    gouging = city.gouging
    burst: list[tuple[str, str, str | None, dt.date]] = [
        (
            gouging.merchant or "",
            "pharmacy",
            "南岗区",
            gouging.start + dt.timedelta(days=rng.randint(0, gouging.days - 1)),
        )
        for _ in range(min(15, count // 20))
    ]
    for index in range(count):
        if index < len(burst):
            merchant_name, industry, district, day = burst[index]
            good, kind = "医用外科口罩", "medical"
            chosen = rng.choice(gouging_templates)
        else:
            # Up to the day before ``end``: a complaint dated ``end`` could lie later than now.
            day = city.start + dt.timedelta(days=rng.randrange(max(1, (city.end - city.start).days)))
            if rng.random() < 0.1:
                merchant_name, industry, district = rng.choice(words.unnamed_merchants)
            else:
                merchant = rng.choice(city.merchants)
                merchant_name, industry, district = merchant.name, merchant.industry, merchant.district
            good, kind = rng.choice(words.industry_goods[industry])
            fitting = [t for t in words.templates if kind in t.kinds]
            chosen = rng.choices(fitting, [words.nature_weights[t.nature] for t in fitting])[0]
        nature = chosen.nature
        text, amount = _complaint_text(rng, chosen.text, merchant_name, good, kind, day)
        person = _person(rng)
        created_at = dt.datetime.combine(day, dt.time(rng.randint(0, 13), rng.randint(0, 59)))
        complaints.append(
            SampleComplaint(
                created_at=created_at,
                text=_personal_details(rng, text, district),
                title=f"{merchant_name}{words.titles[nature]}"[:200],
                merchant_name=merchant_name,
                district=district or rng.choice(DISTRICTS),
                nature=nature,
                industry=industry,
                amount=amount if rng.random() < 0.8 else None,
                consumer_name=person,
                contact=_phone(rng),
                demands=rng.choice(words.demands),
                product_category=good,
                steps=_workflow_steps(rng, created_at, city.end),
            )
        )
    complaints.sort(key=lambda c: c.created_at)
    return complaints
