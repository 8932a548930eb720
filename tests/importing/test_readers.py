"""Readers: CSV and JSONL streamed with line numbers; encodings and formats sniffed; bad files refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from importing.readers import BadRow, ImportFileError, Row, read_rows


def _rows(content: bytes, name: str) -> list[Row | BadRow]:
    return list(read_rows(io.BytesIO(content), Path(name)))


def test_csv_rows_carry_line_numbers_and_lowercase_keys() -> None:
    content = 'Date, Product ,price\n2026-03-01,鸡蛋,5.8\n\n2026-03-02,"大白菜,精品",1.2\n'.encode()
    rows = _rows(content, "p.csv")
    assert rows == [
        Row(2, {"date": "2026-03-01", "product": "鸡蛋", "price": "5.8"}),
        Row(4, {"date": "2026-03-02", "product": "大白菜,精品", "price": "1.2"}),
    ]


def test_csv_with_bom_and_gbk_encoding() -> None:
    text = "date,product\n2026-03-01,鸡蛋\n"
    assert _rows(b"\xef\xbb\xbf" + text.encode(), "p.csv") == [
        Row(2, {"date": "2026-03-01", "product": "鸡蛋"})
    ]
    assert _rows(text.encode("gbk"), "p.csv") == [Row(2, {"date": "2026-03-01", "product": "鸡蛋"})]


def test_csv_row_with_too_many_cells_is_a_bad_row() -> None:
    rows = _rows(b"a,b\n1,2,3\n4,5\n", "x.csv")
    assert isinstance(rows[0], BadRow) and rows[0].line == 2
    assert rows[1] == Row(3, {"a": "4", "b": "5"})


def test_tsv_is_tab_separated() -> None:
    assert _rows(b"a\tb\n1\t2\n", "x.tsv") == [Row(2, {"a": "1", "b": "2"})]


def test_excel_unicode_text_export() -> None:
    content = "日期\t商品\r\n2026-03-01\t鸡蛋,红皮\r\n".encode("utf-16")
    assert _rows(content, "导出.txt") == [Row(2, {"日期": "2026-03-01", "商品": "鸡蛋,红皮"})]


def test_jsonl_reports_bad_lines_and_goes_on() -> None:
    content = '{"Text": "一"}\nnot json\n\n[1, 2]\n{"text": "二"}\n'.encode()
    rows = _rows(content, "c.jsonl")
    assert rows[0] == Row(1, {"text": "一"})
    assert isinstance(rows[1], BadRow) and rows[1].line == 2 and "JSON" in rows[1].reason
    assert isinstance(rows[2], BadRow) and rows[2].line == 4
    assert rows[3] == Row(5, {"text": "二"})


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("upload", b'{"text": "x"}\n', Row(1, {"text": "x"})),
        ("upload", b"text\nx\n", Row(2, {"text": "x"})),
        ("upload.json", b'{"text": "x"}\n', Row(1, {"text": "x"})),
        ("upload.ndjson", b'\n  {"text": "x"}\n', Row(2, {"text": "x"})),
    ],
)
def test_format_from_extension_or_content(name: str, content: bytes, expected: Row) -> None:
    assert _rows(content, name) == [expected]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("p.csv", b"", "表头"),
        ("p.csv", b"\n\n", "表头"),
        ("p.csv", b"PK\x03\x04\x00\x00binary", "不是文本文件"),
        ("p.csv", b'a,b\n"unterminated\x00', "不是文本文件"),
    ],
)
def test_unreadable_files_raise(name: str, content: bytes, reason: str) -> None:
    with pytest.raises(ImportFileError, match=reason):
        _rows(content, name)


def test_rows_are_streamed_not_loaded() -> None:
    stream = io.BytesIO(b"a\n" + b"1\n" * 200_000)
    rows = read_rows(stream, Path("big.csv"))
    assert next(rows) == Row(2, {"a": "1"})
    assert stream.tell() < 200_000
