"""Issue 3's search figures in one run, each benchmark in its own process:

* complaints indexed per second on FTS5 against jieba's own tokenization rate on the same texts
  (``benchmarks/search_indexing.py``, goal: ratio >= 0.8);
* search latency p50/p95 over ``--complaints`` (default 1,000,000) on FTS5 in-process, against a bare
  FTS5 MATCH count (``benchmarks/search_latency.py``, goal: p95 <= 20 ms).

    .venv/bin/python benchmarks/search_figures.py [--complaints 1000000] [--keep FILE]
"""

from __future__ import annotations

import argparse

from scale_figures import run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--keep", help="build the latency index into (or reuse) this SQLite file")
    args = parser.parse_args()
    latency_args = ["--size", str(args.complaints), *(["--keep", args.keep] if args.keep else [])]
    codes = [
        run("FTS5 indexing rate against jieba", "search_indexing.py"),
        run(f"search latency over {args.complaints:,} complaints (FTS5)", "search_latency.py", *latency_args),
    ]
    return max(codes)


if __name__ == "__main__":
    raise SystemExit(main())
