"""``fairmarket search`` and ``fairmarket reindex`` against a real database and its FTS5 index."""

from __future__ import annotations

import json

from sqlalchemy import update
from typer.testing import CliRunner

from cli.main import app
from core.db import make_engine, session_factory, upgrade_database
from core.models import Complaint
from search.query import TOTAL_LIMIT
from tests.utils.search import make_corpus


def _seed(url: str, copies: int = 3) -> list[int]:
    engine = make_engine(url)
    upgrade_database(engine)
    with session_factory(engine)() as session:
        ids = [c.id for c in make_corpus(session, copies)]
    engine.dispose()
    return ids


def test_reindex_then_search_as_json(cli_env: str, runner: CliRunner) -> None:
    _seed(cli_env)
    rebuilt = runner.invoke(app, ["reindex"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "48 条投诉已索引" in rebuilt.output

    result = runner.invoke(app, ["search", "电话 口罩", "--json", "--sort", "date"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["total"] == len(body["hits"]) == 3
    assert body["total_relation"] == "eq"
    for hit in body["hits"]:
        assert "13912345678" in hit["text"]  # the operator's view: as filed
        assert "电话" in {hit["text"][h["start"] : h["end"]] for h in hit["highlights"]}

    masked = json.loads(runner.invoke(app, ["search", "电话", "--json", "--masked"]).stdout)
    assert all("13912345678" not in hit["text"] for hit in masked["hits"])


def test_search_pages_past_one_page_by_cursor(cli_env: str, runner: CliRunner) -> None:
    ids = _seed(cli_env, copies=70)  # 1,120 complaints: more than one page of 1,000
    assert runner.invoke(app, ["reindex"]).exit_code == 0
    result = runner.invoke(app, ["search", "", "--size", "1100", "--json", "--sort", "date"])
    body = json.loads(result.stdout)
    assert body["total"] == len(ids)
    assert len({hit["id"] for hit in body["hits"]}) == 1100
    plain = runner.invoke(app, ["search", "口罩", "--not-status", "closed", "--size", "3"])
    assert plain.exit_code == 0
    assert "共" in plain.stdout


def test_reindex_check_reports_and_repairs_drift(cli_env: str, runner: CliRunner) -> None:
    ids = _seed(cli_env)
    assert runner.invoke(app, ["reindex"]).exit_code == 0
    engine = make_engine(cli_env)
    with engine.begin() as conn:
        conn.execute(update(Complaint).where(Complaint.id == ids[0]).values(status="closed"))
    engine.dispose()

    check = runner.invoke(app, ["reindex", "--check", "--json"])
    assert check.exit_code == 1
    report = json.loads(check.stdout)
    assert (report["stale"], report["missing"], report["orphaned"]) == (1, 0, 0)

    repaired = runner.invoke(app, ["reindex", "--check", "--repair", "--json"])
    assert repaired.exit_code == 0, repaired.output
    assert json.loads(repaired.stdout)["consistent_after_repair"] is True
    assert runner.invoke(app, ["reindex", "--check"]).exit_code == 0


def test_reindex_repair_on_a_clean_index_reports_nothing_to_mend(cli_env: str, runner: CliRunner) -> None:
    _seed(cli_env, copies=1)
    assert runner.invoke(app, ["reindex"]).exit_code == 0
    repaired = runner.invoke(app, ["reindex", "--check", "--repair", "--json"])
    assert repaired.exit_code == 0, repaired.output
    report = json.loads(repaired.stdout)
    assert (report["consistent"], report["repaired"], report["consistent_after_repair"]) == (True, 0, True)


def test_search_refuses_an_unknown_sort(cli_env: str, runner: CliRunner) -> None:
    _seed(cli_env, copies=1)
    result = runner.invoke(app, ["search", "口罩", "--sort", "price"])
    assert result.exit_code == 2


def test_a_large_reindex_uses_workers_and_search_says_the_total_is_a_lower_bound(
    cli_env: str, runner: CliRunner
) -> None:
    ids = _seed(cli_env, copies=640)  # 10,240 complaints: past the exact-total limit and the worker threshold
    rebuilt = runner.invoke(app, ["reindex"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"{len(ids)} 条投诉已索引" in rebuilt.output
    assert runner.invoke(app, ["reindex", "--check"]).exit_code == 0

    body = json.loads(runner.invoke(app, ["search", "", "--json", "--size", "2"]).stdout)
    assert (body["total"], body["total_relation"], len(body["hits"])) == (TOTAL_LIMIT, "gte", 2)
    plain = runner.invoke(app, ["search", "", "--size", "1"])
    assert f"至少 {TOTAL_LIMIT} 条" in plain.stdout
