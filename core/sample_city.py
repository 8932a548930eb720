"""A deterministic sample of Harbin's market: associations, merchants, 180 days of prices, complaints.

Everything comes from one seeded ``random.Random``, so a seed and an end date always give the same city.
The prices hide two stories the detectors must tell apart: one pharmacy raising the price of surgical
masks by 40% for six days while nobody else moves (gouging), and a cold snap lifting Chinese cabbage by
60% at every seller and at the wholesale market for a week (a market-wide move, not gouging).

This module only builds the data and writes what ``core`` owns (associations, merchants, prices);
complaints are filed by the caller through the complaint intake, like every other channel.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import china_day_start
from core.models import Association, Merchant, Product
from core.prices import PriceInput, store_observations
from core.units import normalise_price

DEFAULT_SEED = 20260101
DISTRICTS = ("道里区", "南岗区", "道外区", "香坊区", "平房区", "松北区", "呼兰区", "阿城区", "双城区")
WHOLESALE_SOURCE = "xinfadi-sample"
RETAIL_SOURCE = "sample-city"
WHOLESALE_REGION = "北京新发地"
# Retail prices are compared across the city (a shop's district is an attribute of the merchant).
CITY = "哈尔滨市"
# Prices are observed at 09:00 Harbin time, stored as naive UTC.
OBSERVATION_TIME = dt.time(1, 0)
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class SampleAssociation:
    code: str
    name: str
    industries: tuple[str, ...]
    is_consumer_association: bool = False


ASSOCIATIONS = (
    SampleAssociation("hrb_consumer", "哈尔滨市消费者协会", (), True),
    SampleAssociation("hrb_supermarket", "哈尔滨市超市连锁经营协会", ("supermarket",)),
    SampleAssociation("hrb_pharmacy", "哈尔滨市药品零售协会", ("pharmacy",)),
    SampleAssociation("hrb_catering", "哈尔滨市餐饮协会", ("catering",)),
    SampleAssociation("hrb_ecommerce", "哈尔滨市电子商务协会", ("ecommerce",)),
    SampleAssociation("hrb_farm_market", "哈尔滨市农贸市场协会", ("farm_market",)),
    SampleAssociation("hrb_appliance", "哈尔滨市家用电器协会", ("home_appliance",)),
    SampleAssociation("hrb_telecom", "哈尔滨市通信行业协会", ("telecom",)),
    SampleAssociation("hrb_tourism", "哈尔滨市旅游协会", ("tourism",)),
)


@dataclass(frozen=True)
class SampleMerchant:
    name: str
    industry: str
    kind: str  # retail | online
    district: str | None
    address: str | None
    price_level: float  # relative to the city's typical retail price
    sells: tuple[str, ...]  # category codes whose goods it prices; empty: no monitored goods


FOOD = ("grain_oil", "meat_poultry_egg", "vegetables", "fruit", "aquatic", "dairy")
FRESH = ("meat_poultry_egg", "vegetables", "fruit", "aquatic")
# Fictional names in the style of Harbin's shops; any likeness to a real business is unintended.
MERCHANTS = (
    SampleMerchant(
        "冰城惠民超市(中央大街店)",
        "supermarket",
        "retail",
        "道里区",
        "道里区中央大街88号",
        1.12,
        (*FOOD, "epidemic_prevention"),
    ),
    SampleMerchant(
        "冰城惠民超市(学府路店)",
        "supermarket",
        "retail",
        "南岗区",
        "南岗区学府路201号",
        1.05,
        (*FOOD, "epidemic_prevention"),
    ),
    SampleMerchant(
        "松花江优选超市(红旗店)", "supermarket", "retail", "香坊区", "香坊区红旗大街176号", 1.00, FOOD
    ),
    SampleMerchant(
        "松花江优选超市(松北店)", "supermarket", "retail", "松北区", "松北区世博路15号", 1.03, FOOD
    ),
    SampleMerchant(
        "北国鲜生超市(靖宇店)", "supermarket", "retail", "道外区", "道外区靖宇街322号", 0.97, FOOD
    ),
    SampleMerchant(
        "龙江百姓超市(平房店)", "supermarket", "retail", "平房区", "平房区新疆大街9号", 0.95, FOOD
    ),
    SampleMerchant("香坊农贸市场", "farm_market", "retail", "香坊区", "香坊区香政街3号", 0.92, FRESH),
    SampleMerchant("道外桃花巷早市", "farm_market", "retail", "道外区", "道外区桃花巷", 0.90, FRESH),
    SampleMerchant("呼兰利民农贸市场", "farm_market", "retail", "呼兰区", "呼兰区利民大道66号", 0.88, FRESH),
    SampleMerchant("阿城金都菜市场", "farm_market", "retail", "阿城区", "阿城区金都路12号", 0.89, FRESH),
    SampleMerchant(
        "康宁大药房(南岗店)",
        "pharmacy",
        "retail",
        "南岗区",
        "南岗区西大直街118号",
        1.00,
        ("epidemic_prevention",),
    ),
    SampleMerchant(
        "仁和堂药店(道里店)",
        "pharmacy",
        "retail",
        "道里区",
        "道里区安定街45号",
        1.02,
        ("epidemic_prevention",),
    ),
    SampleMerchant(
        "百姓安心大药房(双城店)",
        "pharmacy",
        "retail",
        "双城区",
        "双城区承旭大街7号",
        0.96,
        ("epidemic_prevention",),
    ),
    SampleMerchant(
        "冰城鲜到家网上商城",
        "ecommerce",
        "online",
        None,
        None,
        0.98,
        ("grain_oil", "dairy", "epidemic_prevention"),
    ),
    SampleMerchant("黑土优品电商旗舰店", "ecommerce", "online", None, None, 1.01, ("grain_oil", "dairy")),
    SampleMerchant("老江桥铁锅炖饭店", "catering", "retail", "道里区", "道里区友谊路310号", 1.0, ()),
    SampleMerchant(
        "北方家电城(南岗店)", "home_appliance", "retail", "南岗区", "南岗区果戈里大街250号", 1.0, ()
    ),
    SampleMerchant("龙江通讯营业厅(哈西店)", "telecom", "retail", "南岗区", "南岗区哈西大街29号", 1.0, ()),
    SampleMerchant("雪城国际旅行社", "tourism", "retail", "道里区", "道里区西十二道街17号", 1.0, ()),
    SampleMerchant("太阳岛冰雪乐园", "tourism", "retail", "松北区", "松北区太阳岛风景区", 1.0, ()),
)


@dataclass(frozen=True)
class SampleGood:
    """A monitored good: wholesale base price per standard unit and how retailers quote it."""

    code: str
    wholesale: float | None  # 元 per standard unit; None: no wholesale reference
    retail_markup: float
    daily_volatility: float
    quote_unit: str = "斤"
    quote_spec: str | None = None


GOODS = (
    SampleGood("rice", 2.3, 1.30, 0.002, "袋", "10斤/袋"),
    SampleGood("flour", 2.0, 1.30, 0.002, "袋", "2.5kg"),
    SampleGood("noodles", 3.4, 1.35, 0.002, "袋", "1kg"),
    SampleGood("millet", 4.0, 1.30, 0.003),
    SampleGood("soybean_oil", 8.6, 1.25, 0.002, "桶", "5L"),
    SampleGood("peanut_oil", 20.0, 1.30, 0.002, "桶", "5升/桶"),
    SampleGood("pork", 10.5, 1.30, 0.008),
    SampleGood("pork_belly", 12.5, 1.30, 0.008),
    SampleGood("pork_ribs", 19.5, 1.30, 0.008),
    SampleGood("beef", 33.0, 1.25, 0.004),
    SampleGood("mutton", 31.0, 1.25, 0.004),
    SampleGood("whole_chicken", 8.0, 1.30, 0.006),
    SampleGood("chicken_wings", 13.5, 1.30, 0.006),
    SampleGood("eggs", 4.0, 1.25, 0.010),
    SampleGood("chinese_cabbage", 0.8, 1.60, 0.020),
    SampleGood("shanghai_greens", 2.3, 1.55, 0.025),
    SampleGood("spinach", 3.2, 1.55, 0.025),
    SampleGood("celery", 2.4, 1.55, 0.020),
    SampleGood("cucumber", 2.5, 1.50, 0.025),
    SampleGood("tomato", 3.2, 1.50, 0.020),
    SampleGood("eggplant", 2.8, 1.50, 0.020),
    SampleGood("green_pepper", 3.0, 1.50, 0.020),
    SampleGood("potato", 1.2, 1.55, 0.010),
    SampleGood("carrot", 1.4, 1.50, 0.010),
    SampleGood("radish", 1.0, 1.55, 0.012),
    SampleGood("onion", 1.4, 1.50, 0.010),
    SampleGood("scallion", 2.0, 1.50, 0.015),
    SampleGood("ginger", 6.0, 1.40, 0.010),
    SampleGood("apple", 4.8, 1.40, 0.008),
    SampleGood("banana", 3.2, 1.45, 0.010),
    SampleGood("pear", 3.2, 1.45, 0.008),
    SampleGood("orange", 4.3, 1.40, 0.008),
    SampleGood("grass_carp", 8.5, 1.35, 0.008),
    SampleGood("carp", 7.0, 1.35, 0.008),
    SampleGood("hairtail", 17.0, 1.30, 0.006),
    SampleGood("milk", None, 1.0, 0.002, "箱", "250ml*24"),
    SampleGood("yogurt", None, 1.0, 0.002, "盒", "100g*8"),
    SampleGood("surgical_mask", None, 1.0, 0.003, "盒", "50片/盒"),
    SampleGood("n95_mask", None, 1.0, 0.003, "盒", "10片/盒"),
    SampleGood("disinfectant_84", None, 1.0, 0.002, "瓶", "500ml"),
    SampleGood("medical_alcohol", None, 1.0, 0.002, "瓶", "500毫升"),
    SampleGood("thermometer", None, 1.0, 0.002, "支"),
)
# Retail prices (元 per standard unit) of goods without a wholesale reference.
RETAIL_BASE = {
    "milk": 11.5,
    "yogurt": 9.8,
    "surgical_mask": 0.9,
    "n95_mask": 4.5,
    "disinfectant_84": 13.0,
    "medical_alcohol": 22.0,
    "thermometer": 9.5,
}


@dataclass(frozen=True)
class Episode:
    """A price shock: ``merchant`` None means every seller and the wholesale market."""

    product: str
    merchant: str | None
    start: dt.date
    days: int
    rise: float

    def factor(self, day: dt.date) -> float:
        offset = (day - self.start).days
        if not 0 <= offset < self.days:
            return 1.0
        ramp = min(1.0, (offset + 1) / 2, (self.days - offset) / 2)  # two days up, two days down
        return 1.0 + self.rise * (1.0 if self.merchant else ramp)


@dataclass
class SampleCity:
    seed: int
    start: dt.date
    end: dt.date
    gouging: Episode
    market_move: Episode
    associations: tuple[SampleAssociation, ...] = ASSOCIATIONS
    merchants: tuple[SampleMerchant, ...] = MERCHANTS
    goods: tuple[SampleGood, ...] = GOODS

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]


@dataclass
class SampleCitySummary:
    associations: int = 0
    merchants: int = 0
    retail_prices: int = 0
    wholesale_prices: int = 0
    complaints: int = 0
    extras: dict[str, int] = field(default_factory=dict)


def build_sample_city(*, end: dt.date, days: int = 180, seed: int = DEFAULT_SEED) -> SampleCity:
    """The city's plan: which episodes happen when (prices are drawn when written)."""
    start = end - dt.timedelta(days=days - 1)
    return SampleCity(
        seed=seed,
        start=start,
        end=end,
        gouging=Episode("surgical_mask", "康宁大药房(南岗店)", end - dt.timedelta(days=20), 6, 0.40),
        market_move=Episode("chinese_cabbage", None, end - dt.timedelta(days=60), 7, 0.60),
    )


