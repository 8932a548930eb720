"""Price units: turn "元 per 斤 / 盒 / 5升桶 …" into 元 per standard unit (500g, L or piece).

Prices are only comparable per standard unit: a 5L bottle of oil at 69.9 and a 1.8L bottle at 27.5 say
nothing until both are 元/L. A price unit is read as a quantity of something (``2.5kg``, ``斤``, ``盒``);
a pack spec (``50片/盒``, ``一箱12瓶``, ``2.5kg*4袋``, ``250g左右``) says what one priced unit holds.
Anything that cannot be converted raises :class:`UnitError`: a wrong unit price is worse than none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

StandardUnit = Literal["500g", "L", "piece"]
STANDARD_UNITS: tuple[StandardUnit, ...] = ("500g", "L", "piece")

GRAMS_PER_UNIT: dict[str, float] = {
    "斤": 500.0,
    "市斤": 500.0,
    "公斤": 1000.0,
    "千克": 1000.0,
    "kg": 1000.0,
    "克": 1.0,
    "g": 1.0,
    "两": 50.0,
    "吨": 1_000_000.0,
    "t": 1_000_000.0,
}
LITRES_PER_UNIT: dict[str, float] = {"升": 1.0, "l": 1.0, "公升": 1.0, "毫升": 0.001, "ml": 0.001}
COUNT_UNITS: frozenset[str] = frozenset(
    [
        "个",
        "只",
        "枚",
        "盒",
        "袋",
        "箱",
        "瓶",
        "包",
        "桶",
        "片",
        "支",
        "罐",
        "头",
        "根",
        "颗",
        "条",
        "把",
        "份",
        "件",
        "套",
        "台",
        "听",
        "提",
        "板",
        "卷",
        "双",
        "块",
        "粒",
        "杯",
        "筒",
        "壶",
    ]
)
# Containers that by definition hold several items: "per 箱" says nothing about how many pieces.
MULTI_ITEM_CONTAINERS: frozenset[str] = frozenset({"箱", "提", "件"})

CHINESE_DIGITS: dict[str, float] = {
    "半": 0.5,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
APPROXIMATE_WORDS = re.compile(r"左右|上下|以上|以内|约|大约|净含量|净重|规格|装|[:：]")
TIMES = re.compile(r"\s*[*×xX✕]\s*")
_UNIT_ALTERNATIVES = "|".join(
    sorted(
        (re.escape(u) for u in [*GRAMS_PER_UNIT, *LITRES_PER_UNIT, *COUNT_UNITS]),
        key=len,
        reverse=True,
    )
)
NUMBER = r"\d+(?:\.\d+)?(?:\s*[-~～至]\s*\d+(?:\.\d+)?)?|[一二两三四五六七八九十半]+"
TERM = re.compile(rf"^(?P<number>{NUMBER})?\s*(?P<unit>{_UNIT_ALTERNATIVES})$", re.IGNORECASE)
# Xinfadi-style specs such as "活", "精选", "袋\\箱" grade or describe the goods; only numbers make a pack.
DESCRIBES_QUANTITY = re.compile(r"\d|[一二两三四五六七八九十半]")
PREFIX = re.compile(r"^(?:人民币)?元?\s*(?:/|每)\s*")


class UnitError(ValueError):
    """A price whose unit or spec cannot be converted to the wanted standard unit."""


@dataclass(frozen=True)
class NormalisedPrice:
    """A price per standard unit; ``quantity`` is how many standard units the priced unit holds."""

    unit_price: float
    standard_unit: str
    quantity: float


@dataclass
class PackContents:
    """What one priced unit holds, in each dimension we could read (None: unknown)."""

    grams: float | None = None
    litres: float | None = None
    pieces: float | None = None
    container: str | None = None
    inner: dict[str, float] = field(default_factory=dict)

    def scaled(self, factor: float) -> PackContents:
        return PackContents(
            grams=None if self.grams is None else self.grams * factor,
            litres=None if self.litres is None else self.litres * factor,
            pieces=None if self.pieces is None else self.pieces * factor,
            container=self.container,
        )


def _parse_number(text: str | None) -> float:
    if not text:
        return 1.0
    text = text.strip()
    if re.fullmatch(r"[一二两三四五六七八九十半]+", text):
        return _chinese_number(text)
    if re.search(r"[-~～至]", text):
        low, high = (float(part) for part in re.split(r"\s*[-~～至]\s*", text))
        return (low + high) / 2
    return float(text)


def _chinese_number(text: str) -> float:
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (CHINESE_DIGITS[tens] if tens else 1) * 10 + (CHINESE_DIGITS[ones] if ones else 0)
    if len(text) != 1:
        raise UnitError(f"无法识别数量“{text}” (cannot read the number {text!r})")
    return CHINESE_DIGITS[text]


def _canonical_unit(unit: str) -> str:
    lowered = unit.lower()
    return lowered if lowered in GRAMS_PER_UNIT or lowered in LITRES_PER_UNIT else unit


def _term(text: str) -> tuple[float, str] | None:
    """``2.5kg`` → (2.5, "kg"); ``盒`` → (1, "盒"); anything else → None."""
    match = TERM.match(text.strip())
    if not match:
        return None
    return _parse_number(match.group("number")), _canonical_unit(match.group("unit"))


def _contents_of(number: float, unit: str) -> PackContents:
    if unit in GRAMS_PER_UNIT:
        return PackContents(grams=number * GRAMS_PER_UNIT[unit])
    if unit in LITRES_PER_UNIT:
        return PackContents(litres=number * LITRES_PER_UNIT[unit])
    return PackContents(pieces=number, inner={unit: number})


def _product(terms: list[tuple[float, str]]) -> PackContents:
    """``2.5kg*4袋`` and ``500ml*12``: a measure times a count."""
    contents = PackContents()
    count = 1.0
    for number, unit in terms:
        part = _contents_of(number, unit)
        if part.grams is not None:
            contents.grams = part.grams
        elif part.litres is not None:
            contents.litres = part.litres
        else:
            count *= number
            contents.inner[unit] = count
    if contents.grams is not None:
        contents.grams *= count
    if contents.litres is not None:
        contents.litres *= count
    contents.pieces = count
    return contents


def _split_product(text: str) -> list[tuple[float, str]] | None:
    parts = TIMES.split(text)
    terms: list[tuple[float, str]] = []
    for index, part in enumerate(parts):
        term = _term(part)
        if term is None and index > 0 and re.fullmatch(r"\d+", part.strip()):
            term = (float(part), "个")
        if term is None:
            return None
        terms.append(term)
    return terms


def parse_spec(spec: str) -> PackContents:
    """Read a pack spec such as ``5L``, ``50片/盒``, ``一箱12瓶``, ``2.5kg*4袋`` or ``250g左右``."""
    text = APPROXIMATE_WORDS.sub("", spec.strip().replace("（", "(").replace("）", ")"))
    text = text.strip("()[] 　")
    container: str | None = None
    per = re.match(rf"^(?P<body>.+?)\s*(?:/|每)\s*(?P<container>{_UNIT_ALTERNATIVES})$", text)
    leading = re.match(
        rf"^(?:每|一|1)?(?P<container>{_UNIT_ALTERNATIVES})(?P<body>\d.*|[一二两三四五六七八九十].*)$", text
    )
    if per:
        text, container = per.group("body"), per.group("container")
    elif leading and leading.group("container") in COUNT_UNITS:
        text, container = leading.group("body"), leading.group("container")
    terms = _split_product(text)
    if terms is None:
        raise UnitError(f"无法识别规格“{spec}” (cannot read the pack spec {spec!r})")
    contents = _product(terms)
    contents.container = container
    return contents


def _read_unit(unit: str) -> tuple[float, str, str | None]:
    """The priced unit as (number, unit, spec in brackets): ``元/5升桶`` → (5, "升", "桶")."""
    text = PREFIX.sub("", unit.strip())
    bracket = re.search(r"[(（](.+?)[)）]", text)
    inline_spec = bracket.group(1) if bracket else None
    text = re.sub(r"[(（].*?[)）]", "", text).strip()
    term = _term(text)
    if term is not None:
        return term[0], term[1], inline_spec
    # "5升桶", "500g袋": a measure followed by the container it comes in.
    packaged = re.match(rf"^(?P<measure>.+?)(?P<container>{_UNIT_ALTERNATIVES})$", text)
    if packaged and packaged.group("container") in COUNT_UNITS:
        measure = _term(packaged.group("measure"))
        if measure is not None:
            spec = f"{packaged.group('measure')}/{packaged.group('container')}"
            return 1.0, packaged.group("container"), spec
    raise UnitError(f"无法识别计价单位“{unit}” (unknown price unit {unit!r})")


def _contents_of_priced_unit(number: float, unit: str, spec: str | None) -> PackContents:
    if unit in GRAMS_PER_UNIT or unit in LITRES_PER_UNIT:
        return _contents_of(number, unit)
    contents = PackContents(pieces=None if unit in MULTI_ITEM_CONTAINERS else 1.0)
    if spec and DESCRIBES_QUANTITY.search(spec):
        packed = parse_spec(spec)
        if packed.container is not None and packed.container != unit and unit in packed.inner:
            # Priced per 瓶 while the spec describes the 箱: one 瓶 is 1/n of the 箱.
            share = 1.0 / packed.inner[unit]
            contents = packed.scaled(share)
            contents.pieces = 1.0
        else:
            contents = packed
            if packed.pieces == 1.0 and not packed.inner:
                # "250g左右" for a 个: it weighs 250 g and is still one piece.
                contents.pieces = None if unit in MULTI_ITEM_CONTAINERS else 1.0
    return contents.scaled(number)


def _quantity(contents: PackContents, wanted: StandardUnit) -> float | None:
    return {"500g": contents.grams, "L": contents.litres, "piece": contents.pieces}[wanted]


def _infer_standard_unit(contents: PackContents) -> StandardUnit:
    if contents.grams is not None:
        return "500g"
    if contents.litres is not None:
        return "L"
    return "piece"


def normalise_price(
    price: float | Decimal,
    unit: str,
    spec: str | None = None,
    standard_unit: str | None = None,
) -> NormalisedPrice:
    """Convert ``price`` 元 per ``unit`` (with an optional pack ``spec``) to 元 per standard unit.

    ``standard_unit`` is the product's catalogue unit when known; otherwise it is inferred (weight →
    500g, volume → L, else piece). Raises :class:`UnitError` with a Chinese and English reason.
    """
    value = float(price)
    if math.isnan(value) or math.isinf(value):
        raise UnitError(f"价格不是有效数字：{price} (price is not a number)")
    if not unit or not unit.strip():
        raise UnitError("缺少计价单位 (missing price unit)")
    if standard_unit is not None and standard_unit not in STANDARD_UNITS:
        raise UnitError(f"未知的标准单位“{standard_unit}” (unknown standard unit {standard_unit!r})")
    number, priced_unit, inline_spec = _read_unit(unit)
    contents = _contents_of_priced_unit(number, priced_unit, spec or inline_spec)
    wanted: StandardUnit = standard_unit or _infer_standard_unit(contents)
    quantity = _quantity(contents, wanted)
    if quantity is None and spec and DESCRIBES_QUANTITY.search(spec):
        # Xinfadi quotes bottled oil as 元/斤 with spec "5L/桶" while the price is per 桶: when the unit
        # cannot give what is wanted but the spec describes a container that can, the price is per container.
        packed = parse_spec(spec)
        if packed.container is not None:
            quantity = _quantity(packed, wanted)
    if quantity is not None and wanted == "500g":
        quantity /= 500.0
    if quantity is None:
        wanted_zh = {"500g": "重量", "L": "容量", "piece": "件数"}[wanted]
        raise UnitError(
            f"无法换算：单位“{unit}”{f'（规格“{spec}”）' if spec else '没有规格'}，得不到{wanted_zh}"
            f" (cannot convert {unit!r}{f' with spec {spec!r}' if spec else ' without a spec'} to {wanted})"
        )
    if quantity <= 0:
        raise UnitError(f"数量必须大于零：{unit} {spec or ''} (quantity must be positive)")
    return NormalisedPrice(unit_price=value / quantity, standard_unit=wanted, quantity=quantity)


NAMED_COUNT_UNIT = re.compile(r"[(（]\s*(?P<unit>[^()（）\s]{1,2})\s*[)）]")
_MEASURE_UNITS = "|".join(re.escape(unit) for unit in [*GRAMS_PER_UNIT, *LITRES_PER_UNIT])
NAMED_MEASURE = re.compile(
    rf"[(（]\s*(?P<measure>\d+(?:\.\d+)?\s*(?:{_MEASURE_UNITS}))\s*[)）]", re.IGNORECASE
)


def count_unit_in_name(name: str) -> str | None:
    """The counting unit a name's bracket states: ``莲蓬(个)`` → "个"; None when it states none."""
    for match in NAMED_COUNT_UNIT.finditer(name):
        if match.group("unit") in COUNT_UNITS:
            return match.group("unit")
    return None


