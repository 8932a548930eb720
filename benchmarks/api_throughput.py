"""API throughput over HTTP: the real app on the sample city against a bare FastAPI app, in one run.

Starts a bare FastAPI app (``GET /ping`` returning a constant) and ``fairmarket serve`` on
``fairmarket demo``'s sample city (180 days of prices, 2,000 complaints; built once into ``--data-dir``),
both under uvicorn with the same options, and drives each endpoint over loopback with wrk
(``wrk -t2 -c16 -d5s --latency``; a bounded Python client when wrk is missing). Prints req/s, p50 and
p99 per endpoint and the ratio to bare, first with one worker per server, then with ``--workers 2``.
The machine is shared and noisy, so bare and app alternate for every endpoint (bare, app, bare, app with
``--rounds 2``) and each app run is set against the bare run just before it; the table gives the range of
those ratios. Measuring starts once every worker has logged its start-up. Rate limiting is switched
off for the run (``FAIRMARKET_RATE_LIMIT_PER_MINUTE=0``).

Goals (issue 18), one worker: ``/api/health`` >= 0.7 x bare; public price series and index >= 0.3 x bare;
staff search with facets >= 0.1 x bare.

    .venv/bin/python benchmarks/api_throughput.py [--data-dir /tmp/fm-bench] [--duration 5]
        [--connections 16] [--workers 1,2] [--rounds 2] [--profile DIR]

``--profile DIR`` records each endpoint under load with py-spy (``pip install py-spy``) into
``DIR/<endpoint>.txt`` (collapsed stacks of the single worker).

Measured 2026-12-02 on the shared 2-core machine (load average 10-15, other sessions' tests running),
seven runs of ``--workers 1,2`` (the health fast path in the last two); ranges over all pairs:

| workers | endpoint | bare req/s | app req/s | app p50 ms | app p99 ms | x bare |
|---|---|---|---|---|---|---|
| 1 | health (fast path) | 400-699 | 1,407-2,688 | 5.7-11.4 | 21-239 | 3.49-5.84 |
| 1 | health (routed, before) | 339-1,096 | 688-1,139 | 14.3-22.3 | 37-107 | 0.78-2.57 |
| 1 | series (public) | 369-1,130 | 1,243-3,225 | 4.6-13.3 | 19-101 | 1.92-6.17 |
| 1 | series 304 | 333-891 | 1,792-3,688 | 4.0-8.9 | 15-78 | 2.62-7.02 |
| 1 | index (public) | 384-1,047 | 1,597-2,474 | 6.4-10.2 | 23-81 | 2.36-4.44 |
| 1 | search + facets (staff) | 361-794 | 165-463 | 16-107 | 194-1,220 | 0.27-0.83 |
| 2 | health (fast path) | 1,814-4,981 | 1,213-2,116 | 7.6-13.3 | 32-44 | 0.35-0.82 |
| 2 | series (public) | 845-4,708 | 940-3,069 | 4.8-16.7 | 20-867 | 0.35-2.05 |
| 2 | series 304 | 1,596-6,493 | 867-3,647 | 4.0-18.9 | 18-193 | 0.33-2.17 |
| 2 | index (public) | 1,198-5,115 | 599-2,401 | 6.6-24.3 | 21-337 | 0.34-2.00 |
| 2 | search + facets (staff) | 644-4,068 | 425-1,501 | 7-27 | 78-1,820 | 0.10-1.35 |

A cached public read beats bare FastAPI because it skips what bare still does (routing, validation,
serializing a dict). With two workers bare gains three to five times its one-worker rate on this
oversubscribed machine while the app gains less; why was not found (wrk's connections are spread 9/7
over the two workers). Search answers have a long tail (p99 up to 1-2 s, a few wrk timeouts counted as
failed; the server logged no error).

Where the time went before issue 18 (py-spy ``--profile``, one worker under wrk; share of the samples
of threads doing work, idle pool threads left out):

- ``/api/health`` (0.08 x bare): request routing in FastAPI 24% (included routers match route by route),
  three worker-thread hops (the sync session dependency's enter and exit, the sync endpoint) 14%, solving
  dependencies 12%, ``SELECT 1`` 5%, the five middlewares 2%. Now async, the database asked at most once
  a second (``DatabaseProbe``), settings and role checks async: no hop at all.
- ``/api/prices/series`` (0.03): the route 44% — reading every observation of the window into a frame
  23% (driver rows to columns 9%), ``price_aggregates`` 12%, the ORM product lookup 7% — dependencies 8%.
  Then: answers cached per data version (``api.public_reads``), a hit cost one ``SELECT`` of the data
  version (29% of a hit), a worker-thread hop, routing (13%) and dependencies (14%). Now a repeated
  path and query is answered before routing from the kept bytes and headers (``PublicReadsFastPath``)
  and the version is asked at most every 0.5 s: sending the answer is 58% of the worker's samples,
  uvicorn's access log 20%. A miss reads ``price_daily_aggregates``.
- ``/api/prices/index`` (cold: 0 answers in 5 s): computing it 88% — reading observations 55%, the
  chained Jevons 30% — and 16 clients computing the same answer at once. Now one computation per key and
  version; the others wait for it and share it.
- ``/api/complaints/search`` with facets (0.01): the search itself 30% (FTS5 statements 24%, of which the
  facet tally on its second connection 8%), the framework 19%, bearer-token user lookup 7%; in process
  (cProfile) highlighting the 20 hits re-cut their text with jieba behind one lock: 60% of a search. Now
  the tokenizer keeps the tokens of recently cut texts (``TOKENS_KEPT``), the token's user is read at
  most every 0.5 s per worker (``web.deps.TokenAccounts``: no session, no thread hop), and a repeated
  search is kept as the JSON sent. orjson was measured against pydantic's serializer on a 20-hit answer
  (13.9 kB): ``orjson.dumps(model_dump(mode="json"))`` 222 us, ``model_dump_json()`` 187 us, so none.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI

ROOT = Path(__file__).resolve().parent.parent
bare_app = FastAPI()


@bare_app.get("/ping")
def ping() -> dict[str, str]:
    return {"status": "ok"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    staff: bool = False
    revalidate: bool = False


ENDPOINTS = (
    Endpoint("health", "/api/health"),
    Endpoint("series (public)", f"/api/prices/series?product={quote('猪肉')}"),
    Endpoint("series 304", f"/api/prices/series?product={quote('猪肉')}", revalidate=True),
    Endpoint("index (public)", "/api/prices/index?basket=livelihood"),
    Endpoint("search + facets (staff)", f"/api/complaints/search?q={quote('价格')}&size=20", staff=True),
)


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    failures: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} not up after {timeout}s")


@contextmanager
def server(
    command: list[str], env: dict[str, str], ready_url: str, workers: int = 1
) -> Iterator[subprocess.Popen[bytes]]:
    """The server running ``command``, once all ``workers`` have started (the first answers while the
    others still load jieba and the classifier, which would be measured as a server doing half its work);
    its log goes to a temporary file, shown if it fails to start."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
        )
        try:
            try:
                wait_until_up(ready_url, process)
                deadline = time.monotonic() + 180
                while Path(f"/proc/self/fd/{log.fileno()}").read_bytes().count(STARTED) < workers:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"not all {workers} workers started")
                    time.sleep(0.2)
            except RuntimeError:
                log.seek(0)
                sys.stderr.write(log.read().decode(errors="replace")[-3000:])
                raise
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def worker_pids(process: subprocess.Popen[bytes]) -> list[int]:
    """The uvicorn process serving requests: the parent with one worker, its children with several."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    python_children = [int(pid) for pid in children if "python" in Path(f"/proc/{pid}/cmdline").read_text()]
    return python_children or [process.pid]


def build_sample_city(data_dir: Path) -> Path:
    """The demo database in ``data_dir``, built once (``fairmarket demo --no-serve``) and reused."""
    database = data_dir / "fairmarket-demo.db"
    if not database.exists():
        subprocess.run(
            [sys.executable, "-m", "cli.main", "demo", "--no-serve", "--data-dir", str(data_dir)],
            cwd=ROOT,
            check=True,
        )
    return database


def staff_token(database: Path) -> str:
    """A bearer token of the demo's consumer-association staff (``xiehui``), who sees every complaint."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from core.config import DEVELOPMENT_SECRET
    from core.models import User
    from core.security import create_access_token

    with Session(create_engine(f"sqlite:///{database}")) as session:
        user_id = session.scalar(select(User.id).where(User.username == "xiehui"))
    return create_access_token(subject=str(user_id), secret=DEVELOPMENT_SECRET, minutes=60)


