"""A loopback load run: the app as several uvicorn worker processes, concurrent clients filing
complaints through POST /api/complaints while staff searches run. Shared by tests/scale/test_load.py
(a small count) and benchmarks/scale_load.py (the issue's 5,000)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select

from core.db import make_engine, session_factory, upgrade_database
from core.models import Association, User
from core.security import hash_password

ROOT = Path(__file__).resolve().parents[2]
STAFF_USERNAME = "load-xiehui"
STAFF_PASSWORD = "correct horse battery"
SEARCH_TERMS = ("猪肉", "口罩", "虚假宣传", "退款", "超市")
TEXTS = (
    "道里区超市鲜猪肉每斤卖到28元，比上周贵了一倍，属于哄抬价格。",
    "南岗区药店一次性口罩每个卖10元，请消协处理。",
    "健身房预付卡充值后商家跑路，拒不退款。",
    "外卖平台商家虚假宣传，图片与实物严重不符。",
    "农贸市场大白菜缺斤短两，电子秤被动过手脚。",
)


def marker(number: int) -> str:
    """A token unique to one submission, so search can find exactly that complaint."""
    return f"lt{number:06d}x"


@dataclass
class LoadReport:
    """What the clients saw: which submissions were acknowledged, and how fast."""

    requested: int
    clients: int
    seconds: float = 0.0
    acknowledged: dict[int, int] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)
    submit_ms: list[float] = field(default_factory=list)
    search_ms: list[float] = field(default_factory=list)
    search_errors: Counter[str] = field(default_factory=Counter)

    @property
    def throughput(self) -> float:
        return len(self.acknowledged) / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"{self.requested} complaints by {self.clients} clients: {len(self.acknowledged)} acknowledged"
            f" (201), refused {dict(self.refused) or 0}; {self.seconds:.1f} s, "
            f"{self.throughput:.0f} complaints/s; submit p50 {percentile(self.submit_ms, 0.5):.0f} ms "
            f"p95 {percentile(self.submit_ms, 0.95):.0f} ms; "
            f"{len(self.search_ms)} searches meanwhile p50 {percentile(self.search_ms, 0.5):.0f} ms "
            f"p95 {percentile(self.search_ms, 0.95):.0f} ms, errors {dict(self.search_errors) or 0}"
        )


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def prepare_database(url: str) -> None:
    """Migrate and add the consumer-association account the searching staff log in with."""
    engine = make_engine(url)
    upgrade_database(engine)
    with session_factory(engine)() as session:
        if session.scalar(select(User).where(User.username == STAFF_USERNAME)) is None:
            association = Association(
                code="load-xiehui", name="负载测试消协", industries=[], is_consumer_association=True
            )
            session.add(association)
            session.flush()
            session.add(
                User(
                    username=STAFF_USERNAME,
                    role="consumer_staff",
                    password_hash=hash_password(STAFF_PASSWORD),
                    association_id=association.id,
                )
            )
            session.commit()
    engine.dispose()


def app_environment(database_url: str, data_dir: Path, search_url: str = "") -> dict[str, str]:
    """The app configured by environment only, as in the deployment; no rate limit on loopback."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FAIRMARKET_")}
    environment.update(
        FAIRMARKET_ENVIRONMENT="test",
        FAIRMARKET_DATABASE_URL=database_url,
        FAIRMARKET_DATA_DIR=str(data_dir),
        FAIRMARKET_SEARCH_URL=search_url,
        FAIRMARKET_RATE_LIMIT_PER_MINUTE="0",
    )
    return environment


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_api(environment: dict[str, str], workers: int = 2) -> Iterator[str]:
    """``uvicorn api.asgi:app --workers N`` on loopback; yields its base URL once it answers."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--timeout-keep-alive",
            "75",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {server.returncode}")
            try:
                if httpx.get(f"{base_url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not answer within 60 s")
            time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _payload(number: int) -> dict[str, str]:
    return {
        "text": f"{TEXTS[number % len(TEXTS)]} 编号 {marker(number)}",
        "district": ("道里区", "南岗区", "香坊区")[number % 3],
        "consumer_name": "张三",
        "contact": f"139{number:08d}",
    }


async def _submitter(client: httpx.AsyncClient, numbers: asyncio.Queue[int], report: LoadReport) -> None:
    while True:
        try:
            number = numbers.get_nowait()
        except asyncio.QueueEmpty:
            return
        started = time.perf_counter()
        try:
            response = await client.post("/api/complaints", json=_payload(number))
        except httpx.TransportError as error:
            report.refused[type(error).__name__] += 1
            continue
        report.submit_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code == 201:
            report.acknowledged[number] = int(response.json()["id"])
        else:
            report.refused[str(response.status_code)] += 1


async def _searcher(
    client: httpx.AsyncClient, headers: dict[str, str], done: asyncio.Event, report: LoadReport
) -> None:
    turn = 0
    while not done.is_set():
        params = {"q": SEARCH_TERMS[turn % len(SEARCH_TERMS)], "size": "20"}
        turn += 1
        started = time.perf_counter()
        try:
            response = await client.get("/api/complaints/search", params=params, headers=headers)
        except httpx.TransportError as error:
            report.search_errors[type(error).__name__] += 1
            continue
        report.search_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            report.search_errors[str(response.status_code)] += 1


async def staff_headers(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post(
        "/api/auth/token", data={"username": STAFF_USERNAME, "password": STAFF_PASSWORD}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _warm_up(
    client: httpx.AsyncClient, headers: dict[str, str], connections: int, report: LoadReport
) -> None:
    """One search per connection at once, before the clock runs: every worker loads its tokenizer, and
    a burst of concurrent searches must be answered too (a capped connection pool once made it 500)."""
    responses = await asyncio.gather(
        *(
            client.get("/api/complaints/search", params={"q": "预热"}, headers=headers)
            for _ in range(connections)
        )
    )
    report.search_errors.update(str(r.status_code) for r in responses if r.status_code != 200)


async def run_load(base_url: str, count: int, clients: int = 50, searchers: int = 4) -> LoadReport:
    """``clients`` concurrent connections file ``count`` complaints while ``searchers`` staff search."""
    report = LoadReport(requested=count, clients=clients)
    numbers: asyncio.Queue[int] = asyncio.Queue()
    for number in range(count):
        numbers.put_nowait(number)
    limits = httpx.Limits(max_connections=clients + searchers)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        headers = await staff_headers(client)
        await _warm_up(client, headers, clients, report)
        done = asyncio.Event()
        searching = [asyncio.create_task(_searcher(client, headers, done, report)) for _ in range(searchers)]
        started = time.perf_counter()
        await asyncio.gather(*(_submitter(client, numbers, report) for _ in range(clients)))
        report.seconds = time.perf_counter() - started
        done.set()
        await asyncio.gather(*searching)
    return report


async def find_marker(client: httpx.AsyncClient, headers: dict[str, str], number: int) -> list[int]:
    """The ids search returns for one submission's unique token."""
    response = await client.get("/api/complaints/search", params={"q": marker(number)}, headers=headers)
    response.raise_for_status()
    return [hit["id"] for hit in response.json()["hits"]]