def credit_code(rng: random.Random) -> str:
    """A unified social credit code of the right shape (9123 = enterprise, Harbin)."""
    return (
        "912301"
        + "".join(rng.choice("0123456789") for _ in range(2))
        + "".join(rng.choice(CREDIT_CODE_ALPHABET) for _ in range(10))
    )


def store_associations(session: Session, city: SampleCity) -> int:
    """Create the associations that do not exist yet (matched by code); returns how many were added."""
    existing = set(session.scalars(select(Association.code)))
    added = [
        Association(
            code=a.code,
            name=a.name,
            industries=list(a.industries),
            is_consumer_association=a.is_consumer_association,
        )
        for a in city.associations
        if a.code not in existing
    ]
    session.add_all(added)
    session.flush()
    return len(added)


def store_merchants(session: Session, city: SampleCity) -> dict[str, Merchant]:
    rng = random.Random(city.seed)
    merchants = {m.name: m for m in session.scalars(select(Merchant))}
    for sample in city.merchants:
        code = credit_code(rng)
        if sample.name not in merchants:
            merchant = Merchant(
                name=sample.name,
                credit_code=code,
                kind=sample.kind,
                industry=sample.industry,
                district=sample.district,
                address=sample.address,
            )
            session.add(merchant)
            merchants[sample.name] = merchant
    session.flush()
    return merchants


