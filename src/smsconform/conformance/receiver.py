"""The suite's own callback receiver: a small threaded HTTP server on a free loopback port.

The callback family must see what a provider really sends (method, path, raw query string, body), not what
a client library would make of it, so the receiver records every request verbatim and answers 200. It can
also fail its next requests on purpose, to check that a provider retries. Loopback only: the suite never
listens on another interface.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    """One request as it arrived."""

    seq: int
    method: str
    path: str
    raw_query: str
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    body: str
    at: float  # time.monotonic() on arrival: the order the provider delivered in

    def params(self) -> dict[str, str]:
        """The query parameters as a dict (the last value of a repeated name wins)."""
        return dict(self.query)

    def names(self) -> list[str]:
        return [name for name, _ in self.query]


@dataclass
class _State:
    lock: threading.Condition = field(default_factory=threading.Condition)
    received: list[Received] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 500


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        split = urlsplit(self.path)
        state = self.server.state
        with state.lock:
            failing = state.fail_next > 0
            if failing:
                state.fail_next -= 1
            else:
                state.received.append(Received(
                    seq=len(state.received) + 1, method=self.command, path=split.path,
                    raw_query=split.query,
                    query=tuple(parse_qsl(split.query, keep_blank_values=True, errors="replace")),
                    headers={k: v for k, v in self.headers.items()}, body=body, at=time.monotonic(),
                ))
                state.lock.notify_all()
        status = state.fail_status if failing else 200
        payload = b"FAIL" if failing else b"OK"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _handle

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        """Silent: the suite reports what it received, not an access log."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: _State) -> None:
        super().__init__((HOST, 0), _Handler)
        self.state = state


class CallbackReceiver:
    """Start with ``with CallbackReceiver() as rx:``; give providers ``rx.url("/status")``."""

    def __init__(self) -> None:
        self._state = _State()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life -----------------------------------------------------------------------------------------
    def start(self) -> "CallbackReceiver":
        self._server = _Server(self._state)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="smsconform-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> "CallbackReceiver":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not running")
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://{HOST}:{self.port}{path if path.startswith('/') else '/' + path}"

    # -- behaviour ------------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` requests with ``status`` (not recorded), to make a provider retry."""
        with self._state.lock:
            self._state.fail_next, self._state.fail_status = count, status

    def clear(self) -> None:
        with self._state.lock:
            self._state.received.clear()

    # -- what arrived ---------------------------------------------------------------------------------
    def received(self, path: str | None = None) -> list[Received]:
        with self._state.lock:
            items = list(self._state.received)
        return [r for r in items if path is None or r.path == path]

    def __iter__(self) -> Iterator[Received]:
        return iter(self.received())

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 5.0) -> list[Received]:
        """Wait until ``predicate(everything received)`` holds, or ``timeout`` seconds; returns what came."""
        deadline = time.monotonic() + timeout
        with self._state.lock:
            while not predicate(list(self._state.received)):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._state.lock.wait(min(left, 0.1))
            return list(self._state.received)

    def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> list[Received]:
        """Wait until nothing new has arrived for ``quiet`` seconds (so that no late callback is missed)."""
        deadline = time.monotonic() + timeout
        count = -1
        while time.monotonic() < deadline:
            now = len(self.received())
            if now == count:
                break
            count = now
            time.sleep(quiet)
        return self.received()
