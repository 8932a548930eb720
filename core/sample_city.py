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

from sqlalchemy import select
from sqlalchemy.orm import Session

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
    categories = {code: product.category.code for code, product in products.items()}
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

NATURE_WEIGHTS = {
    "价格": 20,
    "质量": 20,
    "售后服务": 18,
    "虚假宣传": 10,
    "合同": 10,
    "假冒伪劣": 7,
    "计量": 6,
    "安全": 4,
    "其他": 5,
}
FOOD_KINDS = frozenset({"food", "fresh"})
# Goods each industry's complaints are about, by kind: what a template may say depends on the kind.
INDUSTRY_GOODS: dict[str, tuple[tuple[str, str], ...]] = {
    "supermarket": (
        ("鸡蛋", "fresh"),
        ("大米", "food"),
        ("猪肉", "fresh"),
        ("大豆油", "food"),
        ("纯牛奶", "food"),
        ("苹果", "fresh"),
        ("西红柿", "fresh"),
        ("五花肉", "fresh"),
        ("带鱼", "fresh"),
        ("酸奶", "food"),
    ),
    "farm_market": (
        ("大白菜", "fresh"),
        ("猪肉", "fresh"),
        ("鲤鱼", "fresh"),
        ("土豆", "fresh"),
        ("黄瓜", "fresh"),
        ("牛肉", "fresh"),
        ("鸡蛋", "fresh"),
        ("草鱼", "fresh"),
        ("芹菜", "fresh"),
        ("香蕉", "fresh"),
    ),
    "pharmacy": (
        ("医用外科口罩", "medical"),
        ("N95口罩", "medical"),
        ("84消毒液", "medical"),
        ("医用酒精", "medical"),
        ("体温计", "medical"),
        ("感冒药", "medical"),
        ("布洛芬", "medical"),
    ),
    "ecommerce": (
        ("大米", "food"),
        ("花生油", "food"),
        ("纯牛奶", "food"),
        ("口罩", "medical"),
        ("蓝牙耳机", "device"),
        ("羽绒服", "device"),
        ("电饭煲", "device"),
    ),
    "catering": (
        ("铁锅炖", "meal"),
        ("锅包肉", "meal"),
        ("火锅套餐", "meal"),
        ("烧烤", "meal"),
        ("杀猪菜", "meal"),
    ),
    "home_appliance": (
        ("冰箱", "device"),
        ("空调", "device"),
        ("洗衣机", "device"),
        ("燃气热水器", "device"),
        ("液晶电视", "device"),
        ("油烟机", "device"),
    ),
    "telecom": (("宽带", "service"), ("手机套餐", "service"), ("流量包", "service"), ("合约机", "device")),
    "tourism": (
        ("冰雪大世界门票", "service"),
        ("一日游", "service"),
        ("跟团游", "service"),
        ("滑雪套票", "service"),
        ("民宿", "service"),
    ),
    "other": (("商品", "device"), ("会员服务", "service")),
}
# What one unit of each kind of good typically costs in a complaint (元).
PRICE_RANGES = {
    "fresh": (2.0, 40.0),
    "food": (8.0, 90.0),
    "medical": (5.0, 60.0),
    "device": (150.0, 5000.0),
    "meal": (60.0, 500.0),
    "service": (30.0, 1500.0),
}
ALL_KINDS = frozenset({"food", "fresh", "medical", "device", "meal", "service"})
GOODS_KINDS = frozenset({"food", "fresh", "medical", "device"})
# (nature, kinds of goods the sentence fits, template)
TEMPLATES: tuple[tuple[str, frozenset[str], str], ...] = (
    (
        "价格",
        GOODS_KINDS,
        "{day}在{merchant}购买{good}，标价{usual}元，结账时却按{price}元收取，要求退还多收的差价。",
    ),
    (
        "价格",
        FOOD_KINDS | {"medical"},
        "{merchant}的{good}平时卖{usual}元，这几天涨到{price}元，涨幅太大，怀疑哄抬价格。",
    ),
    (
        "价格",
        GOODS_KINDS,
        "{merchant}{good}价签与收银系统价格不一致，价签写{usual}元，实际收{price}元，属于价格欺诈。",
    ),
    (
        "价格",
        FOOD_KINDS | {"meal"},
        "在{merchant}消费，商家未明码标价，{good}结账时收了{price}元，远高于周边商户，请求处理。",
    ),
    ("价格", frozenset({"meal", "service"}), "{merchant}收取“服务费”{amount}元，事先未告知，认为是乱收费。"),
    ("价格", frozenset({"service"}), "{merchant}的{good}资费无故上涨，每月多扣{usual}元，没有任何通知。"),
    ("质量", FOOD_KINDS, "{day}在{merchant}买的{good}，回家发现已经变质，有异味，要求退货并赔偿。"),
    (
        "质量",
        frozenset({"device"}),
        "从{merchant}购买的{good}使用不到一个月就出现故障，商家只同意维修不同意更换。",
    ),
    (
        "质量",
        frozenset({"device", "medical"}),
        "{merchant}出售的{good}存在明显质量问题，与宣传图片差距很大，花费{amount}元，要求退款。",
    ),
    ("质量", FOOD_KINDS | {"medical"}, "在{merchant}买的{good}已过保质期仍在销售，要求商家下架并赔偿。"),
    ("质量", frozenset({"meal"}), "在{merchant}就餐，{good}不新鲜，吃完后全家腹泻，要求商家承担医药费。"),
    (
        "质量",
        frozenset({"service"}),
        "{merchant}提供的{good}与约定严重不符，服务质量很差，要求退还{amount}元。",
    ),
    (
        "售后服务",
        frozenset({"device", "service"}),
        "{merchant}的{good}出现问题，多次联系客服无人处理，推来推去，至今没有解决。",
    ),
    (
        "售后服务",
        frozenset({"device"}),
        "{good}坏了申请售后，{merchant}要求我自己承担来回运费和检测费{usual}元，不合理。",
    ),
    ("售后服务", ALL_KINDS, "在{merchant}办理退款，商家一直拖延，已经过去二十多天，金额{amount}元。"),
    ("售后服务", frozenset({"device"}), "{merchant}承诺上门安装{good}，约了三次都没人来，耽误工作。"),
    ("虚假宣传", GOODS_KINDS, "{merchant}宣传{good}“买一送一”，实际结账时不赠送，属于虚假宣传。"),
    (
        "虚假宣传",
        GOODS_KINDS,
        "{merchant}宣称{good}是原价{price}元的限时特价{usual}元，查证原价根本没有那么高。",
    ),
    ("虚假宣传", FOOD_KINDS | {"device"}, "{merchant}广告写的是进口{good}，实际是国产，夸大宣传误导消费者。"),
    (
        "虚假宣传",
        frozenset({"service", "meal"}),
        "{merchant}宣传的{good}包含多个项目，实际大幅缩水，与宣传不符。",
    ),
    (
        "合同",
        ALL_KINDS,
        "在{merchant}办理预付卡充值{amount}元，现在商家要求变更套餐，否则不能继续使用，违反约定。",
    ),
    (
        "合同",
        frozenset({"device", "service"}),
        "与{merchant}签订的{good}合同约定的条款与实际不符，要求解除合同退还{amount}元。",
    ),
    (
        "合同",
        frozenset({"device", "service", "meal"}),
        "{merchant}收了{good}定金{usual}元后单方面取消订单，拒绝退还定金。",
    ),
    (
        "假冒伪劣",
        GOODS_KINDS,
        "在{merchant}买的{good}怀疑是假货，包装印刷模糊，防伪码查不到，花了{amount}元。",
    ),
    ("假冒伪劣", GOODS_KINDS, "{merchant}销售的{good}没有生产厂家和合格证，是三无产品，要求退一赔三。"),
    (
        "计量",
        frozenset({"fresh"}),
        "在{merchant}买{good}，称的是{weight}斤，回家复称只有{short}斤，缺斤短两。",
    ),
    ("计量", frozenset({"fresh"}), "{merchant}的电子秤有问题，买的{good}每斤少了一两多，怀疑是“鬼秤”。"),
    (
        "安全",
        frozenset({"device"}),
        "在{merchant}购买的{good}使用时冒烟起火，险些造成伤害，要求商家赔偿并检测。",
    ),
    (
        "安全",
        ALL_KINDS - {"service"},
        "{merchant}店内地面湿滑没有警示标志，老人在店内摔倒受伤，商家拒绝承担责任。",
    ),
    (
        "安全",
        frozenset({"service"}),
        "参加{merchant}的{good}时安全措施不到位，孩子受伤，要求赔偿医疗费{amount}元。",
    ),
    ("其他", ALL_KINDS, "{merchant}工作人员态度恶劣，辱骂消费者，请求协会调查处理。"),
    ("其他", ALL_KINDS, "{merchant}强制要求扫码关注公众号才能结账，侵犯消费者选择权。"),
)
TITLES = {
    "价格": "价格问题",
    "质量": "商品质量问题",
    "售后服务": "售后服务问题",
    "虚假宣传": "虚假宣传",
    "合同": "合同纠纷",
    "假冒伪劣": "疑似假冒伪劣",
    "计量": "缺斤短两",
    "安全": "安全隐患",
    "其他": "其他问题",
}
DEMANDS = (
    "要求退款",
    "要求退一赔三",
    "要求赔礼道歉并退还差价",
    "要求更换商品",
    "要求商家整改",
    "要求赔偿损失",
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN_NAMES = (
    "伟",
    "芳",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
)
STREETS = (
    "学府路",
    "西大直街",
    "红旗大街",
    "中山路",
    "友谊路",
    "安定街",
    "和兴路",
    "哈平路",
    "通达街",
    "长江路",
)
UNNAMED_MERCHANTS: tuple[tuple[str, str, str | None], ...] = (
    ("中央大街一家俄罗斯商品店", "other", "道里区"),
    ("某短视频平台店铺", "ecommerce", None),
    ("小区门口的水果店", "farm_market", "南岗区"),
    ("一家健身房", "other", "香坊区"),
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
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def _phone(rng: random.Random) -> str:
    return rng.choice(("139", "138", "186", "150", "135", "177", "131")) + "".join(
        rng.choice("0123456789") for _ in range(8)
    )


def _address(rng: random.Random, district: str | None) -> str:
    street = rng.choice(STREETS)
    unit, floor, door = rng.randint(1, 6), rng.randint(1, 30), rng.randint(1, 4)
    return f"{district or rng.choice(DISTRICTS)}{street}{rng.randint(1, 400)}号{unit}单元{floor}0{door}室"


def _complaint_text(
    rng: random.Random, template: str, merchant: str, good: str, kind: str, day: dt.date
) -> tuple[str, Decimal]:
    low, high = PRICE_RANGES[kind]
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
        honorific = rng.choice(("先生", "女士"))
        return f"{text}本人{rng.choice(SURNAMES)}{honorific}，电话：{_phone(rng)}，请尽快回复。"
    if roll < 0.32:
        return f"{text}我家住{_address(rng, district)}，可上门核实。"
    return text


def _workflow_steps(
    rng: random.Random, created_at: dt.datetime, end: dt.date
) -> tuple[tuple[str, dt.datetime, str | None], ...]:
    """Older complaints have moved further; a few recent ones are left waiting (some overdue)."""
    age = (end - created_at.date()).days
    now = dt.datetime.combine(end, dt.time(8, 0))
    steps: list[tuple[str, dt.datetime, str | None]] = []
    at = created_at
    if age < 3 or (age < 20 and rng.random() < 0.15):
        return ()
    at += dt.timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 8))
    if rng.random() < 0.06:
        steps.append(("rejected", at, "不属于消费者协会受理范围，建议向市场监管部门举报"))
        if age > 20:
            steps.append(("closed", at + dt.timedelta(days=2), None))
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
            nature, _, template = TEMPLATES[rng.choice((0, 1, 2))]
        else:
            day = city.start + dt.timedelta(days=rng.randrange((city.end - city.start).days + 1))
            if rng.random() < 0.1:
                merchant_name, industry, district = rng.choice(UNNAMED_MERCHANTS)
            else:
                merchant = rng.choice(city.merchants)
                merchant_name, industry, district = merchant.name, merchant.industry, merchant.district
            good, kind = rng.choice(INDUSTRY_GOODS[industry])
            fitting = [t for t in TEMPLATES if kind in t[1]]
            nature, _, template = rng.choices(fitting, [NATURE_WEIGHTS[t[0]] for t in fitting])[0]
        text, amount = _complaint_text(rng, template, merchant_name, good, kind, day)
        person = _person(rng)
        created_at = dt.datetime.combine(day, dt.time(rng.randint(0, 13), rng.randint(0, 59)))
        complaints.append(
            SampleComplaint(
                created_at=created_at,
                text=_personal_details(rng, text, district),
                title=f"{merchant_name}{TITLES[nature]}"[:200],
                merchant_name=merchant_name,
                district=district or rng.choice(DISTRICTS),
                nature=nature,
                industry=industry,
                amount=amount if rng.random() < 0.8 else None,
                consumer_name=person,
                contact=_phone(rng),
                demands=rng.choice(DEMANDS),
                product_category=good,
                steps=_workflow_steps(rng, created_at, city.end),
            )
        )
    complaints.sort(key=lambda c: c.created_at)
    return complaints