def first_answer_ms(url: str, headers: list[str]) -> float:
    started = time.perf_counter()
    request = urllib.request.Request(url, headers=dict(header.split(": ", 1) for header in headers))
    with urllib.request.urlopen(request, timeout=120) as answer:
        answer.read()
    return (time.perf_counter() - started) * 1000


def etag_of(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return str(answer.headers.get("ETag", ""))


#: What uvicorn logs when a worker has run its lifespan start-up.
STARTED = b"Application startup complete"
WRK_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, headers: list[str], seconds: int, connections: int) -> Load:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    latencies = {share: float(value) * WRK_UNITS[unit] for share, value, unit in WRK_LATENCY.findall(output)}
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    failures = int(non_2xx.group(1)) if non_2xx else 0
    failures += sum(int(count) for count in errors.groups()) if errors else 0
    if rate is None or len(latencies) != 2:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return Load(float(rate.group(1)), latencies["50"], latencies["99"], failures)


def run_python_client(url: str, headers: list[str], seconds: int, connections: int) -> Load:
    """A bounded load generator for machines without wrk: ``connections`` threads, keep-alive each."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    header_map = dict(header.split(": ", 1) for header in headers)
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        nonlocal failures
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            connection.request("GET", target, headers=header_map)
            answer = connection.getresponse()
            answer.read()
            mine.append((time.perf_counter() - started) * 1000)
            bad += answer.status >= 400
        with lock:
            latencies.extend(mine)
            failures += bad

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cuts = statistics.quantiles(latencies, n=100)
    return Load(len(latencies) / seconds, cuts[49], cuts[98], failures)


def drive(url: str, headers: list[str], seconds: int, connections: int) -> Load:
    runner = run_wrk if shutil.which("wrk") else run_python_client
    return runner(url, headers, seconds, connections)


@contextmanager
def profiling(pids: list[int], output: Path | None, seconds: int) -> Iterator[None]:
    """py-spy on the first worker while the block runs, written as collapsed stacks."""
    if output is None:
        yield
        return
    recorder = subprocess.Popen(
        [
            shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy")),
            "record",
            "-p",
            str(pids[0]),
            "-d",
            str(seconds),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        recorder.wait(timeout=seconds + 30)


def print_row(name: str, bares: list[Load], loads: list[Load], first_ms: float | None) -> None:
    """One endpoint: each app run next to the bare run just before it, and the ratio of each pair."""
    first = "" if first_ms is None else f"{first_ms:,.0f}"
    ratios = [
        load.requests_per_second / bare.requests_per_second for bare, load in zip(bares, loads, strict=True)
    ]
    print(
        f"| {name:<24} | {' / '.join(f'{bare.requests_per_second:,.0f}' for bare in bares):>13} "
        f"| {' / '.join(f'{load.requests_per_second:,.0f}' for load in loads):>13} "
        f"| {' / '.join(f'{load.p50_ms:.1f}' for load in loads):>11} "
        f"| {' / '.join(f'{load.p99_ms:.0f}' for load in loads):>11} "
        f"| {min(ratios):.2f}-{max(ratios):.2f} | {sum(load.failures for load in loads):>6} | {first:>8} |",
        flush=True,
    )


def measure(args: argparse.Namespace, database: Path, token: str, workers: int) -> None:
    uvicorn = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--workers", str(workers)]
    bare_port, app_port = free_port(), free_port()
    env = {
        **os.environ,
        "FAIRMARKET_DATABASE_URL": f"sqlite:///{database}",
        "FAIRMARKET_DATA_DIR": str(database.parent),
        "FAIRMARKET_SEARCH_URL": "",
        "FAIRMARKET_RATE_LIMIT_PER_MINUTE": "0",
    }
    bare_command = [*uvicorn, "--port", str(bare_port), "--app-dir", "benchmarks", "api_throughput:bare_app"]
    app_command = [
        sys.executable,
        "-m",
        "cli.main",
        "serve",
        "--port",
        str(app_port),
        "--workers",
        str(workers),
    ]
    bare_url = f"http://127.0.0.1:{bare_port}/ping"
    base = f"http://127.0.0.1:{app_port}"
    print(f"\n{workers} worker(s) per server, {args.connections} connections, {args.duration}s each;")
    print(f"bare and app alternate {args.rounds} times per endpoint (ratio range over the pairs)")
    print(
        "| endpoint                 |   bare req/s  |   app req/s   |   p50 ms    |   p99 ms    "
        "| x bare    | failed | first ms |"
    )
    print(
        "|--------------------------|---------------|---------------|-------------|-------------"
        "|-----------|--------|----------|"
    )
    with (
        server(bare_command, env, bare_url, workers),
        server(app_command, env, f"{base}/api/health", workers) as app,
    ):
        drive(f"{base}/api/health", [], 1, args.connections)  # warm every worker's connections
        drive(bare_url, [], 1, args.connections)
        for endpoint in ENDPOINTS:
            headers = [f"Authorization: Bearer {token}"] if endpoint.staff else []
            cold = first_answer_ms(base + endpoint.path, headers)  # computes what the cache then keeps
            if endpoint.revalidate:
                headers.append(f"If-None-Match: {etag_of(base + endpoint.path)}")
            bares, loads = [], []
            for round_number in range(args.rounds):
                bares.append(drive(bare_url, [], args.duration, args.connections))
                output = None
                if args.profile and workers == 1 and round_number == 0:
                    suffix = "-304" if endpoint.revalidate else ""
                    output = args.profile / f"{endpoint.name.split()[0]}{suffix}.txt"
                with profiling(worker_pids(app), output, args.duration):
                    loads.append(drive(base + endpoint.path, headers, args.duration, args.connections))
            print_row(endpoint.name, bares, loads, cold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/fairmarket-api-throughput"))
    parser.add_argument("--duration", type=int, default=5, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="bare/app pairs per endpoint")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure, comma-separated")
    parser.add_argument("--profile", type=Path, default=None, help="folder for py-spy profiles (1 worker)")
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    database = build_sample_city(args.data_dir.resolve())
    token = staff_token(database)
    print(f"load generator: {'wrk' if shutil.which('wrk') else 'Python client'}; cores: {os.cpu_count()}")
    for workers in (int(count) for count in args.workers.split(",")):
        measure(args, database, token, workers)


if __name__ == "__main__":
    main()
