"""``fairmarket catalogue review|merge|unmerge``: staff settle provisional goods (待归类) from the shell."""

from __future__ import annotations

import getpass
import json
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from core.provisional import ProvisionalGood

app = typer.Typer(
    help="The catalogue of goods: review and merge provisional goods (待归类).", no_args_is_help=True
)
console = Console(soft_wrap=True)


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