def _market_factors(rng: random.Random, good: SampleGood, days: list[dt.date]) -> list[float]:
    """A mean-reverting random walk with a weekend bump for fresh goods: the market's price level."""
    level, factors = 0.0, []
    weekend_bump = 0.02 if good.daily_volatility >= 0.008 else 0.0
    for day in days:
        level = 0.93 * level + rng.gauss(0.0, good.daily_volatility * 2.5)
        weekly = weekend_bump if day.weekday() >= 5 else 0.0
        factors.append(math.exp(level) * (1.0 + weekly))
    return factors


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def generate_prices(city: SampleCity, products: dict[str, Product]) -> Iterator[PriceInput]:
    """Every retail and wholesale observation of the city, day by day."""
    rng = random.Random(city.seed + 1)
    days = city.days
    categories = {code: product.category.top.code for code, product in products.items()}
    market = {good.code: _market_factors(rng, good, days) for good in city.goods}
    episodes = (city.gouging, city.market_move)
    for good in city.goods:
        product = products[good.code]
        quote = normalise_price(1, good.quote_unit, good.quote_spec, product.standard_unit)
        base_retail = RETAIL_BASE.get(good.code) or (good.wholesale or 0.0) * good.retail_markup
        sellers = [m for m in city.merchants if categories[good.code] in m.sells]
        for merchant in sellers:
            # Each shop has its own level and a slow drift of its own around the market.
            own_level = merchant.price_level * rng.uniform(0.97, 1.03)
            drift = 0.0
            for index, day in enumerate(days):
                drift = 0.9 * drift + rng.gauss(0.0, 0.004)
                shock = math.prod(
                    e.factor(day)
                    for e in episodes
                    if e.product == good.code and e.merchant in (None, merchant.name)
                )
                unit_price = base_retail * own_level * market[good.code][index] * math.exp(drift) * shock
                price = _money(unit_price * quote.quantity)
                availability = "out_of_stock" if rng.random() < 0.004 else "in_stock"
                if shock > 1.2 and merchant.name == city.gouging.merchant and rng.random() < 0.3:
                    availability = "limited"
                yield PriceInput(
                    source=RETAIL_SOURCE,
                    product_id=product.id,
                    merchant=merchant.name,
                    region=CITY,
                    observed_at=dt.datetime.combine(day, OBSERVATION_TIME),
                    price=price,
                    raw_unit=good.quote_unit,
                    spec=good.quote_spec,
                    unit_price=float(price) / quote.quantity,
                    standard_unit=quote.standard_unit,
                    availability=availability,
                    extractor="sample-city",
                )
        if good.wholesale is None:
            continue
        for index, day in enumerate(days):
            shock = city.market_move.factor(day) if good.code == city.market_move.product else 1.0
            average = good.wholesale * market[good.code][index] * shock
            spread = average * rng.uniform(0.05, 0.15)
            yield PriceInput(
                source=WHOLESALE_SOURCE,
                product_id=product.id,
                region=WHOLESALE_REGION,
                observed_at=dt.datetime.combine(day, OBSERVATION_TIME),
                price=_money(average),
                low_price=_money(average - spread),
                high_price=_money(average + spread),
                raw_unit="斤",
                unit_price=round(average, 2),
                standard_unit="500g",
                price_type="wholesale",
                extractor="sample-city",
            )


