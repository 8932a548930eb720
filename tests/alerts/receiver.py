"""A real HTTP receiver on 127.0.0.1 that checks webhooks the way docs/webhooks.md tells receivers to.

It verifies the HMAC signature and the timestamp, drops repeats by ``Idempotency-Key`` (counting them),
and can be taken down and brought back on the same port. Requests under ``/apprise`` are taken as
Apprise ``json://`` posts, which carry no signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def verify(secret: str, headers: Any, body: bytes, now: float) -> str | None:
    """None if the request is authentic and fresh, else why not (the receiver example in the docs)."""
    timestamp = headers.get("X-FairMarket-Timestamp", "")
    signature = headers.get("X-FairMarket-Signature", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return "stale or missing timestamp"
    expected = (
        "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    if not hmac.compare_digest(expected, signature):
        return "bad signature"
    return None


class Receiver:
    def __init__(self, secret: str = "", *, clock_skew: float = 0.0) -> None:
        self.secret = secret
        self.clock_skew = clock_skew
        self.port = free_port()
        self.lock = threading.Lock()
        self.documents: dict[str, dict[str, Any]] = {}
        self.arrivals: Counter[str] = Counter()
        self.rejected: list[str] = []
        self.apprise: list[dict[str, Any]] = []
        self.answer_status = 200
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/fairmarket"

    @property
    def apprise_url(self) -> str:
        return f"json://127.0.0.1:{self.port}/apprise"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.handle(self.path, self.headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, path: str, headers: Any, body: bytes) -> int:
        with self.lock:
            if path.startswith("/apprise"):
                self.apprise.append(json.loads(body))
                return 200
            if self.answer_status != 200:
                return self.answer_status
            problem = verify(self.secret, headers, body, time.time() + self.clock_skew)
            if problem:
                self.rejected.append(problem)
                return 401
            key = headers.get("Idempotency-Key", "")
            self.arrivals[key] += 1
            self.documents.setdefault(key, json.loads(body))
            return 200
