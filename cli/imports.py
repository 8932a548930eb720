"""``fairmarket import complaints|prices FILE``: streamed, idempotent bulk import with a progress bar."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import rich.progress
import typer
from rich.console import Console

from importing import DEFAULT_SOURCE

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from importing.fields import ImportSummary
    from importing.readers import BadRow, ReadOptions, Row

    Importer = Callable[[Session, Iterable[Row | BadRow]], ImportSummary]

app = typer.Typer(
    help="Bulk import of complaints and prices (CSV, JSONL, JSON or xlsx).", no_args_is_help=True
)
console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")
SHOWN_PROBLEMS = 50


def _run(
    path: Path, description: str, importer: Importer, options: ReadOptions | None = None
) -> ImportSummary:
    """Stream ``path`` through ``importer``; exit 1 only when the file cannot be read at all."""
    from core.db import get_engine, prepare_database, session_factory
    from importing.readers import ImportFileError, is_xlsx, read_rows, xlsx_line_count

    if not path.is_file():
        console.print(f"[red]无法读取文件：{path}（不存在或不是文件） (cannot read {path})[/red]")
        raise typer.Exit(code=1)
    engine = get_engine()
    prepare_database(engine)
    with session_factory(engine)() as session:
        try:
            if is_xlsx(path):  # a workbook is unzipped as it is read: bytes say nothing of the rows
                with _row_progress(description, xlsx_line_count(path)) as counted, path.open("rb") as stream:
                    summary = importer(session, counted(read_rows(stream, path, options)))
            else:
                with rich.progress.open(path, "rb", description=description, console=console) as stream:
                    summary = importer(session, read_rows(stream, path, options))
        except ImportFileError as exc:
            session.rollback()
            console.print(f"[red]无法读取文件 {path}：{exc}[/red]")
            raise typer.Exit(code=1) from exc
    _report(summary)
    return summary


@contextmanager
def _row_progress(description: str, lines: int | None) -> Iterator[Callable[[Iterable[T]], Iterator[T]]]:
    """A progress bar that counts rows as they are read, against the sheet's ``lines`` (less its header)."""
    columns = (
        *rich.progress.Progress.get_default_columns()[:-1],
        rich.progress.MofNCompleteColumn(),
        rich.progress.TextColumn("行 (rows)"),
        rich.progress.TimeRemainingColumn(),
    )
    with rich.progress.Progress(*columns, console=console) as progress:
        task = progress.add_task(description, total=max(lines - 1, 1) if lines else None)

        def counted(rows: Iterable[T]) -> Iterator[T]:
            read = 0
            for row in rows:
                read += 1
                progress.advance(task)
                yield row
            progress.update(task, total=read, completed=read)  # a sheet may record more than it holds

        yield counted


def _report(summary: ImportSummary) -> None:
    for problem in summary.problems[:SHOWN_PROBLEMS]:
        console.print(f"[yellow]第 {problem.line} 行 (line {problem.line})：{problem.reason}[/yellow]")
    if summary.rejected > SHOWN_PROBLEMS:
        console.print(f"[yellow]…… 另有 {summary.rejected - SHOWN_PROBLEMS} 行被拒绝[/yellow]")
    typer.echo(
        f"读取 {summary.read} 行 · 导入 {summary.imported} · 跳过（重复） {summary.skipped} · "
        f"拒绝 {summary.rejected}"
        + (f" · 其中待归类商品 {summary.provisional} 行" if summary.provisional else "")
        + f"  (read {summary.read} / imported {summary.imported} / skipped {summary.skipped}"
        f" / rejected {summary.rejected})"
    )
    if summary.unindexed:
        console.print(
            f"[yellow]{summary.unindexed} 条已保存但未写入检索索引（索引不可用），"
            "请运行 fairmarket reindex --check --repair[/yellow]"
        )


COLUMN_HELP = "field=header: read a field from a differently named column (repeatable), e.g. text=留言详情."
ENCODING_HELP = (
    "Text encoding (e.g. utf-8, gb18030); default: detected. Rows with invalid bytes are rejected."
)
PARALLEL_FROM_BYTES = 1 << 20  # smaller files: forking workers costs more than it saves


@app.command("complaints")
def complaints(
    file: Path = typer.Argument(
        ...,
        help="CSV, JSONL or XLSX (first sheet); column text required; title, merchant, district, "
        "created_at, nature, industry, amount, contact optional.",
    ),
    column: list[str] = typer.Option([], "--column", help=COLUMN_HELP),
    encoding: str | None = typer.Option(None, "--encoding", help=ENCODING_HELP),
) -> None:
    """Import complaints: classified, routed, stored and searchable; re-running adds nothing twice."""
    from core.config import get_settings
    from core.parallel import default_workers
    from importing.complaints import FIELDS, KNOWN_COLUMNS, import_complaints
    from importing.readers import ImportFileError, ReadOptions, parse_column_mapping

    try:
        mapping = parse_column_mapping(column, FIELDS)
        if encoding:
            codecs.lookup(encoding)
    except (ImportFileError, LookupError) as exc:
        console.print(f"[red]参数错误 (bad option)：{exc}[/red]")
        raise typer.Exit(code=2) from exc
    workers = get_settings().index_workers or default_workers()
    if file.is_file() and file.stat().st_size < PARALLEL_FROM_BYTES:
        workers = 1
    _run(
        file,
        "导入投诉",
        lambda session, rows: import_complaints(session, rows, workers=workers),
        options=ReadOptions(columns=mapping, known_columns=KNOWN_COLUMNS, encoding=encoding),
    )


@app.command("prices")
def prices(
    file: Path = typer.Argument(
        ...,
        help="CSV, JSONL, JSON array or xlsx (first sheet); columns date, product, price, unit required; "
        "merchant, region, source, category, origin, spec, package, record_id, low_price, high_price "
        "optional (Chinese headers and Xinfadi's keys work too; Xinfadi rows also without a header).",
    ),
    source: str = typer.Option(
        DEFAULT_SOURCE, "--source", help="Source name for rows without a source column (e.g. xinfadi)."
    ),
    wholesale: bool = typer.Option(
        False, "--wholesale", help="Rows without price_type are wholesale prices."
    ),
    column: list[str] = typer.Option(
        [], "--column", help="Map a field to the file's header, e.g. --column date=销售日期 (repeatable)."
    ),
) -> None:
    """Import prices; unknown names become provisional goods (待归类), bad rows are quarantined."""
    from importing.prices import COLUMNS, import_prices, read_options
    from importing.readers import ImportFileError, parse_column_mapping

    try:
        columns = parse_column_mapping(column, COLUMNS)
    except ImportFileError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=2) from exc
    price_type = "wholesale" if wholesale or source == "xinfadi" else "retail"
    summary = _run(
        file,
        "导入价格",
        lambda session, rows: import_prices(session, rows, source=source, price_type=price_type),
        read_options(source, columns),
    )
    if summary.imported:
        _publish_indices()


def _publish_indices() -> None:
    """Extend the published price indices by the imported days, so that index reads stay slices."""
    from core.config import get_settings
    from core.db import get_engine, session_factory
    from jobs.index_series import publish_all

    with session_factory(get_engine())() as session, console.status("更新价格指数 publishing price indices…"):
        published = publish_all(session, get_settings().data_dir)
    typer.echo(
        f"价格指数已更新 {published.refreshed}/{published.series} 个序列，{published.days} 天"
        f"  (price indices: {published.refreshed} of {published.series} series, {published.days} days)"
    )