def store_prices(session: Session, city: SampleCity, batch_size: int = 5000) -> tuple[int, int]:
    """Write every observation (idempotent); returns (retail stored, wholesale stored)."""
    products = {
        p.code: p
        for p in session.scalars(select(Product).where(Product.code.in_([g.code for g in city.goods])))
    }
    missing = {g.code for g in city.goods} - set(products)
    if missing:
        raise LookupError(f"catalogue lacks {sorted(missing)}: seed the catalogue first")
    retail = wholesale = 0
    batch: list[PriceInput] = []
    for observation in generate_prices(city, products):
        batch.append(observation)
        if len(batch) >= batch_size:
            stored = _store(session, batch)
            retail, wholesale = retail + stored[0], wholesale + stored[1]
    stored = _store(session, batch)
    return retail + stored[0], wholesale + stored[1]


def _store(session: Session, batch: list[PriceInput]) -> tuple[int, int]:
    retail = [o for o in batch if o.price_type == "retail"]
    wholesale = [o for o in batch if o.price_type == "wholesale"]
    counts = store_observations(session, retail)[0], store_observations(session, wholesale)[0]
    batch.clear()
    return counts


# --- complaints ----------------------------------------------------------------------------------

COMPLAINTS_FILE = Path(__file__).with_name("sample_complaints.yaml")
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
    """What the sample complaints are made of (``sample_complaints.yaml``)."""

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
