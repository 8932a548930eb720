"""What can be crawled: named sources, each a spider plus its arguments (bulletins come from YAML)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

BULLETINS_FILE = Path(__file__).with_name("bulletins.yaml")
BULLETIN_FIELDS = frozenset({"product", "price", "unit", "spec", "low_price", "high_price", "merchant"})


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


_Named = TypeVar("_Named", bound=_HasName)


class SourceConfigError(ValueError):
    """A source record that cannot work; the message names the source and the field."""


@dataclass(frozen=True)
class BulletinSource:
    name: str
    title: str
    base_url: str
    path: str
    table: str
    columns: dict[str, str]
    unit: str | None = None
    links: str | None = None
    date: str | None = None
    region: str = ""
    merchant: str | None = None
    price_type: str = "retail"


@dataclass(frozen=True)
class Source:
    """A runnable crawl: ``scrapy crawl <spider> -a key=value ...``."""

    name: str
    spider: str
    description: str
    arguments: dict[str, str] = field(default_factory=dict)


def _bulletin(record: Any, position: int) -> BulletinSource:
    if not isinstance(record, dict):
        raise SourceConfigError(f"bulletin #{position}: expected a mapping")
    name = str(record.get("name") or "").strip()
    where = f"bulletin {name or f'#{position}'}"
    for key in ("name", "base_url", "table", "columns"):
        if not record.get(key):
            raise SourceConfigError(f"{where}: missing {key}")
    columns = record["columns"]
    if not isinstance(columns, dict) or not {"product", "price"} <= columns.keys():
        raise SourceConfigError(f"{where}: columns must map at least product and price to header texts")
    unknown = set(columns) - BULLETIN_FIELDS
    if unknown:
        raise SourceConfigError(f"{where}: unknown column fields {sorted(unknown)}")
    if "unit" not in columns and not record.get("unit"):
        raise SourceConfigError(f"{where}: needs a unit column or a unit")
    if record.get("price_type", "retail") not in ("retail", "wholesale"):
        raise SourceConfigError(f"{where}: price_type must be retail or wholesale")
    return BulletinSource(
        name=name,
        title=str(record.get("title") or name),
        base_url=str(record["base_url"]).rstrip("/"),
        path=str(record.get("path") or "/"),
        table=str(record["table"]),
        columns={str(k): str(v) for k, v in columns.items()},
        unit=record.get("unit"),
        links=record.get("links"),
        date=record.get("date"),
        region=str(record.get("region") or ""),
        merchant=record.get("merchant"),
        price_type=str(record.get("price_type", "retail")),
    )


def read_named_records(
    path: Path, key: str, build: Callable[[Any, int], _Named], kind: str
) -> dict[str, _Named]:
    """Records of a registry file by name; raises :class:`SourceConfigError` naming the bad record."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SourceConfigError(f"{path}: not valid YAML: {exc}") from exc
    records = data.get(key) if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise SourceConfigError(f"{path}: expected a '{key}' list")
    named: dict[str, _Named] = {}
    for position, record in enumerate(records, 1):
        built = build(record, position)
        if built.name in named:
            raise SourceConfigError(f"{kind} {built.name}: defined twice")
        named[built.name] = built
    return named


def load_bulletins(path: Path = BULLETINS_FILE) -> dict[str, BulletinSource]:
    return read_named_records(path, "sources", _bulletin, "bulletin")


def available_sources() -> dict[str, Source]:
    """Every crawlable source by name, in a stable order."""
    sources = {
        "xinfadi": Source("xinfadi", "xinfadi", "北京新发地批发价格 (JSON)"),
        "mofcom": Source("mofcom", "mofcom", "商务预报 农产品批发价格表"),
        "product_pages": Source("product_pages", "product_page", "零售商品页面 (sites.yaml)"),
    }
    for bulletin in load_bulletins().values():
        sources[bulletin.name] = Source(bulletin.name, "bulletin", bulletin.title, {"source": bulletin.name})
    return sources
