"""Serve the emulator: HTTP (all dialects and the control API) on one port, SMPP on another, and the
background work that moves time-driven state (status changes, callback deliveries)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import uvicorn

from . import callback_targets
from .app import EmulatorApp
from .asgi import ASGIAdapter
from .bounded_http import (IDLE_TIMEOUT, REQUEST_TIMEOUT, BoundedHttpToolsProtocol,
                           default_max_connections)
from .core import Core
from .settle_pace import SettlePace
from .guard import TOKEN_HEADER, ControlGuard, is_loopback

log = logging.getLogger("smsconform.emulator")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 2738
DEFAULT_SMPP_PORT = 9500


class CallbackSender:
    """Delivers the outbox: every due callback by HTTP, retried with back-off while the receiver fails."""

    def __init__(self, core: Core, concurrency: int = 16) -> None:
        self.core = core
        self.concurrency = concurrency
        self._round = asyncio.Lock()

    async def run_once(self, client: httpx.AsyncClient) -> int:
        # The background loop and a clock move's delivery both call this: one round at a time, so no
        # callback is picked twice.
        async with self._round:
            return await self._round_once(client)

    async def _round_once(self, client: httpx.AsyncClient) -> int:
        due = self.core.due_callbacks(limit=self.concurrency * 4)
        if not due:
            return 0
        semaphore = asyncio.Semaphore(self.concurrency)

        async def deliver(item: dict[str, Any]) -> tuple[int, str | None, str | None]:
            async with semaphore:
                why = callback_targets.refusal(item["url"])
                if why is not None:
                    return item["id"], f"not called: {why}", None
                try:
                    if item["method"] == "POST":
                        response = await client.post(item["url"], content=item["body"] or "")
                    else:
                        response = await client.get(item["url"])
                except httpx.HTTPError as exc:
                    return item["id"], f"{type(exc).__name__}: {exc}", None
                answer = f"HTTP {response.status_code} {response.text[:200]}".rstrip()
                if 200 <= response.status_code < 300:
                    return item["id"], None, answer
                return item["id"], f"HTTP {response.status_code}", answer

        # due_callbacks holds back a message's later callbacks while an earlier one is pending: each
        # message's callbacks are delivered one at a time, in order, and different messages' concurrently.
        for callback_id, error, answer in await asyncio.gather(*(deliver(i) for i in due)):
            self.core.callback_done(callback_id, error, answer)
        return len(due)


def warn_if_exposed(host: str, token: str | None) -> None:
    """Anyone who reaches a non-loopback address can reset the emulator and read its journal: say so, loudly."""
    if is_loopback(host) or token:
        return
    log.warning("\n" + "!" * 100 + "\n"
                "WARNING: the emulator listens on %s, reachable from other machines, and its control API "
                "(/_emulator/: reset,\nfaults, callbacks, the journal) has no token. Anyone who reaches the "
                "port can steer it. Give --control-token\n(or SMSCONFORM_CONTROL_TOKEN) and send it in the "
                "%s header, or listen on 127.0.0.1.\n" + "!" * 100, host, TOKEN_HEADER.title())


# Lazy messages (Core.settle) are brought up to the clock in chunks of at most SETTLE_CHUNK messages, one a
# loop turn, after a clock move (Core.backlog) and whenever no request came for IDLE_SECONDS: a chunk takes
# about settle_pace.BUDGET_SECONDS of wall time, so a request arriving meanwhile waits at most that.
IDLE_SECONDS = 0.25
# A clock move answers once the callbacks it made due are delivered, or after this long (a receiver that is
# slow or down is retried later with back-off, as always).
DELIVER_ON_MOVE_SECONDS = 5.0


@dataclass
class Emulator:
    """Everything `smsconform emulator` runs, startable in the foreground or in a background thread."""

    db: str | Path = ":memory:"
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    smpp_port: int = 0
    frozen: bool = False
    seed: bool = True
    control_token: str | None = None  # required in X-Emulator-Token by the control API when set (guard.py)
    request_timeout: float = REQUEST_TIMEOUT       # a whole request must arrive within it (bounded_http.py)
    idle_timeout: float = IDLE_TIMEOUT             # an answered connection silent this long is closed
    max_connections: int | None = None             # default: what the descriptor limit leaves
    core: Core = field(init=False)
    app: EmulatorApp = field(init=False)

    def __post_init__(self) -> None:
        guard = ControlGuard.for_bind(self.host, self.control_token)
        self.core = Core(self.db, seed=self.seed, frozen=self.frozen)
        self.app = EmulatorApp(self.core, control_guard=guard)
        warn_if_exposed(self.host, self.control_token)
        self._server: uvicorn.Server | None = None
        self._smpp: Any = None
        self._started = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _background(self) -> None:
        sender = CallbackSender(self.core)
        pace = SettlePace()  # chunks sized by the wall time they take (settle_pace.py)
        async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:

            async def deliver_due(budget: float = DELIVER_ON_MOVE_SECONDS) -> None:
                """Deliver what is due now, round after round (a delivered status can make the next one of
                the same message due), for at most ``budget`` seconds."""
                deadline = asyncio.get_running_loop().time() + budget
                while await sender.run_once(client) and asyncio.get_running_loop().time() < deadline:
                    pass

            self.app.deliver_due = deliver_due
            while True:
                settled = 0
                try:
                    self.core.tick(settle=False)
                    busy = await sender.run_once(client)
                    if self.core.backlog or self.app.idle_for() > IDLE_SECONDS:
                        started = time.perf_counter()
                        settled = self.core.settle(limit=pace.limit)
                        if settled:
                            pace.took(time.perf_counter() - started)
                        self.core.backlog = self.core.backlog and bool(settled)
                except Exception:  # keep serving; the failure is logged, the work retried next turn
                    log.exception("background work failed")
                    busy = 0
                await asyncio.sleep(0 if settled else 0.02 if busy else 0.1)

    async def serve(self, install_signal_handlers: bool = True) -> None:
        protocol = BoundedHttpToolsProtocol.bounded(self.request_timeout,
                                                    self.max_connections or default_max_connections())
        config = uvicorn.Config(
            ASGIAdapter(self.app), host=self.host, port=self.port, loop="none", http=protocol,
            lifespan="off", access_log=False, log_level="warning", server_header=False,
            timeout_keep_alive=self.idle_timeout,  # type: ignore[arg-type]  (call_later takes a float)
            proxy_headers=False,  # loopback, no proxy: trust no X-Forwarded-*
        )
        self._server = uvicorn.Server(config)
        # uvicorn re-raises a captured SIGTERM after shutdown, killing the process before it can say it
        # stopped; our own handlers just ask the server to finish.
        self._server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        if install_signal_handlers:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.stop)
        background = asyncio.create_task(self._background())
        if self.smpp_port:
            from .smpp.server import SmppServer

            self._smpp = SmppServer(self.core, self.host, self.smpp_port)
            await self._smpp.start()
            self.smpp_port = self._smpp.port
        watcher = asyncio.create_task(self._announce())
        try:
            await self._server.serve()
        finally:
            background.cancel()
            watcher.cancel()
            if self._smpp is not None:
                await self._smpp.stop()
            self.core.store.close()

    async def _announce(self) -> None:
        while self._server is not None and not self._server.started:
            await asyncio.sleep(0.01)
        if self._server is not None and self._server.servers:
            sockets = self._server.servers[0].sockets
            if sockets:
                self.port = sockets[0].getsockname()[1]
        self._started.set()

    def run(self) -> None:
        """Serve in the foreground until SIGINT or SIGTERM."""
        try:
            import uvloop

            uvloop.install()
        except ImportError:  # pragma: no cover - uvloop is optional off Linux
            pass
        asyncio.run(self.serve())

    def stop(self) -> None:
        self.app.closing = True
        if self._server is not None:
            self._server.should_exit = True

    @contextlib.contextmanager
    def running(self, timeout: float = 10.0) -> Iterator["Emulator"]:
        """Serve in a background thread (port 0 picks a free port) for the length of a with-block."""
        errors: list[BaseException] = []

        def target() -> None:
            try:
                asyncio.run(self.serve(install_signal_handlers=False))
            except BaseException as exc:  # surfaced to the caller below
                errors.append(exc)
                self._started.set()

        thread = threading.Thread(target=target, name="smsconform-emulator", daemon=True)
        thread.start()
        if not self._started.wait(timeout) or errors:
            raise RuntimeError(f"the emulator did not start: {errors[0] if errors else 'timeout'}")
        try:
            yield self
        finally:
            self.stop()
            thread.join(timeout)
