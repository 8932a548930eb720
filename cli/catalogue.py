"""``fairmarket catalogue map|review|merge|unmerge``: how source names map onto goods, and staff settling
provisional goods (待归类) from the shell."""

from __future__ import annotations

import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from core.catalogue import ProductMatcher
    from core.provisional import ProvisionalGood

app = typer.Typer(
    help="The catalogue of goods: review and merge provisional goods (待归类).", no_args_is_help=True
)
console = Console(soft_wrap=True)
SUGGESTIONS = 5


def _review_row(item: ProvisionalGood) -> dict[str, Any]:
    return {
        "code": item.product.code,
        "name": item.product.name,
        "category": item.product.category.name,
        "standard_unit": item.product.standard_unit,
        "observations": item.observations,
        "first_day": item.first_day.isoformat() if item.first_day else None,
        "last_day": item.last_day.isoformat() if item.last_day else None,
        "aliases": item.aliases,
        "suggestions": [
            {"code": s.product.code, "name": s.product.name, "reason": s.reason, "score": s.score}
            for s in item.suggestions
        ],
    }


@app.command("review")
def review(
    limit: int = typer.Option(50, min=1, max=10_000, help="At most this many goods, most prices first."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per provisional good."),
) -> None:
    """List provisional goods by how many prices they hold, each with suggested catalogue goods."""
    from core.db import get_engine, prepare_database, session_factory
    from core.provisional import review_provisional

    engine = get_engine()
    prepare_database(engine)
    with session_factory(engine)() as session:
        rows = [_review_row(item) for item in review_provisional(session, limit=limit)]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table("待归类商品", "类别", "单位", "价格条数", "日期", "建议归入")
    for row in rows:
        days = f"{row['first_day']} … {row['last_day']}" if row["first_day"] else "-"
        hints = "、".join(f"{s['name']}（{s['code']}）" for s in row["suggestions"]) or "-"
        table.add_row(
            row["name"], row["category"], row["standard_unit"], str(row["observations"]), days, hints
        )
    console.print(table)
    console.print(f"共 {len(rows)} 个待归类商品；合并：fairmarket catalogue merge 待归类商品 目标商品")


def _actor(by: str | None) -> str:
    return by or f"cli:{getpass.getuser()}"


@app.command("merge")
def merge(
    provisional: str = typer.Argument(..., help="The provisional good: name, code or id."),
    good: str = typer.Argument(None, help="The catalogued good it is: name, code or id."),
    undo: bool = typer.Option(False, "--undo", help="Undo the last merge of PROVISIONAL instead."),
    by: str = typer.Option(None, "--by", help="Who merges, for the audit log (default: cli:<user>)."),
) -> None:
    """Move a provisional good's prices and names into a catalogued good (audited; undo with --undo)."""
    if undo:
        unmerge(provisional, by)
        return
    if good is None:
        raise typer.BadParameter("缺少目标商品 GOOD（撤销合并请用 --undo）")
    from core.db import get_engine, prepare_database, session_scope
    from core.provisional import MergeError, find_good, merge_provisional

    engine = get_engine()
    prepare_database(engine)
    try:
        with session_scope(engine) as session:
            source, target = find_good(session, provisional), find_good(session, good)
            done = merge_provisional(session, source, target, actor=_actor(by))
            message = (
                f"已将 {source.name} 的 {done.observations} 条价格（{len(done.days)} 天）并入"
                f" {target.name}（{target.code}）；名称 {'、'.join(done.aliases)} 今后归入 {target.name}。"
                f"撤销：fairmarket catalogue unmerge {source.code}"
            )
    except MergeError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(message)


@app.command("unmerge")
def unmerge(
    provisional: str = typer.Argument(..., help="The merged provisional good: name, code or id."),
    by: str = typer.Option(None, "--by", help="Who undoes it, for the audit log (default: cli:<user>)."),
) -> None:
    """Undo the last merge of a provisional good: its prices and names go back to it (audited)."""
    from core.db import get_engine, prepare_database, session_scope
    from core.provisional import MergeError, find_good, undo_merge

    engine = get_engine()
    prepare_database(engine)
    try:
        with session_scope(engine) as session:
            source = find_good(session, provisional)
            done = undo_merge(session, source, actor=_actor(by))
            message = f"已撤销合并：{source.name} 的 {done.observations} 条价格已恢复为待归类商品。"
    except MergeError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(message)


def mapping_of(matcher: ProductMatcher, name: str) -> dict[str, Any]:
    """One name's mapping as ``catalogue map --json`` prints it.

    ``status`` is "catalogued" (a catalogue good claims the name), "provisional" (a 待归类 good of that
    name already holds prices) or "unknown"; ``suggestions`` (catalogued goods only) are offered to a person
    for any name not catalogued, never applied.
    """
    result = matcher.resolve(name)
    product = result.product
    status = "unknown"
    if product is not None:
        status = "provisional" if product.status == "provisional" else "catalogued"
    suggestions = []
    if status != "catalogued":
        suggestions = [
            {
                "product_code": suggestion.product.code,
                "product": suggestion.product.name,
                "reason": suggestion.reason,
                "score": suggestion.score,
            }
            for suggestion in matcher.suggest(name, limit=SUGGESTIONS * 2)
            if suggestion.product.status == "catalogued"
        ][:SUGGESTIONS]
    return {
        "name": name,
        "product": product.name if product is not None else None,
        "product_code": product.code if product is not None else None,
        "category": product.category.code if product is not None and product.category is not None else None,
        "status": status,
        "rule": result.rule,
        "suggestions": suggestions,
    }


def _names(arguments: list[str]) -> list[str]:
    """The names given, with ``-`` standing for one name per line on stdin (blank lines skipped)."""
    names: list[str] = []
    for argument in arguments:
        if argument == "-":
            names.extend(line.strip() for line in sys.stdin if line.strip())
        elif argument.strip():
            names.append(argument.strip())
    return names


@app.command("map")
def map_names(
    names: list[str] = typer.Argument(..., help="商品名称，可多个；“-” 表示从标准输入每行读一个"),
    as_json: bool = typer.Option(False, "--json", help="每个名称输出一行 JSON"),
) -> None:
    """Show which good each source name maps to, by which rule, and suggestions for the rest."""
    from core.catalogue import ProductMatcher
    from core.db import get_engine, prepare_database, session_factory

    wanted = _names(names)
    if not wanted:
        console.print("[red]没有要查询的名称 (no names given)[/red]")
        raise typer.Exit(code=2)
    engine = get_engine()
    prepare_database(engine)
    with session_factory(engine)() as session:
        matcher = ProductMatcher.from_session(session)
        mappings = [mapping_of(matcher, name) for name in wanted]
    if as_json:
        for mapping in mappings:
            typer.echo(json.dumps(mapping, ensure_ascii=False))
        return
    table = Table("名称", "商品", "类别", "状态", "规则", "建议")
    status_names = {"catalogued": "已归类", "provisional": "待归类", "unknown": "未知"}
    for mapping in mappings:
        table.add_row(
            mapping["name"],
            f"{mapping['product']}（{mapping['product_code']}）" if mapping["product"] else "—",
            mapping["category"] or "—",
            status_names[mapping["status"]],
            mapping["rule"] or "—",
            "；".join(f"{s['product']}：{s['reason']}" for s in mapping["suggestions"]) or "—",
        )
    console.print(table)
