"""``fairmarket search`` and ``fairmarket reindex``: the complaint index from the command line.

The command line runs on the server with the database's credentials, so it shows complaints as the
consumer association sees them (``--masked`` shows them as a trade association would).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from search.backends.base import SearchBackend
    from search.query import SearchQuery
    from search.service import DisplayHit

PAGE_SIZE = 1000
console = Console()


def _open() -> tuple[Session, SearchBackend]:
    from core.config import get_settings
    from core.db import get_engine, session_factory, upgrade_database
    from search.service import get_search_backend

    engine = get_engine()
    upgrade_database(engine)
    return session_factory(engine)(), get_search_backend(get_settings(), engine)


def _hit_json(hit: DisplayHit) -> dict[str, Any]:
    document = hit.document
    return {
        "id": document.id,
        "tracking_code": document.tracking_code,
        "created_at": document.created_at.isoformat(),
        "title": hit.title,
        "text": hit.text,
        "highlights": [{"field": h.field, "start": h.start, "end": h.end} for h in hit.highlights],
        "nature": document.nature,
        "industry": document.industry,
        "district": document.district,
        "merchant": document.merchant,
        "status": document.status,
        "amount": None if document.amount_cents is None else str(Decimal(document.amount_cents) / 100),
        "score": hit.score,
    }


def _marked(hit: DisplayHit) -> str:
    """The text with its highlights in bold, for the terminal."""
    text, marked, position = hit.text, [], 0
    for highlight in (h for h in hit.highlights if h.field == "text"):
        marked.append(escape(text[position : highlight.start]))
        marked.append(f"[bold red]{escape(text[highlight.start : highlight.end])}[/]")
        position = highlight.end
    marked.append(escape(text[position:]))
    return "".join(marked)


def _pages(
    session: Session, backend: SearchBackend, query: SearchQuery, size: int, masked: bool
) -> Iterator[Any]:
    """First the first page's result (for its total), then up to ``size`` hits, a page at a time by cursor."""
    from search.service import search_complaints

    page_query = query.model_copy(update={"size": min(size, PAGE_SIZE)})
    outcome = search_complaints(session, backend, page_query, unmasked=not masked)
    yield outcome.result
    sent = 0
    while True:
        for hit in outcome.hits[: size - sent]:
            yield hit
            sent += 1
        cursor = outcome.result.next_cursor
        if sent >= size or cursor is None:
            return
        page_query = page_query.model_copy(update={"cursor": cursor, "facets": False})
        outcome = search_complaints(session, backend, page_query, unmasked=not masked)


