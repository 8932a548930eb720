"""Export a search as CSV or Excel, streamed: pages come from the backend by cursor, rows go out as made.

CSV is written row by row (UTF-8 with BOM so Excel opens the Chinese correctly). Excel is written with
openpyxl's write-only workbook, which keeps rows in a temporary file rather than in memory; the finished
``.xlsx`` is then sent from disk in chunks. Both writers pass every cell through :func:`neutralize_cell`
(the OWASP CSV-injection rule), so no text a complainant typed is ever read as a formula.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from complaints.workflow import STATUS_NAMES
from core.clock import in_china
from core.display_names import display_name
from search.query import SearchQuery
from search.service import DisplayHit

MAX_EXPORT_ROWS = 100_000
PAGE_SIZE = 1000
HEADERS = (
    "编号",
    "查询码",
    "登记时间",
    "标题",
    "投诉内容",
    "投诉性质",
    "行业",
    "区县",
    "被投诉商家",
    "状态",
    "涉案金额（元）",
)
# OWASP "CSV injection": a cell starting with one of these is a formula (or DDE call) to Excel,
# LibreOffice or WPS; the full-width forms are read as formulas by spreadsheets in Chinese locales.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_UNSAFE_FILENAME = re.compile(r"[^\w.\-]+")

SearchPage = Callable[[SearchQuery], tuple[list[DisplayHit], str | None]]


def safe_filename(requested: str | None, extension: str) -> str:
    """A bare file name (no directories, no dots up front) ending in ``extension``."""
    stem = (requested or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = _UNSAFE_FILENAME.sub("_", stem).strip("._")[:80]
    stem = re.sub(r"\.(csv|xlsx)$", "", stem, flags=re.IGNORECASE) or "complaints-export"
    return f"{stem}.{extension}"


def neutralize_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would evaluate gets a leading ``'``; other values pass unchanged."""
    if isinstance(value, str) and value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + value
    return value


def row_values(hit: DisplayHit) -> list[Any]:
    document = hit.document
    amount = None if document.amount_cents is None else Decimal(document.amount_cents) / 100
    return [
        document.id,
        document.tracking_code,
        in_china(document.created_at).strftime("%Y-%m-%d %H:%M"),
        hit.title or "",
        hit.text,
        document.nature or "",
        display_name("industry", document.industry),
        document.district or "",
        document.merchant or "",
        STATUS_NAMES.get(document.status, document.status),
        amount,
    ]


def export_rows(
    query: SearchQuery, search_page: SearchPage, limit: int = MAX_EXPORT_ROWS
) -> Iterator[list[Any]]:
    """Rows of every hit of ``query`` (date order) up to ``limit``, one page in memory at a time."""
    page_query = query.model_copy(
        update={
            "sort": "date",
            "size": PAGE_SIZE,
            "page": 1,
            "cursor": None,
            "facets": False,
            "histogram": None,
        }
    )
    sent = 0
    while sent < limit:
        hits, cursor = search_page(page_query)
        for hit in hits[: limit - sent]:
            yield row_values(hit)
            sent += 1
        if cursor is None or not hits:
            return
        page_query = page_query.model_copy(update={"cursor": cursor})


def csv_chunks(rows: Iterator[list[Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    yield ("\ufeff" + buffer.getvalue()).encode()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(["" if value is None else neutralize_cell(value) for value in row])
        yield buffer.getvalue().encode()


def xlsx_chunks(rows: Iterator[list[Any]], chunk_bytes: int = 64 * 1024) -> Iterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("投诉检索结果")
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append([neutralize_cell(value) for value in row])
    with tempfile.TemporaryFile() as file:
        workbook.save(file)
        file.seek(0)
        while chunk := file.read(chunk_bytes):
            yield chunk
