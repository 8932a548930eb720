"""Streaming CSV/JSONL readers that yield one row at a time with its line number.

A file is never loaded whole: rows are read as they are imported, so a million-row file needs no more
memory than a thousand-row one. A row that cannot be read (bad JSON, not an object) is yielded as a
:class:`BadRow` so the importer reports it with its line number and carries on.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

FileFormat = Literal["csv", "jsonl"]
CSV_EXTENSIONS = {".csv", ".tsv", ".txt"}
JSONL_EXTENSIONS = {".jsonl", ".ndjson", ".json"}
SNIFF_BYTES = 64 * 1024
# Excel on Chinese Windows saves CSV as GBK; GB18030 is its superset.
FALLBACK_ENCODING = "gb18030"


class ImportFileError(Exception):
    """The file as a whole cannot be read (missing, binary, wrong encoding, no header)."""


@dataclass(frozen=True)
class Row:
    line: int
    data: dict[str, Any]


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


def detect_format(path: Path, head: bytes) -> FileFormat:
    """By extension first; otherwise a first non-blank ``{`` means JSON Lines."""
    suffix = path.suffix.lower()
    if suffix in CSV_EXTENSIONS:
        return "csv"
    if suffix in JSONL_EXTENSIONS:
        return "jsonl"
    return "jsonl" if head.lstrip(codecs.BOM_UTF8 + b" \t\r\n").startswith(b"{") else "csv"


def detect_encoding(head: bytes) -> str:
    """UTF-16 or UTF-8 by BOM; UTF-8 when the first bytes decode as such, else GB18030."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" export
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return FALLBACK_ENCODING
    return "utf-8"


def _delimiter(path: Path, sample: str) -> str:
    """Tab for .tsv files and for headers with more tabs than commas (Excel text exports), else comma."""
    header = sample.split("\n", 1)[0]
    return "\t" if path.suffix.lower() == ".tsv" or header.count("\t") > header.count(",") else ","


def _normalise_key(key: str | None) -> str:
    return (key or "").strip().lstrip("\ufeff").lower()


def _csv_rows(text: IO[str], delimiter: str) -> Iterator[Row | BadRow]:
    reader = csv.reader(text, delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise ImportFileError("文件为空或缺少表头 (empty file or no header row)")
    keys = [_normalise_key(cell) for cell in header]
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(keys):
            yield BadRow(
                reader.line_num, f"列数多于表头（{len(cells)} > {len(keys)}） (more cells than header)"
            )
            continue
        yield Row(reader.line_num, {key: cell for key, cell in zip(keys, cells, strict=False) if key})


def _jsonl_rows(text: IO[str]) -> Iterator[Row | BadRow]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadRow(number, f"JSON 格式错误：{exc.msg} (invalid JSON)")
            continue
        if not isinstance(value, dict):
            yield BadRow(number, "每行应为一个 JSON 对象 (each line must be a JSON object)")
            continue
        yield Row(number, {_normalise_key(key): item for key, item in value.items()})


def read_rows(stream: IO[bytes], path: Path) -> Iterator[Row | BadRow]:
    """Rows of a CSV or JSONL file given as a binary stream (``path`` names it and hints the format)."""
    head = stream.read(SNIFF_BYTES)
    encoding = detect_encoding(head)
    if encoding != "utf-16" and b"\x00" in head:
        raise ImportFileError("不是文本文件 (binary file, expected CSV or JSONL)")
    stream.seek(0)
    sample = head.decode(encoding, errors="ignore")
    file_format = detect_format(path, sample.lstrip("\ufeff").encode())
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        if file_format == "jsonl":
            yield from _jsonl_rows(text)
        else:
            yield from _csv_rows(text, _delimiter(path, sample))
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"文件编码无法识别 (cannot decode the file: {exc.reason})") from exc
    except csv.Error as exc:
        raise ImportFileError(f"CSV 格式错误 (malformed CSV: {exc})") from exc
    finally:
        text.detach()
