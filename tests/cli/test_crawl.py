"""``fairmarket crawl`` and ``fairmarket sites list|check`` against a local fixture site."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.crawlers.fixture_site import FILES, FixtureSite, serve


def test_crawl_lists_its_sources(runner: CliRunner) -> None:
    result = runner.invoke(app, ["crawl", "--list"])
    assert result.exit_code == 0, result.output
    for name in ("xinfadi", "mofcom", "product_pages", "harbin-bulletin"):
        assert name in result.output


def test_an_unknown_source_is_refused(cli_env: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["crawl", "--source", "nowhere"])
    assert result.exit_code == 2
    assert "未知的数据源：nowhere" in result.output


@pytest.mark.slow
def test_crawl_one_source_into_a_fresh_database(cli_env: str, runner: CliRunner) -> None:
    with serve() as site:
        arguments = ["crawl", "--source", "xinfadi", "--base-url", site.url, "--json"]
        result = runner.invoke(app, [*arguments, "--start-date", "2026-11-27", "--end-date", "2026-11-27"])
    assert result.exit_code == 0, result.output
    [run] = json.loads(result.output)
    assert (run["source"], run["status"], run["stored"], run["quarantined"], run["unmapped"]) == (
        "xinfadi",
        "ok",
        9,
        4,  # 泰国香蕉 8.8 / 6.9 (low above high) among them
        1,
    )


def test_sites_list(runner: CliRunner) -> None:
    result = runner.invoke(app, ["sites", "list"])
    assert result.exit_code == 0, result.output
    assert "example-mart" in result.output


def test_sites_check_runs_the_rules_on_the_test_page(runner: CliRunner) -> None:
    page = (FILES / "product_rules.html").read_bytes()
    with serve(FixtureSite(pages={"/item/1001.html": (200, "text/html; charset=utf-8", page)})) as site:
        result = runner.invoke(app, ["sites", "check", "example-mart", "--base-url", site.url])
    assert result.exit_code == 0, result.output
    assert "通过 example-mart" in result.output
    assert "price=39.90" in result.output


@pytest.mark.parametrize(
    ("site", "message"),
    [
        (
            FixtureSite(
                pages={"/item/1001.html": (200, "text/html", "<html><h1>改版了</h1></html>".encode())}
            ),
            "缺少",
        ),
        (FixtureSite(), "HTTP 404"),
        (FixtureSite(robots="User-agent: *\nDisallow: /item/\n"), "robots.txt"),
    ],
)
def test_sites_check_fails_when_the_rules_no_longer_work(
    runner: CliRunner, site: FixtureSite, message: str
) -> None:
    with serve(site):
        result = runner.invoke(app, ["sites", "check", "example-mart", "--base-url", site.url])
    assert result.exit_code == 1
    assert "失败 example-mart" in result.output
    assert message in result.output


def test_sites_check_refuses_unknown_names(runner: CliRunner) -> None:
    result = runner.invoke(app, ["sites", "check", "nowhere"])
    assert result.exit_code == 2
    assert "未知的网站" in result.output
