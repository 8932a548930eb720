"""``scrapy crawl xinfadi`` as a real process against a local fixture site, into a fresh database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.catalogue import seed_catalogue
from core.config import Settings
from core.db import make_engine
from core.models import CrawlRun, PriceObservation, Product, QuarantinedItem
from crawlers.runner import run_crawl
from tests.crawlers.fixture_site import FixtureSite, serve

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "RETRY_BACKOFF_BASE=0"]


@pytest.fixture
def catalogue(engine: Engine) -> Engine:
    with Session(engine) as session:
        seed_catalogue(session)
        session.commit()
    return engine


def scrapy_crawl(site_url: str, db_url: str, *settings: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "xinfadi", "-a", f"base_url={site_url}"]
    command += ["-a", "start_date=2026-11-27", "-a", "end_date=2026-11-27", "-a", "limit=10"]
    command += ["-s", f"DATABASE_URL={db_url}", *(settings or FAST)]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_scrapy_crawl_xinfadi_into_a_fresh_database(catalogue: Engine, db_url: str) -> None:
    with serve() as site:
        first = scrapy_crawl(site.url, db_url)
        assert first.returncode == 0, first.stderr[-3000:]
        requests = list(site.requests)
        second = scrapy_crawl(site.url, db_url)
        assert second.returncode == 0, second.stderr[-3000:]

    # Polite: robots.txt first, then the two pages, all with the platform's User-Agent.
    assert [(method, path) for method, path, _ in requests] == [
        ("GET", "/robots.txt"),
        ("POST", "/getPriceData.html"),
        ("POST", "/getPriceData.html"),
    ]
    assert all(agent.startswith("FairMarket/") for _, _, agent in requests)

    with Session(catalogue) as session:
        assert count(session, PriceObservation) == 9  # the re-run added nothing
        observation = session.scalars(
            select(PriceObservation).where(PriceObservation.origin == "冀", PriceObservation.spec == "纸箱")
        ).one()
        assert observation.url == f"{site.url}/getPriceData.html"
        assert (observation.spider, observation.extractor, observation.source) == (
            "xinfadi",
            "xinfadi-json",
            "xinfadi",
        )
        assert len(observation.raw_hash or "") == 64 and observation.fetched_at is not None
        assert observation.low_price is not None and observation.high_price is not None
        assert (float(observation.price), float(observation.low_price), float(observation.high_price)) == (
            1.6,
            1.4,
            1.8,
        )

        reasons = list(session.scalars(select(QuarantinedItem.reason)))
        assert len(reasons) == 4  # 泰国香蕉 8.8 / 6.9 among them: low above high
        assert any(reason.startswith("最低价高于最高价") for reason in reasons)
        assert any("单价不合常理" in reason for reason in reasons)
        provisional = select(Product.name).where(Product.status == "provisional")
        assert session.scalars(provisional).all() == ["羊腰子"]

        first_run, second_run = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
    assert (first_run.status, first_run.pages, first_run.items_stored) == ("ok", 2, 9)
    assert (first_run.items_quarantined, first_run.items_unmapped, first_run.items_duplicate) == (4, 1, 1)
    assert first_run.duration_seconds is not None and first_run.finished_at is not None
    assert (second_run.status, second_run.items_stored, second_run.items_duplicate) == ("ok", 0, 10)


def test_a_struggling_site_is_retried_with_backoff(catalogue: Engine, db_url: str) -> None:
    backoff = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "RETRY_BACKOFF_BASE=0.05"]
    with serve(FixtureSite(failures=2)) as site:
        result = scrapy_crawl(site.url, db_url, *backoff)
    assert result.returncode == 0, result.stderr[-3000:]
    assert [path for _, path, _ in site.requests].count("/getPriceData.html") == 4  # 2 refused, 2 pages
    with Session(catalogue) as session:
        run = session.scalars(select(CrawlRun)).one()
    assert (run.status, run.items_stored, run.errors) == ("ok", 9, 0)


def test_robots_txt_is_obeyed_and_reported(catalogue: Engine, db_url: str) -> None:
    with serve(FixtureSite(robots="User-agent: *\nDisallow: /getPriceData.html\n")) as site:
        result = scrapy_crawl(site.url, db_url)
    assert result.returncode == 0
    assert [path for _, path, _ in site.requests] == ["/robots.txt"]
    with Session(catalogue) as session:
        run = session.scalars(select(CrawlRun)).one()
        assert count(session, PriceObservation) == 0
    assert (run.status, run.errors) == ("failed", 1)
    assert "getPriceData.html" in run.error_samples[0]


def test_run_crawl_reports_a_broken_source_and_goes_on(catalogue: Engine, settings: Settings) -> None:
    with serve() as site:
        # The fixture site has no MOFCOM pages (404): that source fails, Xinfadi still runs.
        run_ids = run_crawl(
            ["mofcom", "xinfadi"],
            settings,
            arguments={
                "base_url": site.url,
                "start_date": "2026-11-27",
                "end_date": "2026-11-27",
                "commodities": "13245",
            },
        )
    with Session(catalogue) as session:
        runs = {run.source: run for run in session.scalars(select(CrawlRun).where(CrawlRun.id.in_(run_ids)))}
        assert count(session, PriceObservation) == 9
    assert runs["mofcom"].status == "failed"
    assert runs["mofcom"].errors == 1
    assert "HTTP 404" in runs["mofcom"].error_samples[0]
    assert (runs["xinfadi"].status, runs["xinfadi"].items_stored) == ("ok", 9)
    assert (settings.data_dir / "crawl_logs").is_dir()


def test_run_crawl_marks_a_crawl_that_could_not_start_as_failed(
    catalogue: Engine, settings: Settings
) -> None:
    [run_id] = run_crawl(["xinfadi"], settings, arguments={"start_date": "2026-02-30"})
    with Session(catalogue) as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
    assert run.status == "failed"
    assert "退出码" in run.error_samples[0]
    assert "start_date" in run.error_samples[1]


def test_scrapy_crawl_is_the_first_command_on_an_empty_database(db_url: str) -> None:
    """No `fairmarket db upgrade` first: the crawl brings the schema to head and seeds the catalogue."""
    with serve() as site:
        result = scrapy_crawl(site.url, db_url)
    assert result.returncode == 0, result.stderr[-3000:]
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            assert count(session, PriceObservation) == 9
            assert session.scalar(
                select(func.count()).select_from(Product).where(Product.status == "catalogued")
            )
            run = session.scalars(select(CrawlRun)).one()
            assert (run.status, run.items_stored, run.items_unmapped) == ("ok", 9, 1)
    finally:
        engine.dispose()
