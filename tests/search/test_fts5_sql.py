"""Golden SQL of the FTS5 backend, in the style of ccdb5-api's expected results, and its search plan.

Each representative statement is compared with ``golden/fts5/<case>.json`` (the SQL and its parameters):
a change in what SQLite is asked shows as a diff of a readable file. Every golden statement also runs on
a real, empty index, so a file cannot pin SQL that SQLite refuses. After a deliberate change, rewrite
the files with ``FAIRMARKET_UPDATE_GOLDEN=1 python -m pytest tests/search/test_fts5_sql.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.db import make_engine
from search.backends import fts5_sql
from search.backends.fts5_plan import SearchPlan
from search.backends.fts5_schema import ensure_tables
from search.query import SearchQuery, encode_cursor
from search.service import prepare

GOLDEN = Path(__file__).with_name("golden") / "fts5"
UPDATE = os.environ.get("FAIRMARKET_UPDATE_GOLDEN") == "1"

MASKS = prepare(SearchQuery(q="口罩", facets=False))
FILTERED = prepare(
    SearchQuery(
        q="退款",
        nature=("价格",),
        district=("南岗区", "道里区"),
        not_status=("closed",),
        association_id=3,
        created_from=dt.datetime(2026, 5, 31, 16),
        created_to=dt.datetime(2026, 6, 30, 16),
        amount_min=Decimal("10.005"),
        amount_max=Decimal("99.999"),
    )
)
BY_DATE_AFTER = prepare(
    SearchQuery(
        q="退款", sort="date", district=("南岗区",), cursor=encode_cursor("date", [1782777600000, 1234])
    )
)
RELEVANCE_AFTER = prepare(SearchQuery(q="口罩", page=1, cursor=encode_cursor("relevance", [-3.5, 77])))
WEEKS = prepare(SearchQuery(histogram="week", association_id=3))

CASES: dict[str, Callable[[], fts5_sql.Statement]] = {
    "newest_matches": lambda: fts5_sql.newest_matches(fts5_sql.query_match(MASKS), 2001),
    "newest_in_scope": lambda: fts5_sql.newest_in_scope(3, 2000),
    "page_rows": lambda: fts5_sql.page_rows([9, 4, 7]),
    "ranked_terms_only": lambda: fts5_sql.ranked_page(MASKS, terms_only=True, floor=None),
    "ranked_terms_only_after_cursor": lambda: fts5_sql.ranked_page(
        RELEVANCE_AFTER, terms_only=True, floor=None
    ),
    "ranked_filtered_newest": lambda: fts5_sql.ranked_page(FILTERED, terms_only=False, floor=1500),
    "date_page_filtered": lambda: fts5_sql.date_page(FILTERED, fts5_sql.filters(FILTERED)),
    "date_page_after_cursor": lambda: fts5_sql.date_page(BY_DATE_AFTER, fts5_sql.filters(BY_DATE_AFTER)),
    "sample_by_date": lambda: fts5_sql.sample_by_date(BY_DATE_AFTER, "[3, 2, 1]", 20),
    "outsiders": lambda: fts5_sql.outsiders(BY_DATE_AFTER, (1782700000000, 880), 500, 1001),
    "matching": lambda: fts5_sql.matching([5, 6], fts5_sql.query_match(MASKS)),
    "date_batch": lambda: fts5_sql.date_batch(
        fts5_sql.filters(FILTERED, terms=False), (1782700000000, 880), 256
    ),
    "matches_between": lambda: fts5_sql.matches_between(fts5_sql.query_match(MASKS), 100, 356),
    "total_terms_only": lambda: fts5_sql.bounded_total(
        MASKS, fts5_sql.filters(MASKS), terms_only=True, limit=10_000
    ),
    "total_filtered": lambda: fts5_sql.bounded_total(
        FILTERED, fts5_sql.filters(FILTERED), terms_only=False, limit=10_000
    ),
    "tally_with_total": lambda: fts5_sql.tally(FILTERED, "[1, 2, 3]", count=True),
    "facet_counts_filtered_facet": lambda: fts5_sql.facet_counts(FILTERED, "district", 1500, None),
    "shared_facets": lambda: fts5_sql.shared_facets(fts5_sql.filters(FILTERED), ["industry", "merchant"]),
    "histogram_weeks": lambda: fts5_sql.histogram(WEEKS, fts5_sql.filters(WEEKS)),
    "hashes_page": lambda: fts5_sql.hashes_page(-1, 10_000),
}


def _golden(name: str, value: Any) -> Any:
    path = GOLDEN / f"{name}.json"
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return json.loads(path.read_text(encoding="utf-8"))


def _as_json(statement: fts5_sql.Statement) -> dict[str, Any]:
    sql, params = statement
    return {"sql": sql, "params": list(params)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_statement_matches_its_golden_file(case: str) -> None:
    statement = _as_json(CASES[case]())
    assert statement == _golden(case, statement)


def test_match_expressions_match_their_golden_file() -> None:
    expressions = {
        "terms": fts5_sql.match_expression([("口罩", "医用口罩"), ("涨价",)]),
        "scoped": fts5_sql.match_expression([("口罩",)], association_id=3),
    }
    assert expressions == _golden("match_expressions", expressions)


def test_every_golden_file_has_its_case() -> None:
    expected = {f"{case}.json" for case in CASES} | {"match_expressions.json"}
    assert {path.name for path in GOLDEN.glob("*.json")} == expected


def test_every_golden_statement_runs_on_a_real_index(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'index.sqlite3'}")
    with engine.begin() as conn:
        ensure_tables(conn)
        for case in sorted(CASES):
            statement = _golden(case, _as_json(CASES[case]()))
            conn.exec_driver_sql(statement["sql"], tuple(statement["params"])).all()  # raises if refused
    engine.dispose()


def test_user_text_reaches_sql_only_as_tokenizer_terms_and_parameters() -> None:
    hostile = prepare(SearchQuery(q='口罩" OR 1=1; DROP TABLE search_docs; --', district=("'); --",)))
    sql, params = fts5_sql.date_page(hostile, fts5_sql.filters(hostile))
    assert "DROP" not in sql and "'); --" not in sql
    assert "'); --" in params
    match = fts5_sql.query_match(hostile)
    assert all(character.isalnum() or character in ' ()":{}' for character in match.replace("AND", ""))


# --- the search plan ----------------------------------------------------------------------------------


def test_a_search_without_terms_matches_everything_in_scope() -> None:
    plan = SearchPlan.make(prepare(SearchQuery()), [], None)
    assert (plan.match, plan.sample, plan.matched, plan.floor, plan.tally_beside) == (None,) * 4 + (False,)
    assert plan.bounded_total(12_000, 10_000) == (10_000, "gte") and plan.browse_sampled("gte")
    assert plan.sampled("gte") and not plan.sampled("eq")


def test_a_narrow_match_is_counted_exactly_over_all_its_matches() -> None:
    plan = SearchPlan.make(MASKS, [9, 5, 2], None)
    assert plan.terms_only and plan.matched == "[9, 5, 2]" and plan.floor is None
    assert not plan.tally_beside  # no facets asked, and FTS5 counts the total itself
    assert plan.bounded_total(3, 10_000) == (3, "eq") and not plan.sampled("eq")


def test_a_broad_filtered_match_ranks_counts_and_facets_its_newest_matches() -> None:
    plan = SearchPlan.make(FILTERED, [900, 800], 800)
    assert not plan.terms_only and plan.floor == 800 and plan.matched == "[900, 800]"
    assert plan.tally_beside and plan.count_in_tally
    assert plan.bounded_total(40, 10_000) == (40, "gte") and plan.sampled("gte")


def test_an_exhaustive_broad_match_looks_at_every_match() -> None:
    plan = SearchPlan.make(FILTERED.model_copy(update={"exhaustive": True}), [900, 800], 800)
    assert plan.floor is None and plan.matched is None and not plan.tally_beside
    assert plan.bounded_total(40, 10_000) == (40, "eq") and not plan.sampled("eq")
