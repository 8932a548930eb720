"""Finding a product's name, price and availability on a retail page.

Structured data first — schema.org JSON-LD, then microdata, then OpenGraph product tags — because shops
publish it for search engines and it rarely changes with the page design. Per-site rules (CSS, XPath,
regex, constant values; see ``sites.yaml``) fill what structured data lacks or override it where a site
says so. Pure functions over a parsel ``Selector``: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from parsel import Selector

from crawlers.tables import clean

FIELDS = ("name", "price", "currency", "availability", "unit", "spec", "merchant")
AVAILABILITY_WORDS: tuple[tuple[str, str], ...] = (
    ("limitedavailability", "limited"),
    ("限购", "limited"),
    ("outofstock", "out_of_stock"),
    ("soldout", "out_of_stock"),
    ("discontinued", "out_of_stock"),
    ("缺货", "out_of_stock"),
    ("无货", "out_of_stock"),
    ("售罄", "out_of_stock"),
    ("已售完", "out_of_stock"),
    ("instock", "in_stock"),
    ("instoreonly", "in_stock"),
    ("onlineonly", "in_stock"),
    ("有货", "in_stock"),
    ("现货", "in_stock"),
)
SPEC_IN_NAME = re.compile(
    r"(\d+(?:\.\d+)?\s*(?:kg|KG|Kg|g|G|ml|ML|mL|L|l|千克|公斤|克|升|毫升|斤)(?:\s*[*×xX]\s*\d+\s*[^\s\d]?)?"
    r"|\d+\s*(?:枚|片|个|只|瓶|袋|包)\s*/?\s*(?:盒|箱|袋|包|提)?)"
)


@dataclass
class Extraction:
    """What was found and how: ``methods`` maps each field to the extractor that produced it."""

    values: dict[str, str] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)

    def put(self, name: str, value: Any, method: str, *, override: bool = False) -> None:
        text = clean(str(value)) if value is not None else ""
        if text and (override or name not in self.values):
            self.values[name] = text
            self.methods[name] = method

    @property
    def extractor(self) -> str:
        """The method that found the price (what provenance records)."""
        return self.methods.get("price", "none")


def availability_of(text: str | None) -> str | None:
    """schema.org URLs, shop words (有货/缺货/限购) → in_stock | out_of_stock | limited."""
    if not text:
        return None
    key = re.sub(r"[\s_\-]", "", text).lower().rsplit("/", 1)[-1]
    for word, availability in AVAILABILITY_WORDS:
        if word in key:
            return availability
    return None


def split_spec(name: str) -> tuple[str, str | None]:
    """ "金龙鱼 大豆油 5L" → ("金龙鱼 大豆油", "5L"): the pack size is a spec, not part of the good's name."""
    match = SPEC_IN_NAME.search(name)
    if not match:
        return name, None
    rest = clean((name[: match.start()] + " " + name[match.end() :]).strip(" /-*"))
    return (rest or name), match.group(0).replace(" ", "")


def _json_ld_nodes(selector: Selector) -> Iterator[dict[str, Any]]:
    for script in selector.xpath("//script[@type='application/ld+json']/text()").getall():
        try:
            data = json.loads(script)
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                yield node
                stack.extend(value for key, value in node.items() if key in ("@graph", "mainEntity"))


def _is_type(node: dict[str, Any], name: str) -> bool:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and k.rsplit("/", 1)[-1] == name for k in kinds)


def from_json_ld(selector: Selector, found: Extraction) -> None:
    for node in _json_ld_nodes(selector):
        if not _is_type(node, "Product"):
            continue
        found.put("name", node.get("name"), "json-ld")
        brand = node.get("brand")
        if isinstance(brand, dict):
            brand = brand.get("name")
        offers = node.get("offers")
        offer_list = offers if isinstance(offers, list) else [offers]
        for offer in offer_list:
            if not isinstance(offer, dict):
                continue
            price = offer.get("price", offer.get("lowPrice"))
            if price is None and isinstance(offer.get("priceSpecification"), dict):
                price = offer["priceSpecification"].get("price")
            found.put("price", price, "json-ld")
            found.put("currency", offer.get("priceCurrency"), "json-ld")
            found.put("availability", availability_of(offer.get("availability")), "json-ld")
            seller = offer.get("seller")
            found.put("merchant", seller.get("name") if isinstance(seller, dict) else None, "json-ld")
        return


def from_microdata(selector: Selector, found: Extraction) -> None:
    product = selector.xpath("//*[@itemscope][contains(@itemtype, 'schema.org/Product')]")
    if not product:
        return
    scope = product[0]

    def prop(name: str) -> str | None:
        node = scope.xpath(f".//*[@itemprop='{name}']")
        if not node:
            return None
        return (
            node[0].xpath("@content").get()
            or node[0].xpath("@href").get()
            or clean(" ".join(node[0].xpath(".//text()").getall()))
        )

    found.put("name", prop("name"), "microdata")
    found.put("price", prop("price") or prop("lowPrice"), "microdata")
    found.put("currency", prop("priceCurrency"), "microdata")
    found.put("availability", availability_of(prop("availability")), "microdata")


def from_opengraph(selector: Selector, found: Extraction) -> None:
    def meta(*names: str) -> str | None:
        for name in names:
            value = selector.xpath(f"//meta[@property='{name}' or @name='{name}']/@content").get()
            if value:
                return value
        return None

    price = meta("product:price:amount", "og:price:amount")
    if price is None:
        return
    found.put("price", price, "opengraph")
    found.put("currency", meta("product:price:currency", "og:price:currency"), "opengraph")
    found.put("name", meta("og:title"), "opengraph")
    found.put("availability", availability_of(meta("product:availability", "og:availability")), "opengraph")


def apply_rule(selector: Selector, rule: dict[str, Any]) -> str | None:
    """One per-site rule: ``css``, ``xpath``, ``regex`` (over the page) or ``value``; optional ``pattern``."""
    if "value" in rule:
        return str(rule["value"])
    if "css" in rule:
        text = clean(" ".join(selector.css(rule["css"]).getall()))
    elif "xpath" in rule:
        text = clean(" ".join(selector.xpath(rule["xpath"]).getall()))
    elif "regex" in rule:
        match = re.search(rule["regex"], selector.get())
        text = clean(match.group(1) if match and match.groups() else match.group(0) if match else "")
    else:
        return None
    if text and rule.get("pattern"):
        match = re.search(rule["pattern"], text)
        text = (match.group(1) if match.groups() else match.group(0)) if match else ""
    return text or None


def extract(
    html: str | Selector, rules: dict[str, list[dict[str, Any]]] | None = None, site: str = ""
) -> Extraction:
    """Structured data first, then the site's rules (a rule with ``override: true`` beats structured data)."""
    selector = html if isinstance(html, Selector) else Selector(text=html)
    found = Extraction()
    from_json_ld(selector, found)
    from_microdata(selector, found)
    from_opengraph(selector, found)
    for name, field_rules in (rules or {}).items():
        for rule in field_rules:
            value = apply_rule(selector, rule)
            if name == "availability":
                value = availability_of(value) if value else None
            if value:
                found.put(
                    name, value, f"rules:{site}" if site else "rules", override=bool(rule.get("override"))
                )
                break
    if "name" in found.values and "spec" not in found.values:
        name, spec = split_spec(found.values["name"])
        if spec:
            found.values["name"] = name
            found.put("spec", spec, found.methods["name"])
    return found
