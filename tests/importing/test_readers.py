"""Readers: CSV, JSONL, JSON and xlsx streamed with line numbers; formats sniffed; bad files refused."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

from importing.readers import BadRow, ImportFileError, ReadOptions, Row, parse_column_mapping, read_rows


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


def test_json_array_and_api_page_are_rows() -> None:
    array = '[{"id": 1, "prodName": "大白菜"}, {"id": 2, "prodName": "娃娃菜"}]'.encode()
    assert _rows(array, "page.json") == [
        Row(1, {"id": 1, "prodname": "大白菜"}),
        Row(2, {"id": 2, "prodname": "娃娃菜"}),
    ]
    page = '{"current": 1, "count": 1, "list": [{"prodName": "冬瓜"}]}\n'.encode()
    assert _rows(page, "answer.jsonl") == [Row(1, {"prodname": "冬瓜"})]


def test_headerless_rows_take_the_source_field_order() -> None:
    options = ReadOptions(headerless=("id", "name", "price"), known_columns=("product",))
    content = "7,山药,3.5\n8,冬瓜,0.9\n".encode()
    rows = list(read_rows(io.BytesIO(content), Path("dump.csv"), options))
    assert rows == [
        Row(1, {"id": "7", "name": "山药", "price": "3.5"}),
        Row(2, {"id": "8", "name": "冬瓜", "price": "0.9"}),
    ]
    with_header = list(read_rows(io.BytesIO(b"id,name,price\n7,x,1\n"), Path("dump.csv"), options))
    assert with_header == [Row(2, {"id": "7", "name": "x", "price": "1"})]


def test_column_mapping_renames_headers() -> None:
    options = ReadOptions(
        columns=parse_column_mapping(["date=销售日期", "product= 单品名称 "], {"date", "product"})
    )
    content = "销售日期,单品名称\n2023-01-01,芜湖青椒(1)\n".encode()
    assert list(read_rows(io.BytesIO(content), Path("x.csv"), options)) == [
        Row(2, {"date": "2023-01-01", "product": "芜湖青椒(1)"})
    ]
    with pytest.raises(ImportFileError, match="未知字段"):
        parse_column_mapping(["colour=颜色"], {"date"})
    with pytest.raises(ImportFileError, match="字段=表头"):
        parse_column_mapping(["date"], {"date"})


def test_xlsx_first_sheet_is_streamed(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    sheet.append(["日期", "单品编码", "批发价格(元/千克)", None])
    sheet.append([dt.datetime(2020, 7, 1), 102900005115762, 3.88, None])
    sheet.append([None, None, None, None])
    sheet.append([dt.datetime(2020, 7, 2, 8, 30), 102900005115779, 6.72, None])
    workbook.create_sheet("其他").append(["ignored"])
    path = tmp_path / "附件3.xlsx"
    workbook.save(path)
    with path.open("rb") as stream:
        rows = list(read_rows(stream, Path("upload")))  # found by content, not by name
    assert rows == [
        Row(2, {"日期": "2020-07-01", "单品编码": 102900005115762, "批发价格(元/千克)": 3.88}),
        Row(4, {"日期": "2020-07-02 08:30:00", "单品编码": 102900005115779, "批发价格(元/千克)": 6.72}),
    ]


def test_broken_xlsx_is_refused() -> None:
    with pytest.raises(ImportFileError, match="xlsx"):
        _rows(b"PK\x03\x04 not really a workbook", "book.xlsx")
