"""A keep-alive HTTP/1.1 load generator on raw asyncio sockets, light enough to measure a server on the
same two cores: it sends one prepared request per connection at a time, reads the answer by its
Content-Length, and counts answers. Every answer must be 200 and pass the caller's check, or the round
fails: a benchmark that counted refusals as sends would measure nothing.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Callable


@dataclass
class Round:
    answers: int
    seconds: float
    failures: int
    first_failure: bytes = b""

    @property
    def rate(self) -> float:
        return self.answers / self.seconds


async def _connection(host: str, port: int, request: bytes, stop_at: float, check: Callable[[bytes], bool],
                      totals: list[int], failures: list[bytes]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200") or not check(body):
                failures.append(head + body)
            totals[0] += 1
    finally:
        writer.close()


async def _run(host: str, port: int, request: bytes, connections: int, seconds: float,
               check: Callable[[bytes], bool]) -> Round:
    totals, failures = [0], []
    started = time.monotonic()
    await asyncio.gather(*(_connection(host, port, request, started + seconds, check, totals, failures)
                           for _ in range(connections)))
    return Round(totals[0], time.monotonic() - started, len(failures), failures[0] if failures else b"")


def load(host: str, port: int, request: bytes, connections: int, seconds: float,
         check: Callable[[bytes], bool] = lambda body: True) -> Round:
    """Answers per second of one prepared request over ``connections`` keep-alive connections."""
    try:
        import uvloop

        return uvloop.run(_run(host, port, request, connections, seconds, check))
    except ImportError:  # pragma: no cover - uvloop is optional off Linux
        return asyncio.run(_run(host, port, request, connections, seconds, check))


def get(path: str, host: str = "127.0.0.1", headers: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}\r\n".encode()


def post(path: str, body: bytes, content_type: str, host: str = "127.0.0.1", headers: str = "") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n{headers}\r\n").encode() + body
