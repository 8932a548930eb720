"""Figures at scale on both storage configurations that run here, by running the issues' own benchmarks:

* search p95 over ``--complaints`` (default 1,000,000): SQLite FTS5 in-process, and the
  Elasticsearch API (a local osmem-server), with FTS5's bare MATCH count as the same-run baseline
  (``benchmarks/search_latency.py --osmem``, goal of issue 3: p95 <= 20 ms);
* detection over ``--prices`` (default 10,000,000): a full pass against the time to load its rows, on
  SQLite and on PostgreSQL (``benchmarks/detection_scale.py``, goal: full pass / load <= 3).

Each benchmark runs in its own process, so every figure's peak memory is its own.

    .venv/bin/python benchmarks/scale_figures.py [--complaints 1000000] [--prices 10000000]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--only search|detection]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent


def run(title: str, script: str, *args: str) -> int:
    """Run one benchmark, streaming its figures under a heading; returns its exit code."""
    print(f"\n=== {title} ===", flush=True)
    began = time.perf_counter()
    code = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], check=False).returncode
    print(f"--- {title}: exit {code}, {time.perf_counter() - began:.0f} s wall", flush=True)
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--prices", type=int, default=10_000_000)
    parser.add_argument("--postgres-url", default="", help="PostgreSQL server for the detection figures")
    parser.add_argument("--only", choices=("search", "detection"))
    args = parser.parse_args()
    codes = []
    if args.only in (None, "search"):
        codes.append(
            run(
                f"search over {args.complaints:,} complaints: SQLite FTS5 and ES API (osmem-server)",
                "search_latency.py",
                "--size",
                str(args.complaints),
                "--osmem",
                "--es-queries",
                "30",
            )
        )
    if args.only in (None, "detection"):
        codes.append(
            run(
                f"detection over {args.prices:,} prices: SQLite",
                "detection_scale.py",
                "--rows",
                str(args.prices),
            )
        )
        if args.postgres_url:
            codes.append(
                run(
                    f"detection over {args.prices:,} prices: PostgreSQL",
                    "detection_scale.py",
                    "--rows",
                    str(args.prices),
                    "--database-url",
                    args.postgres_url,
                )
            )
    return max(codes, default=0)


if __name__ == "__main__":
    sys.exit(main())
