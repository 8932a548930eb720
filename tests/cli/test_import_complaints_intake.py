"""A complaint file mixing good rows with every kind of bad row: the good ones stored and searchable at
once on the configured backend, each bad one named by its line, a re-run adding nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from cli.main import app
from core.models import Complaint
from importing.readers import xlsx_line_count

# Each good row has a word no other row uses, so a search for it finds exactly that row.
GOOD = [
    {"text": "在超市买的鲅鱼馅饺子里全是面粉，标签写的纯鱼肉。", "district": "南岗区"},
    {"text": "健身房的私教课程收了钱不上课，老板电话打不通。", "created_at": "2026-03-01 10:00"},
    {"text": "网购的榴莲到货时已经腐烂，客服拒绝退款。", "amount": "299.5"},
]
GOOD_WORDS = ["鲅鱼", "私教", "榴莲"]
GOOD_LINES = [1, 6, 12]


def _mixed_file(path: Path) -> dict[int, str]:
    """The file's lines, and for each bad line a word its Chinese reason must contain."""
    bad: dict[int, tuple[bytes, str]] = {
        2: (json.dumps({"text": "年代久远的投诉内容写在这里", "created_at": "0001-01-01"}).encode(), "日期"),
        3: (b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}", "嵌套"),
        4: ('{"text": "商家卖的东西有问题'.encode() + b"\xff\xfe" + b'"}', "解码"),
        5: (json.dumps({"text": {"nested": "对象不是文本"}}).encode(), "文本"),
        7: (json.dumps({"text": "长" * 6000}).encode(), "太长"),
        8: (json.dumps({"text": "\u200b\u200b\u200b\u200b\u200b\u200b"}).encode(), "不可见"),
        9: (json.dumps({"text": "\u0001\u0002\u0003\u0004\u0005\u0006"}).encode(), "不可见"),
        10: (json.dumps({"text": "\ufeff\u202e\u202e\u202e\u202e\u202e"}).encode(), "不可见"),
        11: (
            json.dumps({"text": "二月三十日的投诉内容写在这里", "created_at": "2026-02-30"}).encode(),
            "日期",
        ),
        13: (b'{"text": "unterminated', "JSON"),
    }
    lines: dict[int, bytes] = {
        n: json.dumps(row, ensure_ascii=False).encode() for n, row in zip(GOOD_LINES, GOOD, strict=True)
    }
    lines.update({n: content for n, (content, _) in bad.items()})
    path.write_bytes(b"\n".join(lines[n] for n in sorted(lines)) + b"\n")
    return {n: word for n, (_, word) in bad.items()}


