"""``fairmarket scheduler``: run the crawl, detect and deliver timetable while this process leads."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import typer

from jobs import JOB_NAMES


def scheduler(
    run_now: list[str] = typer.Option(
        [], "--run-now", help=f"Also run this job as soon as this process leads ({', '.join(JOB_NAMES)})."
    ),
) -> None:
    """Run the job timetable; with several processes, one leads and the others stand by."""
    unknown = sorted(set(run_now) - set(JOB_NAMES))
    if unknown:
        raise typer.BadParameter(f"未知任务：{', '.join(unknown)}（可选：{', '.join(JOB_NAMES)}）")
    from core.config import get_settings
    from core.db import get_engine, prepare_database
    from jobs.leader import leader_lock_for
    from jobs.scheduler import SchedulerService
    from search.masking import remask_at_start

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    engine = get_engine(settings.resolved_database_url)
    prepare_database(engine)
    remask_at_start(settings, engine)
    try:
        service = SchedulerService(settings, engine, leader_lock_for(engine), run_now=run_now)
    except ValueError as exc:
        typer.echo(f"调度配置有误：{exc}", err=True)
        raise typer.Exit(code=1) from exc
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        typer.echo(f"收到信号 {signal.Signals(signum).name}，等待运行中的任务结束后退出", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    typer.echo(f"调度进程 {service.owner} 已启动：持有调度锁时执行任务，否则待命", err=True)
    service.run(stop)
