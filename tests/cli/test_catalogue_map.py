"""``fairmarket catalogue map``: one JSON object per name, from arguments and from stdin."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app
from core.db import make_engine, session_scope
from core.provisional import GoodsResolver


def test_map_prints_one_json_object_per_name(cli_env: str, runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["catalogue", "map", "云南菠菜(份)", "红薯尖", "-", "--json"], input="金龙鱼花生油\n\n紫白菜\n"
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [row["name"] for row in rows] == ["云南菠菜(份)", "红薯尖", "金龙鱼花生油", "紫白菜"]
    spinach, leaves, oil, unknown = rows
    assert spinach == {
        "name": "云南菠菜(份)",
        "product": "菠菜",
        "product_code": "spinach",
        "category": "leafy_vegetables",
        "status": "catalogued",
        "rule": "strip-origin:云南",
        "suggestions": [],
    }
    assert (leaves["product_code"], leaves["rule"]) == ("sweet_potato_leaves", "alias"), (
        "a part is not its whole"
    )
    assert (oil["product_code"], oil["rule"]) == ("peanut_oil", "strip-brand:金龙鱼")
    assert unknown["status"] == "unknown" and unknown["product"] is None and unknown["rule"] == ""
    assert (
        unknown["suggestions"]
        and {"product_code", "product", "reason", "score"} <= unknown["suggestions"][0].keys()
    )
    assert len(unknown["suggestions"]) <= 5


def test_map_as_a_table(cli_env: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["catalogue", "map", "圣女果"])
    assert result.exit_code == 0, result.output
    assert "圣女果" in result.output and "已归类" in result.output


def test_map_without_names_is_an_error(cli_env: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["catalogue", "map", "-"], input="\n  \n")
    assert result.exit_code == 2


def test_map_knows_provisional_goods(cli_env: str, runner: CliRunner) -> None:
    assert runner.invoke(app, ["catalogue", "map", "菠菜"]).exit_code == 0  # schema and catalogue ready
    engine = make_engine(cli_env)
    with session_scope(engine) as session:
        GoodsResolver(session).resolve("南北瓜", unit="斤", category="蔬菜")
    engine.dispose()
    result = runner.invoke(app, ["catalogue", "map", "南北瓜", "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert (row["status"], row["product"], row["category"]) == ("provisional", "南北瓜", "vegetables")
    assert all(s["product_code"] != row["product_code"] for s in row["suggestions"]), "only catalogued goods"
