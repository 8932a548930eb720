"""``fairmarket import``: summary, bad rows named, idempotent re-runs, exit 1 only for unreadable files."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app

PRICES = """date,product,price,unit,merchant,spec
2026-03-01,鸡蛋,5.8,斤,好又多超市,
2026-03-01,医用外科口罩,60,盒,好又多超市,50片/盒
2026-03-01,鸡蛋,-1,斤,家乐福,
2026-03-01,火星土豆,3,斤,家乐福,
"""


def test_import_prices_twice(cli_env: str, runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(PRICES, encoding="utf-8")
    first = runner.invoke(app, ["import", "prices", str(path)])
    assert first.exit_code == 0, first.output
    assert "read 4 / imported 3 / skipped 0 / rejected 1" in first.output
    assert "第 4 行" in first.output and "待归类商品 1 行" in first.output
    second = runner.invoke(app, ["import", "prices", str(path)])
    assert "read 4 / imported 0 / skipped 3 / rejected 1" in second.output


XINFADI_DUMP = """\
1294528,大白菜,1186,蔬菜,,,0.4,0.6,0.5,冀,,斤,2022-06-18 00:00:00,,138,,admin,,,
1294527,娃娃菜,1186,蔬菜,,,0.7,0.8,0.75,豫冀,大,斤,2022-06-18 00:00:00,,138,,admin,,,
1294527,娃娃菜,1186,蔬菜,,,0.7,0.8,0.75,豫冀,大,斤,2022-06-18 00:00:00,,138,,admin,,,
"""


def test_import_a_headerless_xinfadi_dump(cli_env: str, runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "新发地菜价.csv"
    path.write_text(XINFADI_DUMP, encoding="utf-8")
    result = runner.invoke(app, ["import", "prices", "--source", "xinfadi", str(path)])
    assert result.exit_code == 0, result.output
    assert "read 3 / imported 2 / skipped 1 / rejected 0" in result.output


def test_a_headerless_xinfadi_dump_without_its_source_is_refused_with_the_fix(
    cli_env: str, runner: CliRunner, tmp_path: Path
) -> None:
    """Read with its first row as a header, every row would be refused for a missing date: the file is
    refused once instead, naming the option that reads it, and nothing is stored."""
    path = tmp_path / "新发地菜价.csv"
    path.write_text(XINFADI_DUMP, encoding="utf-8")
    refused = runner.invoke(app, ["import", "prices", str(path)])
    assert refused.exit_code == 1, refused.output
    assert "第一行没有可识别的列名" in refused.output and "--source xinfadi" in refused.output
    read = runner.invoke(app, ["import", "prices", "--source", "xinfadi", str(path)])
    assert "read 3 / imported 2 / skipped 1 / rejected 0" in read.output, "the refusal stored nothing"


def test_a_header_of_unknown_columns_is_refused_with_the_fix(
    cli_env: str, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("销售日期,单品名称,售价\n2023-06-30,大白菜,2.4\n", encoding="utf-8")
    refused = runner.invoke(app, ["import", "prices", str(path)])
    assert refused.exit_code == 1, refused.output
    assert "销售日期" in refused.output and "--column" in refused.output
    messages = tmp_path / "messages.csv"
    messages.write_text("编号,内容描述\n1,超市鸡蛋标价每斤5元结账收8元\n", encoding="utf-8")
    refused = runner.invoke(app, ["import", "complaints", str(messages)])
    assert refused.exit_code == 1 and "--column" in refused.output, refused.output


def test_import_with_column_mappings(cli_env: str, runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("销售日期,单品名称,售价,单位\n2023-06-30,大白菜,2.4,元/千克\n", encoding="utf-8")
    columns = ["--column", "date=销售日期", "--column", "product=单品名称", "--column", "price=售价"]
    result = runner.invoke(app, ["import", "prices", *columns, str(path)])
    assert result.exit_code == 0, result.output
    assert "read 1 / imported 1" in result.output
    wrong = runner.invoke(app, ["import", "prices", "--column", "colour=颜色", str(path)])
    assert wrong.exit_code == 2 and "未知字段" in wrong.output


def test_import_complaints_twice(cli_env: str, runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "complaints.jsonl"
    path.write_text(
        '{"text": "超市鸡蛋标价每斤5元，结账按每斤8元收费。", "district": "道里区"}\n{"text": ""}\n',
        encoding="utf-8",
    )
    first = runner.invoke(app, ["import", "complaints", str(path)])
    assert first.exit_code == 0, first.output
    assert "read 2 / imported 1 / skipped 0 / rejected 1" in first.output
    second = runner.invoke(app, ["import", "complaints", str(path)])
    assert "read 2 / imported 0 / skipped 1 / rejected 1" in second.output


def test_unreadable_file_exits_non_zero(cli_env: str, runner: CliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["import", "complaints", str(tmp_path / "missing.csv")])
    assert missing.exit_code == 1 and "无法读取文件" in missing.output
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    result = runner.invoke(app, ["import", "prices", str(binary)])
    assert result.exit_code == 1 and "不是文本文件" in result.output
