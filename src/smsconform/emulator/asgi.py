"""The emulator as an ASGI application, for uvicorn."""
from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from .app import EmulatorApp
from .group_commit import GroupCommit
from .http import MAX_BODY, Request, Response

EVENTS_PATH = "/_emulator/events"
CLOCK_PATH = "/_emulator/clock"
UNGROUPED = ("/_emulator", "/_console")
EVENTS_POLL = 0.2          # how often a stream looks for a change (seconds)
EVENTS_KEEPALIVE = 15.0    # a comment line this often keeps proxies and browsers from closing the stream
EVENTS_LIFETIME = 300.0    # then the stream ends; EventSource reconnects by itself



class ASGIAdapter:
    def __init__(self, app: EmulatorApp, group_commit: bool = True) -> None:
        self.app = app
        # Provider requests go through a group commit (group_commit.py); the control API and the console
        # are answered at once, as they reset, move the clock and read.
        self.groups = GroupCommit(app) if group_commit else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks, size, too_big = [], 0, False
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                return
            body = event.get("body", b"")
            size += len(body)
            if size > MAX_BODY:
                too_big = True
            elif body:
                chunks.append(body)
            if not event.get("more_body"):
                break
        if too_big:
            response = Response.text("Request Entity Too Large", 413)
            await self._send(send, response)
            return
        request = Request(
            method=scope["method"],
            path=scope["path"],
            query_string=scope.get("query_string", b""),
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])},
            body=b"".join(chunks),
        )
        if request.method == "GET" and request.path == EVENTS_PATH:
            await self._events(request, receive, send)
            return
        if self.groups is not None and not request.path.startswith(UNGROUPED):
            outcome = await self.groups.handle(request)
        else:
            outcome = self.app.handle(request)
        if request.method == "POST" and request.path.rstrip("/") == CLOCK_PATH and outcome.response.status == 200 \
                and self.app.deliver_due is not None:
            await self.app.deliver_due()  # the callbacks a move made due have arrived when it answers
        if outcome.delay:
            await asyncio.sleep(outcome.delay)
        if outcome.drop:
            raise ConnectionAbortedError("injected fault: connection dropped")
        await self._send(send, outcome.response)

    async def _events(self, request: Request, receive: Any, send: Any) -> None:
        """Server-sent events: one ``change`` event each time the control API's version changes.

        The stream is GET /_emulator/version pushed: it is first asked of the control API like any other
        request, so whatever the control API refuses (a foreign origin, a missing token) is refused here.
        """
        # the query goes along: EventSource sets no header, so the console sends the token as ?token= (guard.py)
        first = self.app.handle(Request("GET", "/_emulator/version", request.query_string, request.headers))
        if first.response.status != 200:
            await self._send(send, first.response)
            return
        inspector = next(d for d in self.app.dialects if d.name == "control").inspector
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store")]})
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.create_task(watch())
        last, said, opened = None, time.monotonic(), time.monotonic()
        try:
            while not gone.is_set() and not self.app.closing and time.monotonic() - opened < EVENTS_LIFETIME:
                state = inspector.version()
                if state["version"] != last:
                    last, said = state["version"], time.monotonic()
                    chunk = f"event: change\ndata: {json.dumps(state)}\n\n".encode()
                elif time.monotonic() - said > EVENTS_KEEPALIVE:
                    said, chunk = time.monotonic(), b": keep-alive\n\n"
                else:
                    chunk = b""
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(gone.wait(), EVENTS_POLL)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (OSError, RuntimeError):
            pass  # the browser went away mid-write
        finally:
            watcher.cancel()

    @staticmethod
    async def _send(send: Any, response: Response) -> None:
        await send({
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.all_headers()],
        })
        await send({"type": "http.response.body", "body": response.body})