def search(
    query: str = typer.Argument("", help="检索词（任意文字）"),
    nature: list[str] = typer.Option([], help="投诉性质，可重复"),
    industry: list[str] = typer.Option([], help="行业，可重复"),
    district: list[str] = typer.Option([], help="区县，可重复"),
    merchant: list[str] = typer.Option([], help="被投诉商家，可重复"),
    status: list[str] = typer.Option([], help="状态，可重复"),
    not_nature: list[str] = typer.Option([], help="排除的投诉性质"),
    not_industry: list[str] = typer.Option([], help="排除的行业"),
    not_district: list[str] = typer.Option([], help="排除的区县"),
    not_merchant: list[str] = typer.Option([], help="排除的商家"),
    not_status: list[str] = typer.Option([], help="排除的状态"),
    created_from: dt.datetime | None = typer.Option(None, "--from", formats=["%Y-%m-%d"], help="首日，含"),
    created_to: dt.datetime | None = typer.Option(None, "--to", formats=["%Y-%m-%d"], help="末日，含"),
    amount_min: float | None = typer.Option(None, min=0),
    amount_max: float | None = typer.Option(None, min=0),
    sort: str = typer.Option("relevance", help="relevance 或 date"),
    size: int = typer.Option(20, min=0, max=1_000_000, help="最多输出多少条（按游标分页取）"),
    masked: bool = typer.Option(False, "--masked", help="像行业协会那样遮蔽个人信息"),
    as_json: bool = typer.Option(
        False, "--json", help='输出一个 JSON 对象 {"total", "total_relation": "eq"|"gte", "hits"}'
    ),
) -> None:
    """Search complaints like GET /api/complaints/search; prints the hits or one JSON object."""
    from core.clock import china_day_end, china_day_start
    from search.query import InvalidCursor, SearchQuery
    from search.service import SearchUnavailable

    if sort not in ("relevance", "date"):
        raise typer.BadParameter("relevance 或 date", param_hint="--sort")
    search_query = SearchQuery(
        q=query,
        nature=tuple(nature),
        industry=tuple(industry),
        district=tuple(district),
        merchant=tuple(merchant),
        status=tuple(status),
        not_nature=tuple(not_nature),
        not_industry=tuple(not_industry),
        not_district=tuple(not_district),
        not_merchant=tuple(not_merchant),
        not_status=tuple(not_status),
        created_from=china_day_start(created_from.date()) if created_from else None,
        created_to=china_day_end(created_to.date()) if created_to else None,
        amount_min=None if amount_min is None else Decimal(str(amount_min)),
        amount_max=None if amount_max is None else Decimal(str(amount_max)),
        sort="date" if sort == "date" else "relevance",
        facets=False,
        exhaustive=True,
    )
    session, backend = _open()
    try:
        results = _pages(session, backend, search_query, size, masked)
        first = next(results)
        total, relation = first.total, first.total_relation
        if as_json:
            typer.echo(f'{{"total": {total}, "total_relation": "{relation}", "hits": [', nl=False)
            for number, hit in enumerate(results):
                typer.echo(("," if number else "") + json.dumps(_hit_json(hit), ensure_ascii=False), nl=False)
            typer.echo("]}")
            return
        console.print(f"共 {total} 条 (total)" if relation == "eq" else f"至少 {total} 条 (total >= {total})")
        for hit in results:
            document = hit.document
            console.print(
                f"[bold]{document.id}[/] {document.tracking_code} {document.created_at:%Y-%m-%d} "
                f"{escape(document.nature or '-')} {escape(document.status)}  {_marked(hit)}",
                soft_wrap=True,
            )
    except (InvalidCursor, SearchUnavailable) as error:
        typer.echo(f"检索失败: {error}", err=True)
        raise typer.Exit(code=1) from error
    finally:
        session.close()
        backend.close()


def reindex(
    check: bool = typer.Option(False, "--check", help="只比对数据库与索引，报告差异"),
    fix: bool = typer.Option(False, "--repair", help="与 --check 同用：补建、更新、删除有差异的条目"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出检查报告"),
) -> None:
    """Rebuild the complaint index from the database; ``--check [--repair]`` finds and fixes drift.

    Exit code 1 when ``--check`` finds differences and ``--repair`` was not given.
    """
    from core.config import get_settings
    from search.masking import record_masking_version
    from search.service import check_consistency, reindex_all, repair

    session, backend = _open()
    try:
        if not check:
            written = reindex_all(
                session,
                backend,
                lambda done: typer.echo(f"\r已索引 {done} 条", nl=False, err=True),
                workers=get_settings().index_workers or None,
            )
            record_masking_version(session, backend.name)
            typer.echo(f"\n重建完成：{written} 条投诉已索引 ({backend.name})")
            return
        report = check_consistency(session, backend)
        summary = {
            "backend": backend.name,
            "database": report.checked,
            "index": report.indexed,
            "missing": len(report.missing),
            "stale": len(report.stale),
            "orphaned": len(report.orphaned),
            "consistent": report.consistent,
            "examples": (report.missing + report.stale + report.orphaned)[:20],
        }
        if fix:
            # a repair run always reports its outcome, also when there was nothing to mend
            summary["repaired"] = 0 if report.consistent else repair(session, backend, report)
            summary["consistent_after_repair"] = (
                True if report.consistent else check_consistency(session, backend).consistent
            )
            if summary["consistent_after_repair"]:
                record_masking_version(session, backend.name)
        if as_json:
            typer.echo(json.dumps(summary, ensure_ascii=False))
        else:
            typer.echo(
                f"数据库 {report.checked} 条，索引 {report.indexed} 条；缺失 {summary['missing']}，"
                f"过期 {summary['stale']}，多余 {summary['orphaned']}"
                + (f"；已修复 {summary['repaired']} 条" if "repaired" in summary else "")
            )
        if not report.consistent and not fix:
            raise typer.Exit(code=1)
    finally:
        session.close()
        backend.close()
