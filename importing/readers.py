"""Streaming CSV/JSONL/xlsx readers that yield one row at a time with its line number.

A file is never loaded whole: rows are read as they are imported (an xlsx sheet in openpyxl's read-only
mode), so a million-row file needs no more memory than a thousand-row one. A row that cannot be read (bad
or too deeply nested JSON, not an object, bytes invalid in the file's encoding, a malformed CSV record)
is yielded as a :class:`BadRow` so the importer reports it with its line number and carries on; only a
file that cannot be read at all raises :class:`ImportFileError`. Files come as people have them: a JSON
array (an API's answer) as well as JSON Lines, a header named by ``--column field=header`` mappings, or
no header line at all when the importer knows the source's field order.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import json
import re
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

FileFormat = Literal["csv", "jsonl", "json", "xlsx"]
CSV_EXTENSIONS = {".csv", ".tsv", ".txt"}
JSONL_EXTENSIONS = {".jsonl", ".ndjson"}
JSON_EXTENSIONS = {".json"}
XLSX_EXTENSIONS = {".xlsx", ".xlsm"}
ZIP_MAGIC = b"PK\x03\x04"
# Bytes that do not decode are kept as lone surrogates (U+DC80-U+DCFF), which no valid text contains,
# so the row holding them is rejected with its line number instead of failing the whole file.
UNDECODABLE = re.compile("[\udc80-\udcff]")
BAD_BYTES = "含有无法按文件编码（{encoding}）解码的字节 (invalid {encoding} bytes)"
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


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file's header: renamed columns, and the fields of a file saved without one.

    ``columns`` maps our field name to the file's header (``{"date": "销售日期"}``). ``headerless``
    lists the fields of a source's rows in order; a first line that names none of ``known_columns``
    (nor a mapped header) is then data, not a header. Without ``headerless``, such a line refuses the
    file, naming the source of ``headerless_sources`` whose field count it has. ``encoding`` overrides
    detection (in UTF-8 mode, rows with invalid bytes are rejected one by one).
    """

    columns: Mapping[str, str] | None = None
    headerless: Sequence[str] | None = None
    known_columns: Collection[str] = ()
    headerless_sources: Mapping[str, Sequence[str]] | None = None
    encoding: str | None = None  # of a text file; None: detected


def parse_column_mapping(options: Iterable[str], fields: Collection[str]) -> dict[str, str]:
    """``["date=销售日期", …]`` (``--column`` options) as ``{field: header}``; unknown fields refused."""
    mapping: dict[str, str] = {}
    for option in options:
        field, separator, header = option.partition("=")
        field, header = field.strip().lower(), header.strip()
        if not separator or not field or not header:
            raise ImportFileError(f"--column 应写作 字段=表头，例如 date=销售日期：{option!r}")
        if field not in fields:
            raise ImportFileError(f"--column 未知字段 {field!r}（可用：{', '.join(sorted(fields))}）")
        mapping[field] = header
    return mapping


def detect_format(path: Path, head: bytes) -> FileFormat:
    """By extension first; otherwise a zip is xlsx, a first non-blank ``{`` JSON Lines, ``[`` JSON."""
    suffix = path.suffix.lower()
    if suffix in CSV_EXTENSIONS:
        return "csv"
    if suffix in JSONL_EXTENSIONS:
        return "jsonl"
    if suffix in XLSX_EXTENSIONS or head.startswith(ZIP_MAGIC):
        return "xlsx"
    start = head.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:1]
    if suffix in JSON_EXTENSIONS:
        return "json" if start == b"[" else "jsonl"
    return {b"{": "jsonl", b"[": "json"}.get(start, "csv")  # type: ignore[return-value]


