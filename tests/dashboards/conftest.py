"""A real server on a sample city and Debian's Chromium driving it (the ``browser`` tests)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from api.main import create_app
from cli.demo import DEMO_ACCOUNTS, analyse_demo, create_demo_accounts
from core.clock import china_today
from core.config import Settings
from core.db import get_engine, session_factory, upgrade_database
from core.models import CrawlRun, JobRun
from sample_city.seeding import load_sample_city

CHROMIUM = Path("/usr/bin/chromium")
# Assertions wait as long as actions do (the context's default below): on two cores shared with the rest of
# the suite, a save that takes a live request and a redraw can pass Playwright's 5 s default.
expect.set_options(timeout=10_000)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
CONSUMER_STAFF = next(username for username, role, _, _ in DEMO_ACCOUNTS if role == "consumer_staff")
ASSOCIATION_STAFF = "chaoshi"


@dataclass
class LiveSite:
    base_url: str
    password: str
    settings: Settings


@dataclass
class ConsoleLog:
    """Errors the page reported: console.error messages and uncaught exceptions."""

    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} @ {message.location.get('url', '')}")

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")


def _crawl_and_job_history() -> list[CrawlRun | JobRun]:
    """One healthy and one degraded crawl and a failed job run, for the crawl-health and jobs pages."""
    started = dt.datetime(2026, 11, 28, 22, 0)
    return [
        CrawlRun(
            spider="xinfadi",
            source="xinfadi",
            started_at=started,
            finished_at=started,
            status="ok",
            pages=3,
            items_stored=120,
            duration_seconds=4.2,
        ),
        CrawlRun(
            spider="bulletin",
            source="hrb_bulletin",
            started_at=started,
            finished_at=started,
            status="degraded",
            pages=2,
            items_stored=40,
            items_quarantined=3,
            errors=1,
            error_samples=["HTTP 503 第 2 页"],
            duration_seconds=9.5,
        ),
        JobRun(job="detect", started_at=started, finished_at=started, status="failed", error="数据库被锁定"),
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """The app under uvicorn on 127.0.0.1 over a fresh sample city (60 days of prices, 300 complaints)."""
    data_dir = tmp_path_factory.mktemp("site")
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'fairmarket.db'}",
        search_url="",
        rate_limit_per_minute=0,
        delivery_allowed_hosts=["127.0.0.1"],
    )
    engine = get_engine(settings.resolved_database_url)
    upgrade_database(engine)
    with session_factory(engine)() as session:
        load_sample_city(session, end=china_today(), days=60, complaints=300)
        password = create_demo_accounts(session)
        analyse_demo(session, settings, engine, time.perf_counter())
        session.add_all(_crawl_and_job_history())
        session.commit()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield LiveSite(base_url=f"http://127.0.0.1:{port}", password=password, settings=settings)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module: Playwright's sync API keeps an asyncio loop marked as running in
    this thread while it is open, so it must be closed before other modules call ``asyncio.run``."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def page(browser: Browser, live_site: LiveSite, console: ConsoleLog) -> Iterator[Page]:
    """A fresh browser context (own sessionStorage and cookies) whose console errors are collected."""
    context = browser.new_context(
        base_url=live_site.base_url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    yield page
    context.close()


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/staff/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/staff/login" not in url)
