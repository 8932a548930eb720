"""``fairmarket catalogue review|merge|unmerge`` on a database that imported an unknown name."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app

PRICES = """date,product,price,unit,category
2026-03-01,本地小白菜心,1.5,斤,蔬菜
2026-03-02,本地小白菜心,1.6,斤,蔬菜
2026-03-02,散装神秘菜,9,斤,
"""


def test_review_merge_and_undo(cli_env: str, runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(PRICES, encoding="utf-8")
    assert runner.invoke(app, ["import", "prices", str(path)]).exit_code == 0

    review = runner.invoke(app, ["catalogue", "review", "--json"])
    assert review.exit_code == 0, review.output
    rows = [json.loads(line) for line in review.output.splitlines()]
    assert [(row["name"], row["observations"], row["category"]) for row in rows] == [
        ("本地小白菜心", 2, "蔬菜"),
        ("散装神秘菜", 1, "待归类"),
    ]
    assert rows[0]["first_day"] == "2026-03-01"
    table = runner.invoke(app, ["catalogue", "review"])
    assert "待归类商品" in table.output and "本地小白菜心" in table.output

    merged = runner.invoke(app, ["catalogue", "merge", "本地小白菜心", "大白菜", "--by", "staff1"])
    assert merged.exit_code == 0, merged.output
    assert "2 条价格" in merged.output and "大白菜" in merged.output
    after = [
        json.loads(line)["name"]
        for line in runner.invoke(app, ["catalogue", "review", "--json"]).output.splitlines()
    ]
    assert after == ["散装神秘菜"]
    # The name now lands on the good: a re-import adds nothing and files nothing as provisional.
    again = runner.invoke(app, ["import", "prices", str(path)])
    assert "imported 0 / skipped 3" in again.output

    undone = runner.invoke(app, ["catalogue", "merge", "本地小白菜心", "--undo"])
    assert undone.exit_code == 0, undone.output
    assert "已撤销合并" in undone.output
    restored = runner.invoke(app, ["catalogue", "review", "--json"]).output.splitlines()
    assert [json.loads(line)["observations"] for line in restored] == [2, 1]

    wrong = runner.invoke(app, ["catalogue", "merge", "散装神秘菜", "火星土豆"])
    assert wrong.exit_code == 1 and "未知商品" in wrong.output
    nothing = runner.invoke(app, ["catalogue", "unmerge", "散装神秘菜"])
    assert nothing.exit_code == 1 and "没有可撤销的合并" in nothing.output