def detect_encoding(head: bytes) -> str:
    """UTF-16 or UTF-8 by BOM; UTF-8 when the first bytes are mostly valid UTF-8, else GB18030.

    "Mostly": a UTF-8 file with a few corrupt bytes is still UTF-8 (its bad rows are rejected one by
    one), while GBK text read as UTF-8 is nearly all invalid.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" export
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(head, final=False)
    invalid = len(UNDECODABLE.findall(text))
    if not invalid:
        return "utf-8"
    multibyte = sum(1 for character in text if character >= "\x80" and not UNDECODABLE.match(character))
    return "utf-8" if multibyte >= 4 * invalid else FALLBACK_ENCODING


def _delimiter(path: Path, sample: str) -> str:
    """Tab for .tsv files and for headers with more tabs than commas (Excel text exports), else comma."""
    header = sample.split("\n", 1)[0]
    return "\t" if path.suffix.lower() == ".tsv" or header.count("\t") > header.count(",") else ","


def _normalise_key(key: str | None) -> str:
    return (key or "").strip().lstrip("\ufeff").lower()


def _renamer(options: ReadOptions) -> dict[str, str]:
    """File header (normalised) → our field name, for ``--column`` mappings."""
    return {_normalise_key(header): field for field, header in (options.columns or {}).items()}


def _keys(header: Sequence[Any], renames: Mapping[str, str]) -> list[str]:
    keys = [_normalise_key(None if cell is None else str(cell)) for cell in header]
    return [renames.get(key, key) for key in keys]


def _names_a_column(cells: Sequence[Any], options: ReadOptions, renames: Mapping[str, str]) -> bool:
    """Whether a first line names a known column, a source's field or a ``--column`` header."""
    names = {_normalise_key(str(name)) for name in (*options.known_columns, *(options.headerless or ()))}
    keys = {_normalise_key(None if cell is None else str(cell)) for cell in cells}
    return bool(keys & (names | set(renames)))


def _no_header(cells: Sequence[Any], options: ReadOptions) -> ImportFileError:
    """Every row under such a first line would be refused for missing fields: the file is refused once,
    saying what reads it (``--source`` of a header-less export with as many fields, or ``--column``)."""
    filled = [str(cell).strip() for cell in cells if _filled(cell)]
    shown = "，".join(filled[:6]) + ("……" if len(filled) > 6 else "")
    source = next(
        (name for name, fields in (options.headerless_sources or {}).items() if len(fields) == len(cells)),
        None,
    )
    if source:
        hint = (
            f"这像是 {source} 的无表头导出：请加 --source {source} (looks like a headerless {source} export)"
        )
    else:
        hint = "请给文件加表头，或用 --column 字段=表头 指明列名 (add a header or map columns with --column)"
    return ImportFileError(f"第一行没有可识别的列名（{shown}）：{hint}")


def _tabular_rows(
    lines: Iterator[tuple[int, Sequence[Any] | BadRow]], options: ReadOptions
) -> Iterator[Row | BadRow]:
    """Rows of a table (CSV lines, sheet rows) given as (line number, cells or why they are unreadable)."""
    renames = _renamer(options)
    first = next(lines, None)
    header = None if first is None else first[1]
    if isinstance(header, BadRow):
        raise ImportFileError(f"表头无法读取：{header.reason} (unreadable header)")
    if first is None or header is None or not any(_filled(cell) for cell in header):
        raise ImportFileError("文件为空或缺少表头 (empty file or no header row)")
    if _names_a_column(header, options, renames):
        keys = _keys(header, renames)
    elif options.headerless is not None:
        keys = [_normalise_key(name) for name in options.headerless]
        lines = itertools.chain([first], lines)
    elif options.known_columns:
        raise _no_header(header, options)
    else:
        keys = _keys(header, renames)
    for number, cells in lines:
        if isinstance(cells, BadRow):
            yield cells
            continue
        if not any(_filled(cell) for cell in cells):
            continue
        if len(cells) > len(keys) and any(_filled(cell) for cell in cells[len(keys) :]):
            yield BadRow(number, f"列数多于表头（{len(cells)} > {len(keys)}） (more cells than header)")
            continue
        yield Row(number, {key: cell for key, cell in zip(keys, cells, strict=False) if key})


def _filled(cell: Any) -> bool:
    return cell is not None and str(cell).strip() != ""


def _csv_rows(text: IO[str], delimiter: str, options: ReadOptions, encoding: str) -> Iterator[Row | BadRow]:
    reader = csv.reader(text, delimiter=delimiter)

    def lines() -> Iterator[tuple[int, list[str] | BadRow]]:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield reader.line_num, BadRow(reader.line_num, f"CSV 格式错误：{exc} (malformed CSV record)")
                continue
            if any(UNDECODABLE.search(cell) for cell in cells):
                yield reader.line_num, BadRow(reader.line_num, BAD_BYTES.format(encoding=encoding))
                continue
            yield reader.line_num, cells

    yield from _tabular_rows(lines(), options)


