"""``fairmarket demo`` (a fresh sample city, served) and ``fairmarket serve`` (the configured database).

Like every command module, this one imports what it needs inside the functions: building the app pulls
in every router, job and analysis module, which would slow down every other ``fairmarket`` command.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from core.config import Settings

DEMO_DATA_DIR = Path("data") / "demo"
DEMO_DATABASE = "fairmarket-demo.db"
console = Console(soft_wrap=True)
#: Longer than a reverse proxy's idle timeout, so the proxy never reuses a connection the server closed.
KEEP_ALIVE_SECONDS = 75


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(
        0, "--workers", min=0, help="Worker processes; 0: one per core (each builds its own app)."
    ),
) -> None:
    """Serve the API and pages on the configured database (runs migrations on start).

    Each worker imports ``api.asgi:app``, configured from the environment; workers starting together
    migrate one after the other (see ``core.db.upgrade_database``).
    """
    import os

    import uvicorn

    _print_urls(host, port)
    uvicorn.run(
        "api.asgi:app",
        host=host,
        port=port,
        workers=workers or os.cpu_count() or 1,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        proxy_headers=False,  # the app believes X-Forwarded-For from FAIRMARKET_TRUSTED_PROXIES only
    )


def _print_urls(host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    console.print(f"首页 home:        {base}/")
    console.print(f"接口文档 API docs: {base}/docs")
    console.print(f"健康检查 health:  {base}/api/health")


def _fresh_database(data_dir: Path) -> Path:
    """Delete the previous demo database (and its WAL files) so every demo starts from nothing."""
    data_dir.mkdir(parents=True, exist_ok=True)
    database = data_dir / DEMO_DATABASE
    for path in (
        database,
        database.with_name(database.name + "-wal"),
        database.with_name(database.name + "-shm"),
    ):
        path.unlink(missing_ok=True)
    return database


# Demo logins, one per role; the password is drawn anew for each demo and printed.
DEMO_ACCOUNTS = (
    ("admin", "admin", None, "系统管理员"),
    ("xiehui", "consumer_staff", "hrb_consumer", "消协工作人员"),
    ("chaoshi", "association_staff", "hrb_supermarket", "超市连锁经营协会"),
    ("yaodian", "association_staff", "hrb_pharmacy", "药品零售协会"),
)


def create_demo_accounts(session: Session) -> str:
    """One staff account per role (see DEMO_ACCOUNTS); returns their shared, freshly drawn password."""
    from core.accounts import create_user, find_association

    password = secrets.token_urlsafe(9)
    for username, role, association_code, full_name in DEMO_ACCOUNTS:
        association = find_association(session, association_code) if association_code else None
        create_user(
            session,
            actor="demo",
            username=username,
            password=password,
            role=role,
            association=association,
            full_name=full_name,
        )
    session.commit()
    return password


def subscribe_trade_associations(session: Session) -> int:
    """Every trade association follows its own industries in its inbox, as most would on day one."""
    from sqlalchemy import select

    from core.models import Association, Subscription

    associations = session.scalars(
        select(Association).where(Association.is_consumer_association.is_(False))
    ).all()
    for association in associations:
        session.add(
            Subscription(
                association_id=association.id,
                name=f"{association.name}：本行业全部预警",
                channels=["inbox"],
                min_severity="low",
            )
        )
    session.commit()
    return len(associations)


def analyse_demo(session: Session, settings: Settings, engine: Engine, started: float) -> None:
    """Index the complaints, run detection and queue alert deliveries, as the scheduler would."""
    from alerts.enqueue import enqueue_pending
    from jobs.detection import run_detection
    from jobs.index_series import publish_all
    from search.service import get_search_backend, reindex_all

    indexed = reindex_all(session, get_search_backend(settings, engine))
    console.print(f"  ✓ 投诉全文索引 indexed {indexed:,} complaints ({time.perf_counter() - started:.1f}s)")
    alerts = run_detection(session, settings)
    console.print(f"  ✓ 价格监测 detection: {len(alerts)} alerts ({time.perf_counter() - started:.1f}s)")
    queued = enqueue_pending(session)
    console.print(f"  ✓ 预警分发 queued {queued} inbox/deliveries ({time.perf_counter() - started:.1f}s)")
    published = publish_all(session, settings.data_dir)
    console.print(
        f"  ✓ 价格指数 published {published.series} index series, {published.days:,} days"
        f" ({time.perf_counter() - started:.1f}s)"
    )


def build_demo(data_dir: Path, *, days: int, complaints: int) -> Settings:
    """Create the demo database with the sample city; returns the settings that point at it."""
    from core.clock import china_today
    from core.config import Settings
    from core.db import get_engine, session_factory, upgrade_database
    from sample_city.seeding import load_sample_city

    database = _fresh_database(data_dir)
    console.print(f"演示数据库每次全新生成 (fresh demo database): {database.resolve()}")
    # A secret of its own per demo: with the public development secret anyone could forge a token.
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{database.resolve()}",
        search_url="",
        secret_key=secrets.token_urlsafe(32),
    )
    engine = get_engine(settings.resolved_database_url)
    started = time.perf_counter()
    upgrade_database(engine)
    with session_factory(engine)() as session, console.status("生成示例城市 building the sample city…"):
        _, summary = load_sample_city(
            session,
            end=china_today(),
            days=days,
            complaints=complaints,
            on_step=lambda step: console.print(f"  ✓ {step} ({time.perf_counter() - started:.1f}s)"),
        )
        password = create_demo_accounts(session)
        subscribe_trade_associations(session)
        analyse_demo(session, settings, engine, started)
    console.print(
        f"示例城市：商户 {summary.merchants} · 零售价格 {summary.retail_prices:,} · "
        f"批发价格 {summary.wholesale_prices:,} · 投诉 {summary.complaints:,} "
        f"（{time.perf_counter() - started:.1f}s）"
    )
    accounts = "、".join(f"{username}（{name}）" for username, _, _, name in DEMO_ACCOUNTS)
    console.print(f"演示账号 demo logins: {accounts}，密码 password: {password}")
    return settings


def demo(
    port: int = typer.Option(8000, "--port"),
    data_dir: Path = typer.Option(DEMO_DATA_DIR, "--data-dir", help="Folder for the demo's SQLite database."),
    days: int = typer.Option(180, "--days", min=30, max=730, help="Days of price history."),
    complaints: int = typer.Option(2000, "--complaints", min=0, max=100_000, help="Sample complaints."),
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="Serve after building (default)."),
) -> None:
    """Build a sample Harbin (prices, a gouging episode, complaints) from nothing and serve it locally."""
    settings = build_demo(data_dir, days=days, complaints=complaints)
    if not serve_after:
        return
    import uvicorn

    from api.main import create_app

    _print_urls("127.0.0.1", port)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, proxy_headers=False)
