"""A local stand-in for the price sites: a real HTTP server on 127.0.0.1 in a thread.

It answers ``POST /getPriceData.html`` like Xinfadi (form paging, date filter, the real JSON shape),
serves ``/robots.txt`` and any static pages given to it, and logs every request it saw.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FILES = Path(__file__).parent / "files"
ROBOTS = "User-agent: *\nDisallow: /private/\n"


def saved_xinfadi_rows() -> list[dict[str, Any]]:
    """The rows of the saved Xinfadi pages, in order (the repeated row included)."""
    rows: list[dict[str, Any]] = []
    for name in ("xinfadi_page1.json", "xinfadi_page2.json"):
        rows.extend(json.loads((FILES / name).read_text(encoding="utf-8"))["list"])
    return rows


@dataclass
class FixtureSite:
    rows: list[dict[str, Any]] = field(default_factory=saved_xinfadi_rows)
    pages: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    robots: str = ROBOTS
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    url: str = ""
    # The first ``failures`` price requests answer 503 (a struggling site), the rest succeed.
    failures: int = 0
    _filtered: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    def price_page(self, form: dict[str, str]) -> dict[str, Any]:
        limit = max(1, int(form.get("limit", "20") or 20))
        current = max(1, int(form.get("current", "1") or 1))
        start = form.get("pubDateStartTime", "").replace("/", "-")
        end = form.get("pubDateEndTime", "").replace("/", "-")
        if (start, end) not in self._filtered:
            self._filtered[start, end] = [
                row
                for row in self.rows
                if (not start or row["pubDate"][:10] >= start) and (not end or row["pubDate"][:10] <= end)
            ]
        rows = self._filtered[start, end]
        pages = max(1, math.ceil(len(rows) / limit))
        chunk = rows[(current - 1) * limit : current * limit] if current <= pages else []
        return {"current": current, "limit": limit, "count": len(rows), "list": chunk}


def _handler(site: FixtureSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            site.requests.append(("GET", self.path, self.headers.get("User-Agent", "")))
            path = urlsplit(self.path).path
            if path == "/robots.txt":
                self._send(200, "text/plain", site.robots.encode())
            elif self.path in site.pages or path in site.pages:
                status, content_type, body = site.pages.get(self.path) or site.pages[path]
                self._send(status, content_type, body)
            else:
                self._send(404, "text/html; charset=utf-8", "<h1>404 页面不存在</h1>".encode())

        def do_POST(self) -> None:
            site.requests.append(("POST", self.path, self.headers.get("User-Agent", "")))
            length = int(self.headers.get("Content-Length", "0"))
            form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
            if urlsplit(self.path).path == "/getPriceData.html" and site.failures > 0:
                site.failures -= 1
                self._send(503, "text/html; charset=utf-8", "<h1>服务器繁忙</h1>".encode())
            elif urlsplit(self.path).path == "/getPriceData.html":
                body = json.dumps(site.price_page(form), ensure_ascii=False).encode()
                self._send(200, "application/json;charset=UTF-8", body)
            else:
                self._send(404, "text/html; charset=utf-8", b"not found")

    return Handler


@contextmanager
def serve(site: FixtureSite | None = None) -> Iterator[FixtureSite]:
    """Run ``site`` on a free port of 127.0.0.1 for the duration of the block."""
    site = site or FixtureSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