@pytest.fixture(params=["fts5", "elasticsearch"])
def search_env(request: pytest.FixtureRequest, cli_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI configured for either backend (Elasticsearch: a fresh clone of the osmem-server)."""
    from core.config import get_settings

    if request.param == "elasticsearch":
        monkeypatch.setenv("FAIRMARKET_SEARCH_URL", request.getfixturevalue("osmem_clone").url)
        get_settings.cache_clear()
    return str(request.param)


def _found(runner: CliRunner, word: str) -> list[str]:
    result = runner.invoke(app, ["search", word, "--json"])
    assert result.exit_code == 0, result.output
    return [hit["text"] for hit in json.loads(result.stdout)["hits"]]


def test_good_rows_land_searchable_bad_rows_named_rerun_adds_nothing(
    search_env: str, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.jsonl"
    reasons = _mixed_file(path)

    first = runner.invoke(app, ["import", "complaints", str(path), "--encoding", "utf-8"])
    assert first.exit_code == 0, first.output
    assert f"read 13 / imported 3 / skipped 0 / rejected {len(reasons)}" in first.output
    for line, word in reasons.items():
        named = re.search(rf"第 {line} 行 \(line {line}\)：(.*)", first.output)
        assert named and word in named.group(1), (line, word, first.output)
    for line in GOOD_LINES:
        assert f"第 {line} 行" not in first.output

    for row, word in zip(GOOD, GOOD_WORDS, strict=True):
        assert _found(runner, word) == [row["text"]], f"{word} not searchable right after the import"
    assert runner.invoke(app, ["reindex", "--check"]).exit_code == 0

    second = runner.invoke(app, ["import", "complaints", str(path)])
    assert second.exit_code == 0, second.output
    assert f"read 13 / imported 0 / skipped 3 / rejected {len(reasons)}" in second.output
    assert _found(runner, "鲅鱼") == [GOOD[0]["text"]]


def test_excel_export_with_mapped_headers(search_env: str, runner: CliRunner, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    sheet.append(["留言编号", "留言主题", "留言时间", "留言详情"])
    sheet.append(
        [1, "小区楼下烧烤店油烟扰民", "2026/1/6 12:09:38", "\n\t\t每天晚上烧烤店的油烟直冲楼上住户窗户。\n"]
    )
    sheet.append([2, "空行下面还有一条", None, None])
    sheet.append([3, "驾校乱收费", "2026/1/4 11:17:46", "驾校报名后又要求另交考试费八百元。"])
    path = tmp_path / "messages.xlsx"
    workbook.save(path)

    result = runner.invoke(
        app,
        [
            "import", "complaints", str(path),
            "--column", "title=留言主题", "--column", "created_at=留言时间", "--column", "text=留言详情",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "read 3 / imported 2 / skipped 0 / rejected 1" in result.output
    assert "第 3 行" in result.output, "the row is named by its Excel row number"
    assert _found(runner, "烧烤") == ["每天晚上烧烤店的油烟直冲楼上住户窗户。"]
    assert _found(runner, "驾校")


def test_a_message_board_export_imports_as_it_is(search_env: str, runner: CliRunner, tmp_path: Path) -> None:
    """留言主题, 留言时间, 留言详情 (the TipDM export's headers) are known columns: no --column needed."""
    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    sheet.append(["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "一级分类"])
    sheet.append(
        [24, "A00074011", "驾校乱收费", "2020/1/6 12:09:38", "驾校报名后又要求另交考试费八百元。", "教育文体"]
    )
    path = tmp_path / "附件2.xlsx"
    workbook.save(path)

    result = runner.invoke(app, ["import", "complaints", str(path)])

    assert result.exit_code == 0, result.output
    assert "read 1 / imported 1 / skipped 0 / rejected 0" in result.output
    assert _found(runner, "驾校") == ["驾校报名后又要求另交考试费八百元。"]


def test_a_malformed_column_option_is_refused(cli_env: str, runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("text\n超市鸡蛋标价每斤5元，结账按每斤8元收费。\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "complaints", str(path), "--column", "text"])
    assert result.exit_code == 2 and "--column" in result.output


def test_import_records_its_channel_and_a_first_event(
    cli_env: str, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "c.csv"
    path.write_text("text\n超市鸡蛋标价每斤5元，结账按每斤8元收费。\n", encoding="utf-8")
    assert runner.invoke(app, ["import", "complaints", str(path)]).exit_code == 0
    engine = create_engine(cli_env)
    with engine.connect() as conn:
        complaint = conn.execute(select(Complaint.channel, Complaint.nature, Complaint.association_id)).one()
    engine.dispose()
    assert complaint.channel == "import" and complaint.nature == "价格"


def test_excel_import_progress_counts_rows(cli_env: str, runner: CliRunner, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    sheet.append(["text"])
    for number in range(7):
        sheet.append([f"第{number}家超市的鸡蛋标价每斤5元，结账按每斤8元收费。"])
    path = tmp_path / "complaints.xlsx"
    workbook.save(path)
    assert xlsx_line_count(path) == 8, "the bar's total: the sheet's recorded lines, header included"

    result = runner.invoke(app, ["import", "complaints", str(path)])
    assert result.exit_code == 0, result.output
    assert re.search(r"7/7 行 \(rows\)", result.output), result.output
