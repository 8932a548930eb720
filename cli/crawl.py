"""``fairmarket crawl`` runs price spiders; ``fairmarket sites list|check`` checks the site registry."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin
from urllib.robotparser import RobotFileParser

import typer
from rich.console import Console
from rich.table import Column, Table

if TYPE_CHECKING:
    import httpx

    from core.models import CrawlRun
    from crawlers.sites import Site

sites_app = typer.Typer(help="零售网站登记表（crawlers/sites.yaml）：列出与检查。", no_args_is_help=True)
console = Console()


def _run_row(run: CrawlRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "source": run.source,
        "spider": run.spider,
        "status": run.status,
        "pages": run.pages,
        "stored": run.items_stored,
        "quarantined": run.items_quarantined,
        "unmapped": run.items_unmapped,
        "duplicate": run.items_duplicate,
        "errors": run.errors,
        "duration_seconds": run.duration_seconds,
        "error_samples": run.error_samples[:3],
    }


def crawl(
    source: list[str] = typer.Option(None, "--source", help="数据源名称，可重复；不填则抓取全部"),
    list_sources: bool = typer.Option(False, "--list", help="只列出可用的数据源"),
    start_date: str = typer.Option(None, help="起始日期 YYYY-MM-DD（新发地）"),
    end_date: str = typer.Option(None, help="结束日期 YYYY-MM-DD（新发地）"),
    base_url: str = typer.Option(None, help="改用镜像或本地测试站点的地址"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出结果"),
) -> None:
    """Crawl price sources into the database, one process per source; exit 1 when a crawl failed."""
    from sqlalchemy import select

    from core.config import get_settings
    from core.db import make_engine, prepare_database, session_factory
    from core.models import CrawlRun
    from crawlers.runner import UnknownSourceError, run_crawl
    from crawlers.sources import SourceConfigError, available_sources
    from jobs.index_series import publish_all

    try:
        sources = available_sources()
    except SourceConfigError as exc:
        typer.echo(f"数据源配置有误：{exc}", err=True)
        raise typer.Exit(code=2) from exc
    if list_sources:
        table = Table(Column("数据源", no_wrap=True), "爬虫", "说明")
        for item in sources.values():
            table.add_row(item.name, item.spider, item.description)
        console.print(table)
        return
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    prepare_database(engine)
    options = {"start_date": start_date, "end_date": end_date, "base_url": base_url}
    try:
        run_ids = run_crawl(source or None, settings, arguments={k: v for k, v in options.items() if v})
    except UnknownSourceError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    with session_factory(engine)() as session:
        runs = list(session.scalars(select(CrawlRun).where(CrawlRun.id.in_(run_ids)).order_by(CrawlRun.id)))
        if any(run.items_stored for run in runs):
            publish_all(session, settings.data_dir)  # index reads stay slices of stored series
    engine.dispose()
    rows = [_run_row(run) for run in runs]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        table = Table("编号", "数据源", "状态", "页数", "入库", "隔离", "待归类", "重复", "错误", "耗时(秒)")
        for row in rows:
            duration = f"{row['duration_seconds']:.1f}" if row["duration_seconds"] is not None else "-"
            table.add_row(
                *(str(row[key]) for key in ("id", "source", "status", "pages", "stored", "quarantined")),
                *(str(row[key]) for key in ("unmapped", "duplicate", "errors")),
                duration,
            )
        console.print(table)
        for row in rows:
            for sample in row["error_samples"]:
                console.print(f"[yellow]{row['source']}[/]: {str(sample)[:300]}")
    if any(row["status"] == "failed" for row in rows):
        raise typer.Exit(code=1)


def _load_sites() -> dict[str, Site]:
    from crawlers.sites import load_sites
    from crawlers.sources import SourceConfigError

    try:
        return load_sites()
    except SourceConfigError as exc:
        typer.echo(f"网站登记表有误：{exc}", err=True)
        raise typer.Exit(code=2) from exc


@sites_app.command("list")
def sites_list() -> None:
    """List the registered retail sites."""
    table = Table("说明", "域名", "商品页", "测试网址", "间隔(秒)", "并发")
    table.columns.insert(0, Column("名称", no_wrap=True))
    for site in _load_sites().values():
        table.add_row(
            site.name,
            site.title,
            ", ".join(site.domains),
            str(len(site.product_urls)),
            site.test_url or "-",
            f"{site.download_delay:g}",
            str(site.concurrency),
        )
    console.print(table)


def _allowed_by_robots(client: httpx.Client, url: str, user_agent: str) -> bool:
    import httpx

    robots = RobotFileParser()
    try:
        response = client.get(urljoin(url, "/robots.txt"))
    except httpx.HTTPError:
        return True
    if response.status_code >= 400:
        return True
    robots.parse(response.text.splitlines())
    return robots.can_fetch(user_agent, url)


def check_site(client: httpx.Client, site: Site, base_url: str | None, user_agent: str) -> tuple[bool, str]:
    """Fetch the site's test page and run its extraction: (works, what was found or why not)."""
    import httpx

    from crawlers.extraction import extract
    from crawlers.sites import rebase

    if not site.test_url:
        return True, "没有测试网址，跳过"
    url = rebase(site.test_url, base_url)
    if not _allowed_by_robots(client, url, user_agent):
        return False, f"robots.txt 不允许抓取 {url}"
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        return False, f"无法访问 {url}：{exc}"
    if response.status_code >= 400:
        return False, f"{url} 返回 HTTP {response.status_code}"
    found = extract(response.text, site.rules, site.name)
    missing = [name for name in ("name", "price") if name not in found.values]
    summary = ", ".join(f"{key}={value}（{found.methods[key]}）" for key, value in found.values.items())
    if missing:
        return False, f"缺少 {'、'.join(missing)}；找到：{summary or '无'}"
    return True, summary


@sites_app.command("check")
def sites_check(
    names: list[str] = typer.Argument(None, help="要检查的网站名称；不填则检查全部"),
    base_url: str = typer.Option(None, help="改用镜像或本地测试站点的地址"),
) -> None:
    """Validate the registry and try each site's test page; exit 1 when a site's rules no longer work."""
    import httpx

    from core.config import get_settings

    sites = _load_sites()
    unknown = [name for name in names or [] if name not in sites]
    if unknown:
        typer.echo(f"未知的网站：{', '.join(unknown)}；可选：{', '.join(sites)}", err=True)
        raise typer.Exit(code=2)
    user_agent = get_settings().user_agent
    failed = False
    headers = {"User-Agent": user_agent}
    with httpx.Client(headers=headers, timeout=20, follow_redirects=True) as client:
        for name in names or list(sites):
            works, detail = check_site(client, sites[name], base_url, user_agent)
            failed = failed or not works
            console.print(f"{'[green]通过[/]' if works else '[red]失败[/]'} {name}: {detail}")
    if failed:
        raise typer.Exit(code=1)
