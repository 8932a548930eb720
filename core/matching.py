"""Map a source's product name onto a catalogue good: by alias, then by rules a person can read.

A wrong match silently corrupts a good's price series (红薯尖 priced as 红薯 looks like gouging), so the
matcher is right more than eager: a name is looked up whole, after removing only what never changes the
good — pack and grade notes, and an origin word in front *when what remains is a known name*. There is
no substring or similarity matching on this path; :meth:`ProductMatcher.suggest` offers looser candidates
to a person, who decides.

The rules, in order (the first that finds a good wins and names itself in :attr:`MatchResult.rule`):

``alias``
    the name as given is a known name (catalogue alias, product name, or a name staff mapped).
``normalised``
    equal after normalisation: full-width forms, spaces and separators, bracketed notes such as ``(1)``,
    ``(份)``, ``（盒）``, ``(袋)(2)``, a pack weight such as ``250克``, and grade words such as 精品.
``strip-origin:云南``
    the normalised name starts with origin words (places, 本地/外地/国产/进口, province abbreviations);
    without them it is a known name. Several may be stripped: ``strip-origin:智利+越南``.
``strip-brand:金龙鱼``
    grain and oil names carry a brand in front (金龙鱼东北大米); without it the name is known. Origin and
    brand combine as ``strip-origin:兴安盟,strip-brand:魏佳``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.models import Product, ProductAlias, UnmappedItem

# Words that grade, package or advertise a good without changing what it is; removed wherever they occur.
GRADE_WORDS = (
    "精品",
    "精选",
    "优质",
    "优级",
    "特级",
    "一级",
    "二级",
    "三级",
    "特价",
    "新鲜",
    "散装",
    "袋装",
    "盒装",
    "有机",
    "绿色",
    "特惠",
    "促销",
    "非转基因",
)
# Where a good comes from. Stripped only from the front, and only when what remains is a known name.
ORIGIN_WORDS = (
    "本地",
    "外地",
    "国产",
    "进口",
    "高山",
    "东北",
    "西北",
    "华北",
    "南方",
    "北方",
    # provinces and regions
    "北京",
    "天津",
    "河北",
    "山西",
    "内蒙古",
    "内蒙",
    "辽宁",
    "吉林",
    "黑龙江",
    "上海",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "广西",
    "海南",
    "重庆",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
    "台湾",
    # cities and counties seen in real names
    "芜湖",
    "西峡",
    "洪湖",
    "保康",
    "枝江",
    "蔡甸",
    "随州",
    "寿光",
    "章丘",
    "烟台",
    "赣南",
    "砀山",
    "库尔勒",
    "阿克苏",
    "盘锦",
    "五常",
    "舟山",
    "兴安盟",
    # countries and continents
    "泰国",
    "越南",
    "菲律宾",
    "南美",
    "智利",
    "美国",
    "新西兰",
    "澳洲",
    "秘鲁",
    "厄瓜多尔",
    "缅甸",
)
# One-character province abbreviations that are never the first character of a good's own name. Left
# out on purpose: 黑 青 新 台 桂 甘 宁 云 贵 秦 蜀 港 澳 (黑豆, 青萝卜, 桂鱼, 云豆 … are goods of their own).
PROVINCE_ABBREVIATIONS = tuple("京津冀晋辽吉沪苏浙皖闽赣鲁豫鄂湘粤琼渝川黔滇陕陇藏")
# Grain and oil brands as real price lists print them in front of the good.
BRANDS = (
    "金龙鱼",
    "福临门",
    "鲁花",
    "古船",
    "五得利",
    "元宝牌",
    "元宝",
    "多力",
    "胡姬花",
    "九三",
    "汇福",
    "乐初",
    "绿宝",
    "古币",
    "北大荒",
    "亮珠河",
    "五梁红",
    "首农双河",
    "首农",
    "松花江",
    "田满村",
    "嘎嘎纯",
    "老家辽星",
    "黑土王",
    "魏佳",
    "双然",
    "秋然",
    "好面缘",
    "香满园",
    "中粮",
    "十月稻田",
    "伊利",
    "蒙牛",
    "光明",
    "三元",
)

BRACKETED = re.compile(r"[(\[【（「<《][^)\]】）」>》]*[)\]】）」>》]")
PACK_WEIGHT = re.compile(r"\d+(?:\.\d+)?(?:克|g|G|千克|公斤|kg|KG|斤|ml|ML|毫升|升|L)$")
GRADE_PATTERN = re.compile("|".join(sorted(GRADE_WORDS, key=len, reverse=True)))
SEPARATORS = re.compile(r"[\s·•,，、/\\_\-—~～+＋]+")
ORIGIN_PREFIXES = ORIGIN_WORDS + PROVINCE_ABBREVIATIONS
BRAND_PREFIXES = BRANDS
MAX_ORIGIN_WORDS = 3
CACHE_LIMIT = 200_000


def normalise_name(raw_name: str) -> str:
    """Strip what varies between sources but not between goods: width, spaces, brackets, grade words.

    "  精品 大白菜（1）" and "大白菜" normalise alike; "鸡蛋" and "鸡肉" stay different.
    """
    name = unicodedata.normalize("NFKC", raw_name).strip()
    name = BRACKETED.sub("", name)
    name = GRADE_PATTERN.sub("", name)
    name = SEPARATORS.sub("", name)
    name = PACK_WEIGHT.sub("", name)
    return name.upper()


@dataclass(frozen=True)
class MatchResult:
    """The good a raw name maps to (None: no rule settles it) and the rule that decided, "" when none."""

    product: Product | None
    rule: str

    def __bool__(self) -> bool:
        return self.product is not None


@dataclass(frozen=True)
class Suggestion:
    """A candidate good for a person to confirm; never applied automatically."""

    product: Product
    reason: str
    score: float


NO_MATCH = MatchResult(None, "")


class ProductMatcher:
    """Maps raw product names to catalogue goods by alias and readable rules, cached per raw name."""

    def __init__(self, aliases: dict[str, Product]) -> None:
        self._exact = {alias.strip(): product for alias, product in aliases.items() if alias.strip()}
        self._normalised: dict[str, Product | None] = {}
        self._alias_for_key: dict[str, str] = {}
        # An alias already in normal form claims its key before aliases that only normalise to it
        # ("豆腐丝" over "精品豆腐丝"); two goods with equal claims share the key and match neither.
        claims = sorted(aliases.items(), key=lambda item: normalise_name(item[0]) != item[0].strip().upper())
        firm: set[str] = set()
        for alias, product in claims:
            key = normalise_name(alias)
            if not key:
                continue
            is_firm = key == alias.strip().upper()
            if key in firm and not is_firm:
                continue
            known = self._normalised.get(key, product)
            self._normalised[key] = product if known is product else None
            self._alias_for_key.setdefault(key, alias)
            if is_firm:
                firm.add(key)
        self._cache: dict[str, MatchResult] = {}

    @classmethod
    def from_session(cls, session: Session) -> ProductMatcher:
        """Every name the database knows: aliases, product names and names staff mapped by hand."""
        rows = session.scalars(select(ProductAlias).options(selectinload(ProductAlias.product)))
        aliases = {row.alias: row.product for row in rows}
        for product in session.scalars(select(Product)):
            aliases.setdefault(product.name, product)
        resolved = session.execute(
            select(UnmappedItem.raw_name, Product).join(
                Product, Product.id == UnmappedItem.resolved_product_id
            )
        )
        for raw_name, product in resolved:
            aliases.setdefault(raw_name, product)
        return cls(aliases)

    def match(self, raw_name: str) -> Product | None:
        """The good ``raw_name`` maps to, or None."""
        return self.resolve(raw_name).product

    def resolve(self, raw_name: str) -> MatchResult:
        """The good ``raw_name`` maps to and the rule that mapped it (see the module docstring)."""
        if not raw_name:
            return NO_MATCH
        cached = self._cache.get(raw_name)
        if cached is not None:
            return cached
        result = self._resolve(raw_name)
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[raw_name] = result
        return result

    def _resolve(self, raw_name: str) -> MatchResult:
        stripped = raw_name.strip()
        if not stripped:
            return NO_MATCH
        exact = self._exact.get(stripped)
        if exact is not None:
            return MatchResult(exact, "alias")
        key = normalise_name(stripped)
        if not key:
            return NO_MATCH
        if key in self._normalised:
            found = self._normalised[key]
            return MatchResult(found, "normalised") if found is not None else NO_MATCH
        return self._strip_prefixes(key)

    def _strip_prefixes(self, key: str, origins: tuple[str, ...] = (), brand: str = "") -> MatchResult:
        """Origin words and at most one brand from the front (兴安盟魏佳稻花香), until a known name remains.

        Every way of reading the front is tried, longest word first: 鲁花大豆油 is the brand 鲁花, not the
        province 鲁 in front of 花大豆油.
        """
        if len(origins) >= MAX_ORIGIN_WORDS:
            return NO_MATCH
        words = [(word, False) for word in ORIGIN_PREFIXES if key.startswith(word) and len(key) > len(word)]
        if not brand:
            words += [
                (word, True) for word in BRAND_PREFIXES if key.startswith(word) and len(key) > len(word)
            ]
        for word, is_brand in sorted(words, key=lambda item: -len(item[0])):
            rest = key[len(word) :]
            now_origins = origins if is_brand else (*origins, word)
            now_brand = word if is_brand else brand
            found = self._normalised.get(rest)
            if found is not None:
                rules = [f"strip-origin:{'+'.join(now_origins)}"] if now_origins else []
                rules += [f"strip-brand:{now_brand}"] if now_brand else []
                return MatchResult(found, ",".join(rules))
            deeper = self._strip_prefixes(rest, now_origins, now_brand)
            if deeper.product is not None:
                return deeper
        return NO_MATCH

    def suggest(self, raw_name: str, limit: int = 5) -> list[Suggestion]:
        """Goods a person might map ``raw_name`` to, best first, each with a short reason (zh-CN).

        Looser than :meth:`resolve` on purpose — a known name inside the raw name, shared characters —
        because a person checks them; a part (红薯尖) is offered its whole (红薯) with that caveat.
        """
        if limit <= 0 or not raw_name or not raw_name.strip():
            return []
        best: dict[int, Suggestion] = {}

        def offer(product: Product, reason: str, score: float) -> None:
            known = best.get(id(product))
            if known is None or known.score < score:
                best[id(product)] = Suggestion(product, reason, round(score, 3))

        resolved = self.resolve(raw_name)
        if resolved.product is not None:
            offer(resolved.product, f"规则匹配（{resolved.rule}）", 1.0)
        key = normalise_name(raw_name)
        if key:
            for alias_key, product in self._normalised.items():
                if product is None or alias_key == key:
                    continue
                alias = self._alias_for_key[alias_key]
                if len(alias_key) >= 2 and alias_key in key:
                    share = len(alias_key) / len(key)
                    reason = (
                        f"名称以「{alias}」开头，可能是它的部位或另一种商品"
                        if key.startswith(alias_key)
                        else f"名称含「{alias}」"
                    )
                    offer(product, reason, 0.5 + 0.4 * share)
                elif len(key) >= 2 and key in alias_key:
                    offer(product, f"是「{alias}」名称的一部分", 0.3 + 0.4 * len(key) / len(alias_key))
                else:
                    shared = set(key) & set(alias_key)
                    if len(shared) >= 2:
                        dice = 2 * len(shared) / (len(set(key)) + len(set(alias_key)))
                        if dice >= 0.5:
                            offer(product, f"与「{alias}」字面相近", 0.4 * dice)
        ranked = sorted(best.values(), key=lambda s: (-s.score, s.product.code or ""))
        return ranked[:limit]
