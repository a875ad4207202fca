"""A loopback HTTP receiver for the reports a client under test sends back (Kannel's dlr-url calls)."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit


class HttpReceiver:
    """Records every GET as (path, query parameters); answers 200 with an empty body."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                with receiver._lock:
                    receiver.requests.append((parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="interop-receiver", daemon=True)
        self._thread.start()

    def received(self) -> list[tuple[str, dict[str, str]]]:
        with self._lock:
            return list(self.requests)

    def wait_until(self, done: Callable[[list[tuple[str, dict[str, str]]]], bool],
                   timeout: float) -> list[tuple[str, dict[str, str]]]:
        """What was received once ``done`` holds for it, or when ``timeout`` seconds have passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done(self.received()):
                break
            time.sleep(0.05)
        return self.received()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
