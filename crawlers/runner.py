"""Run crawls from a long-lived process (CLI, scheduler): each source in its own ``scrapy crawl`` process.

Twisted's reactor cannot be restarted inside one process, so every crawl is a subprocess. The runner
creates the crawl_runs row first and hands its id to the crawl; if the process dies before it could
report (import error, kill, timeout) the row is still completed as failed with the log's tail. One
source failing never stops the others.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from core.clock import utcnow
from core.config import Settings
from core.db import make_engine, session_scope
from core.models import CrawlRun
from crawlers.sources import Source, available_sources

logger = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOG_TAIL_CHARS = 2000
DEFAULT_TIMEOUT_SECONDS = 3600.0


class UnknownSourceError(ValueError):
    """A source name that is not in the registry."""


def resolve_sources(names: list[str] | None) -> list[Source]:
    """The named sources (all when ``names`` is empty), or :class:`UnknownSourceError` naming the bad ones."""
    available = available_sources()
    if not names:
        return list(available.values())
    unknown = [name for name in names if name not in available]
    if unknown:
        raise UnknownSourceError(f"未知的数据源：{', '.join(unknown)}；可选：{', '.join(available)}")
    return [available[name] for name in dict.fromkeys(names)]


def crawl_command(
    source: Source, run_id: int, database_url: str, settings: Settings, arguments: dict[str, str]
) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", source.spider]
    for key, value in {**source.arguments, **arguments}.items():
        command += ["-a", f"{key}={value}"]
    command += ["-s", f"CRAWL_RUN_ID={run_id}", "-s", f"DATABASE_URL={database_url}"]
    command += ["-s", f"USER_AGENT={settings.user_agent}"]
    return command


def _start_run(engine: Engine, source: Source) -> int:
    with session_scope(engine) as session:
        run = CrawlRun(spider=source.spider, source=source.name, status="running")
        session.add(run)
        session.flush()
        return run.id


def _fail_if_unfinished(engine: Engine, run_id: int, reason: str, log_file: Path) -> None:
    """A crawl process that ended without completing its row: mark it failed, keep the log's tail."""
    with session_scope(engine) as session:
        run = session.get(CrawlRun, run_id)
        if run is None or run.status != "running":
            return
        tail = (
            log_file.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:]
            if log_file.exists()
            else ""
        )
        now = utcnow()
        run.status = "failed"
        run.errors = max(run.errors or 0, 1)
        run.error_samples = [reason, tail] if tail else [reason]
        run.finished_at = now
        run.duration_seconds = (now - run.started_at).total_seconds()


def run_crawl(
    sources: list[str] | None,
    settings: Settings,
    *,
    arguments: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> list[int]:
    """Crawl ``sources`` (all when empty) one after another; return their crawl_runs ids.

    ``arguments`` become spider arguments (``-a key=value``), e.g. ``base_url`` or ``start_date``.
    """
    chosen = resolve_sources(sources)
    database_url = settings.resolved_database_url
    engine = make_engine(database_url)
    log_dir = settings.data_dir / "crawl_logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "FAIRMARKET_DATABASE_URL": database_url,
        "SCRAPY_SETTINGS_MODULE": "crawlers.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
    }
    run_ids: list[int] = []
    try:
        for source in chosen:
            run_id = _start_run(engine, source)
            run_ids.append(run_id)
            log_file = log_dir / f"crawl-{run_id}-{source.name}.log"
            command = crawl_command(source, run_id, database_url, settings, arguments or {})
            logger.info("crawl run %s: %s", run_id, " ".join(command))
            try:
                with log_file.open("w", encoding="utf-8") as log:
                    result = subprocess.run(
                        command,
                        cwd=PROJECT_ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        timeout=timeout,
                    )
                reason = f"抓取进程异常退出（退出码 {result.returncode}）"
            except subprocess.TimeoutExpired:
                reason = f"抓取超时（{timeout:.0f} 秒）"
            except OSError as exc:
                reason = f"无法启动抓取进程：{exc}"
            _fail_if_unfinished(engine, run_id, reason, log_file)
    finally:
        engine.dispose()
    return run_ids
