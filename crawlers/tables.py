"""Reading price tables out of HTML: header cells to column names, rows to dicts, units from headers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from parsel import Selector, SelectorList

UNIT_IN_HEADER = re.compile(r"[（(]\s*(?P<unit>[^）)]*?/[^）)]+?)\s*[）)]")
DATE_IN_TEXT = re.compile(r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})")


def clean(text: str | None) -> str:
    """Collapse whitespace (including full-width spaces and &nbsp;) and normalise width."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip()


def cell_text(cell: Selector) -> str:
    return clean(" ".join(cell.xpath(".//text()").getall()))


def table_rows(table: Selector | SelectorList) -> tuple[list[str], list[list[str]]]:
    """(header texts, body rows as cell texts); the header is the first row with ``th`` cells, else row 1."""
    rows = [row for row in table.xpath(".//tr") if row.xpath("./th|./td")]
    if not rows:
        return [], []
    header_index = next((i for i, row in enumerate(rows) if row.xpath("./th")), 0)
    headers = [cell_text(cell) for cell in rows[header_index].xpath("./th|./td")]
    body = [[cell_text(cell) for cell in row.xpath("./td|./th")] for row in rows[header_index + 1 :]]
    return headers, [cells for cells in body if any(cells)]


def find_column(headers: list[str], candidates: Iterable[str]) -> int | None:
    """Index of the first header equal to, then starting with, one of ``candidates``."""
    names = list(candidates)
    for name in names:
        for index, header in enumerate(headers):
            if header == name:
                return index
    for name in names:
        for index, header in enumerate(headers):
            if header.startswith(name):
                return index
    return None


def unit_from_header(header: str) -> str | None:
    """``价格（元/公斤）`` → ``元/公斤``."""
    match = UNIT_IN_HEADER.search(clean(header))
    return match.group("unit").replace(" ", "") if match else None


def date_in(text: str) -> str | None:
    """The first date in ``text`` as YYYY-MM-DD (2026年11月27日, 2026-11-27, 2026/11/27)."""
    match = DATE_IN_TEXT.search(clean(text))
    if not match:
        return None
    return f"{int(match['y']):04d}-{int(match['m']):02d}-{int(match['d']):02d}"