def measure_in_name(name: str) -> str | None:
    """The weight or volume a name's bracket states: ``杏鲍菇(250克)`` → "250克"; None when it states none."""
    match = NAMED_MEASURE.search(name)
    return match.group("measure") if match else None


def _spec_gives_measure(spec: str | None) -> bool:
    if not spec or not DESCRIBES_QUANTITY.search(spec):
        return False
    try:
        contents = parse_spec(spec)
    except UnitError:
        return False
    return contents.grams is not None or contents.litres is not None


def pack_unit_in_name(name: str, spec: str | None = None) -> str | None:
    """The pack a row is sold by when its name says so and nothing says what the pack weighs.

    ``菠菜(份)`` → "份": a portion of spinach is priced per portion, whatever unit the source heads its
    prices with (CUMCM heads them all 元/千克), and cannot be put per 500 g. None when the name states no
    counting unit, or the name (``杏鲍菇(250克)``) or the spec (``300g``) gives the pack's weight or volume.
    """
    unit = count_unit_in_name(name)
    if unit is None or measure_in_name(name) is not None or _spec_gives_measure(spec):
        return None
    return unit


def normalise_named_price(
    price: float | Decimal, unit: str, spec: str | None, standard_unit: str | None, name: str
) -> tuple[NormalisedPrice, str]:
    """:func:`normalise_price`, reading what the name's bracket states; returns (price, unit used).

    A weight or volume in the name is the priced unit (``杏鲍菇(250克)`` at 3.15 is 6.30 元/500g, though
    CUMCM heads it 元/千克) unless a spec says more; a named pack whose spec gives its weight is priced per
    pack of that weight. Otherwise the source's unit is tried first; when it
    cannot give the good's standard unit and the name's bracket says what one item is, that wins: CUMCM
    prices ``莲蓬(个)`` per lotus pod (0.01–3.33 元) and ``菠菜(份)`` (a per-portion good, see
    :func:`pack_unit_in_name`) per portion.
    """
    measure = measure_in_name(name)
    if measure is not None and not spec:
        return normalise_price(price, measure, None, standard_unit), measure
    named = count_unit_in_name(name)
    if named is not None and named != unit and _spec_gives_measure(spec):
        # 菠菜(份) with spec 300g: the portion is priced, and it weighs 300 g
        return normalise_price(price, named, spec, standard_unit), named
    try:
        return normalise_price(price, unit, spec, standard_unit), unit
    except UnitError:
        if named is None or named == unit:
            raise
        return normalise_price(price, named, spec, standard_unit), named
