"""uvicorn's httptools protocol with the three bounds of a connection: a request deadline, an idle timeout
and a connection cap.

uvicorn times a connection out only once a response has gone (``timeout_keep_alive``): a connection that
never completes its first request, or sends a header a byte at a time (slowloris), is held forever, and
every byte it sends re-arms nothing. Enough of them exhaust the file descriptors, and then every normal
request fails at accept. So:

- **request deadline**: from the moment a connection opens, and from the first byte of each later
  request, the whole request (line, headers, body) must arrive within ``request_timeout`` seconds; else
  the emulator answers 408 (if it can still say something) and closes. Time spent by the emulator on its
  answer does not count.
- **idle timeout**: a kept-alive connection that has been answered and sends nothing more is closed
  ``idle_timeout`` seconds after its last answer went (uvicorn's keep-alive timer, which the server sets
  from this value: ``Emulator.idle_timeout``, ``smsconform emulator --idle-timeout``). Any byte after the
  answer stops that timer, so a byte that begins no request (a lone CRLF) starts the request deadline:
  a connection is always under one timer or the other while no answer is being computed.
- **connection cap**: at most ``max_connections`` connections are open (by default the descriptor limit
  less a reserve for SQLite, SMPP and callbacks). A new connection over the cap closes the connection
  that has waited longest without a request in progress (an idle keep-alive first, then a slow client
  still sending its request), never one whose answer is being computed: normal requests keep being
  served however many idle clients hold sockets.
"""
from __future__ import annotations

import asyncio
import resource
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

REQUEST_TIMEOUT = 10.0
IDLE_TIMEOUT = 30.0
DESCRIPTOR_RESERVE = 100   # SQLite (file, WAL, shared memory), listening sockets, SMPP, the callback client
MIN_CONNECTIONS = 32
REQUEST_TIMEOUT_ANSWER = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                          b"connection: close\r\ncontent-length: 16\r\n\r\nRequest Timeout\n")


def default_max_connections() -> int:
    """What the process's descriptor limit leaves for HTTP connections."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 10_000
    return max(MIN_CONNECTIONS, soft - DESCRIPTOR_RESERVE)


class OneWriteTransport:
    """The transport a response cycle writes through: the status line and headers wait for the first
    chunk of the body and go out with it, in one write (one system call) instead of two. uvicorn writes
    the headers the moment the application starts its answer; for a short answer that doubled the socket
    writes (issue 15: 19 % of a send's time). Everything else is the connection's own transport."""

    __slots__ = ("_transport", "_cycle", "_held", "_head_done")

    def __init__(self, transport: asyncio.Transport, cycle: Any) -> None:
        self._transport = transport
        self._cycle = cycle
        self._held: bytes | None = None
        self._head_done = False

    def write(self, data: bytes) -> None:
        if self._held is not None:
            data, self._held = self._held + data, None
        elif not self._head_done and self._cycle.response_started:
            self._head_done = True   # the first write once the answer started: its headers (a 100 Continue
            self._held = data        # goes before, at once)
            return
        self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def flush(self) -> None:
        if self._held is not None:
            data, self._held = self._held, None
            self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    request_timeout: float = REQUEST_TIMEOUT
    max_connections: int = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._receiving = False        # a request has begun and not yet fully arrived
        self._since = 0.0              # when the connection last began waiting (opened or answered)

    @classmethod
    def bounded(cls, request_timeout: float, max_connections: int) -> type["BoundedHttpToolsProtocol"]:
        """This protocol with its own bounds, as uvicorn's ``http`` setting takes a class."""
        return type(cls.__name__, (cls,), {"request_timeout": request_timeout, "max_connections": max_connections})

    # -- the request deadline -------------------------------------------------------------------------
    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:   # nothing answered yet: say why it ends
            self.transport.write(REQUEST_TIMEOUT_ANSWER)
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._since = self.loop.time()
        self._arm()
        self._keep_under_cap()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)   # stops the idle timer, whatever the bytes are
        if (self._deadline is None and not self._receiving and not self.transport.is_closing()
                and (self.cycle is None or self.cycle.response_complete)):
            self._arm()               # bytes that began no request (a CRLF the parser skips): the deadline runs

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._receiving = True
        self._arm()

    def on_message_complete(self) -> None:
        self._receiving = False
        self._disarm()
        super().on_message_complete()

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.cycle is not None and not isinstance(self.cycle.transport, OneWriteTransport):
            one_write = self.cycle.transport = OneWriteTransport(self.transport, self.cycle)
            answered = self.cycle.on_response

            def flush_then_answered() -> None:  # an answer with no body write (HEAD) sends its headers here
                one_write.flush()
                answered()

            self.cycle.on_response = flush_then_answered

    def on_response_complete(self) -> None:
        self._since = self.loop.time()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    # -- the connection cap ---------------------------------------------------------------------------
    def _waiting(self) -> bool:
        """No answer of this connection's is being computed (idle, or its request still arriving): closing
        it loses no work."""
        return not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete
                                                    or self._receiving)

    def _keep_under_cap(self) -> None:
        open_ = [c for c in self.connections if c.transport is not None and not c.transport.is_closing()]
        if len(open_) <= self.max_connections:
            return
        others = [c for c in open_ if c is not self and isinstance(c, BoundedHttpToolsProtocol) and c._waiting()]
        if not others:   # every other connection is being answered: this one is refused
            self.transport.close()
            return
        victim = min(others, key=lambda c: (c._receiving, c._since))
        victim._disarm()
        victim.transport.close()
