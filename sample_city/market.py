"""The sample city's market: its associations, merchants, monitored goods and the two price episodes.

Everything the rest of the package draws from. The prices hide two stories the detectors must tell apart:
one pharmacy raising the price of surgical masks by 40% for six days while nobody else moves (gouging),
and a cold snap lifting Chinese cabbage by 60% at every seller and at the wholesale market for a week (a
market-wide move, not gouging).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DEFAULT_SEED = 20260101
DISTRICTS = ("道里区", "南岗区", "道外区", "香坊区", "平房区", "松北区", "呼兰区", "阿城区", "双城区")


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
