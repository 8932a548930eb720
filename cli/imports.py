"""``fairmarket import complaints|prices FILE``: streamed, idempotent bulk import with a progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import rich.progress
import typer
from rich.console import Console

from importing import DEFAULT_SOURCE

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from importing.fields import ImportSummary
    from importing.readers import BadRow, Row

    Importer = Callable[[Session, Iterable[Row | BadRow]], ImportSummary]

app = typer.Typer(help="Bulk import of complaints and prices (CSV or JSONL).", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)
SHOWN_PROBLEMS = 50


def _run(path: Path, description: str, importer: Importer) -> ImportSummary:
    """Stream ``path`` through ``importer``; exit 1 only when the file cannot be read at all."""
    from core.catalogue import seed_catalogue
    from core.db import get_engine, session_factory, upgrade_database
    from importing.readers import ImportFileError, read_rows

    if not path.is_file():
        console.print(f"[red]无法读取文件：{path}（不存在或不是文件） (cannot read {path})[/red]")
        raise typer.Exit(code=1)
    engine = get_engine()
    upgrade_database(engine)
    with session_factory(engine)() as session:
        seed_catalogue(session)
        session.commit()
        try:
            with rich.progress.open(path, "rb", description=description, console=console) as stream:
                summary = importer(session, read_rows(stream, path))
        except ImportFileError as exc:
            session.rollback()
            console.print(f"[red]无法读取文件 {path}：{exc}[/red]")
            raise typer.Exit(code=1) from exc
    _report(summary)
    return summary


def _report(summary: ImportSummary) -> None:
    for problem in summary.problems[:SHOWN_PROBLEMS]:
        console.print(f"[yellow]第 {problem.line} 行 (line {problem.line})：{problem.reason}[/yellow]")
    if summary.rejected > SHOWN_PROBLEMS:
        console.print(f"[yellow]…… 另有 {summary.rejected - SHOWN_PROBLEMS} 行被拒绝[/yellow]")
    typer.echo(
        f"读取 {summary.read} 行 · 导入 {summary.imported} · 跳过（重复） {summary.skipped} · "
        f"拒绝 {summary.rejected}"
        + (f"（其中未收录商品 {summary.unmapped}）" if summary.unmapped else "")
        + f"  (read {summary.read} / imported {summary.imported} / skipped {summary.skipped}"
        f" / rejected {summary.rejected})"
    )


@app.command("complaints")
def complaints(
    file: Path = typer.Argument(
        ...,
        help="CSV or JSONL; column text required; title, merchant, district, "
        "created_at, nature, industry, amount, contact optional.",
    ),
) -> None:
    """Import complaints; re-running the same file adds nothing twice."""
    from importing.complaints import import_complaints

    _run(file, "导入投诉", lambda session, rows: import_complaints(session, rows))


@app.command("prices")
def prices(
    file: Path = typer.Argument(
        ...,
        help="CSV or JSONL; columns date, product, price, unit required; "
        "merchant, region, source, spec, low_price, high_price optional.",
    ),
    source: str = typer.Option(
        DEFAULT_SOURCE, "--source", help="Source name for rows without a source column."
    ),
    wholesale: bool = typer.Option(
        False, "--wholesale", help="Rows without price_type are wholesale prices."
    ),
) -> None:
    """Import prices; unknown goods are recorded for mapping, bad rows quarantined, duplicates skipped."""
    from importing.prices import import_prices

    price_type = "wholesale" if wholesale else "retail"
    _run(
        file,
        "导入价格",
        lambda session, rows: import_prices(session, rows, source=source, price_type=price_type),
    )
