"""Shared fixtures of the project's own tests: a real emulator server on a free loopback port."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from zeep.transports import Transport

from smsconform.emulator.server import Emulator


class OfflineTransport(Transport):
    """zeep's transport for contract files: local files only, so a WSDL must be self-contained (a stray
    import of a remote schema fails the test instead of silently reaching the network)."""

    def load(self, url: str) -> bytes:
        if urlsplit(url).scheme not in ("", "file"):
            raise AssertionError(f"the WSDL made zeep fetch {url}")
        return super().load(url)


@pytest.fixture(scope="session")
def offline_transport() -> Transport:
    return OfflineTransport()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """A fresh emulator: its own SQLite file, a frozen clock, HTTP on a free port (SMPP off)."""
    emu = Emulator(db=tmp_path / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    with emu.running():
        yield emu


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=10.0, trust_env=False) as client:
        yield client


@pytest.fixture
def control(http: httpx.Client):
    """Call the control API: control("POST", "/clock", {"advance": 10}) -> parsed JSON."""

    def call(method: str, route: str, body: dict | None = None, **params: str):
        response = http.request(method, f"/_emulator{route}", json=body, params=params or None)
        assert response.status_code == 200, response.text
        return response.json()

    return call


class Receiver:
    """A loopback callback receiver: records each GET's query (and, as _path and _query, its raw parts) and
    answers `status` (200; a test sets 500 to play a receiver that is down, and sets it back)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.status = 200
        received, receiver = self.calls, self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                received.append(dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True)) |
                                {"_path": urlsplit(self.path).path, "_query": urlsplit(self.path).query})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 5.0) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        while len(self.calls) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.calls)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.server.shutdown()
