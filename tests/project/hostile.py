"""Hostile loopback targets for certify's own tests: one that never answers, one that answers garbage, one
that closes mid-answer, one that redirects. Raw sockets, so each misbehaves exactly as a broken sandbox
would, below any HTTP library's politeness."""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator

BEHAVIOURS = ("silent", "garbage", "cut_off", "redirect")


@dataclass
class Listener:
    """A TCP listener on a free loopback port, answering each connection with ``answer(request bytes)``
    (None: keep the connection open and say nothing)."""

    answer: Callable[[bytes], bytes | None]
    requests: int = 0
    sock: socket.socket = field(default_factory=socket.socket)
    _held: list[socket.socket] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(2.0)
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        if data:
            self.requests += 1
        reply = self.answer(data) if data else None
        if reply is None:
            self._held.append(conn)  # never answers, never closes
            return
        try:
            conn.sendall(reply)
        except OSError:
            pass
        conn.close()

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        for conn in self._held:
            conn.close()


def answers(behaviour: str, elsewhere: str = "") -> Callable[[bytes], bytes | None]:
    if behaviour == "silent":
        return lambda request: None
    if behaviour == "garbage":
        return lambda request: b"\x00\xff\xfe garbage \x1b[31m not http at all\r\n\r\n"
    if behaviour == "cut_off":
        return lambda request: (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4000\r\n\r\n1;"
                                b"0123456789abcdef")
    if behaviour == "redirect":
        return lambda request: (f"HTTP/1.1 302 Found\r\nLocation: {elsewhere}/stolen\r\nContent-Length: 0\r\n"
                                "Connection: close\r\n\r\n").encode()
    raise ValueError(behaviour)


def hostile(behaviour: str) -> Iterator[tuple[Listener, Listener]]:
    """(the hostile target, the second listener a redirect points at: it must receive nothing)."""
    second = Listener(lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    target = Listener(answers(behaviour, second.url))
    try:
        yield target, second
    finally:
        target.close()
        second.close()