def _cell_value(value: Any) -> Any:
    """A sheet cell as an importer reads it: dates as ISO text (midnight as a plain date), blanks empty."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def _xlsx_rows(stream: IO[bytes], options: ReadOptions) -> Iterator[Row | BadRow]:
    """The first sheet of a workbook, streamed (openpyxl read-only mode)."""
    import openpyxl  # only xlsx imports pay for loading it

    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(f"无法读取 xlsx 工作簿 (cannot read the workbook: {exc})") from exc
    try:
        sheet = workbook.worksheets[0]
        lines = (
            (number, [_cell_value(cell) for cell in cells])
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        yield from _tabular_rows(lines, options)
    finally:
        workbook.close()


def is_xlsx(path: Path) -> bool:
    """Whether ``path`` is read as a workbook (by extension, else by its zip signature)."""
    with path.open("rb") as stream:
        return detect_format(path, stream.read(len(ZIP_MAGIC))) == "xlsx"


def xlsx_line_count(path: Path) -> int | None:
    """Lines of the first sheet (header included) as the workbook records them; None when it does not.

    Read from the sheet's dimension, without reading its rows: a progress bar counts rows against it.
    """
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return None  # the import itself says what is wrong with the file
    try:
        lines = workbook.worksheets[0].max_row
        return lines if isinstance(lines, int) and lines > 0 else None
    finally:
        workbook.close()


def _object_row(number: int, value: Any, renames: Mapping[str, str]) -> Row | BadRow:
    if not isinstance(value, dict):
        return BadRow(number, "每行应为一个 JSON 对象 (each line must be a JSON object)")
    keys = (_normalise_key(str(key)) for key in value)
    return Row(number, {renames.get(key, key): item for key, item in zip(keys, value.values(), strict=True)})


def _jsonl_rows(text: IO[str], options: ReadOptions, encoding: str) -> Iterator[Row | BadRow]:
    renames = _renamer(options)
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        if UNDECODABLE.search(line):
            yield BadRow(number, BAD_BYTES.format(encoding=encoding))
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadRow(number, f"JSON 格式错误：{exc.msg} (invalid JSON)")
            continue
        except RecursionError:
            yield BadRow(number, "JSON 嵌套层数过深 (JSON nested too deeply)")
            continue
        rows = value if isinstance(value, list) and value else _listed_rows(value)
        if rows is not None and all(isinstance(item, dict) for item in rows):
            # A line holding an array, or an API page: the rows of one saved answer.
            yield from (_object_row(number, item, renames) for item in rows)
            continue
        yield _object_row(number, value, renames)


def _listed_rows(value: Any) -> list[Any] | None:
    """The rows of an API page such as Xinfadi's ``{"count": …, "list": [{…}, …]}``, else None."""
    if not isinstance(value, dict):
        return None
    lists = [item for item in value.values() if isinstance(item, list)]
    if len(lists) == 1 and lists[0] and all(isinstance(item, dict) for item in lists[0]):
        return lists[0]
    return None


def _json_rows(text: IO[str], options: ReadOptions, encoding: str) -> Iterator[Row | BadRow]:
    """A JSON document: an array of objects (or an API page holding one); the n-th object is row n."""
    try:
        value = json.load(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"JSON 格式错误：{exc.msg}，第 {exc.lineno} 行 (invalid JSON)") from exc
    except RecursionError as exc:
        raise ImportFileError("JSON 嵌套层数过深 (JSON nested too deeply)") from exc
    rows = value if isinstance(value, list) else _listed_rows(value)
    if rows is None:
        raise ImportFileError("JSON 文件应为对象数组 (expected an array of objects)")
    renames = _renamer(options)
    for number, item in enumerate(rows, start=1):
        if UNDECODABLE.search(json.dumps(item, ensure_ascii=False)):
            yield BadRow(number, BAD_BYTES.format(encoding=encoding))
            continue
        yield _object_row(number, item, renames)


def read_rows(stream: IO[bytes], path: Path, options: ReadOptions | None = None) -> Iterator[Row | BadRow]:
    """Rows of a CSV, JSONL, JSON or xlsx file given as a binary stream (``path`` hints the format)."""
    options = options or ReadOptions()
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if detect_format(path, head) == "xlsx":
        yield from _xlsx_rows(stream, options)
        return
    encoding = options.encoding or detect_encoding(head)
    if not encoding.lower().replace("-", "").startswith("utf16") and b"\x00" in head:
        raise ImportFileError("不是文本文件 (binary file, expected CSV, JSONL or xlsx)")
    sample = head.decode(encoding, errors="ignore")
    file_format = detect_format(path, sample.lstrip("\ufeff").encode())
    text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")
    try:
        if file_format == "jsonl":
            yield from _jsonl_rows(text, options, encoding)
        elif file_format == "json":
            yield from _json_rows(text, options, encoding)
        else:
            yield from _csv_rows(text, _delimiter(path, sample), options, encoding)
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"文件编码无法识别 (cannot decode the file: {exc.reason})") from exc
    except csv.Error as exc:
        raise ImportFileError(f"CSV 格式错误 (malformed CSV: {exc})") from exc
    finally:
        text.detach()
