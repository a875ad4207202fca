"""The emulator as an ASGI application, for uvicorn."""
from __future__ import annotations

import asyncio
from typing import Any

from .app import EmulatorApp
from .http import MAX_BODY, Request, Response


class ASGIAdapter:
    def __init__(self, app: EmulatorApp) -> None:
        self.app = app

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
        outcome = self.app.handle(request)
        if outcome.delay:
            await asyncio.sleep(outcome.delay)
        if outcome.drop:
            raise ConnectionAbortedError("injected fault: connection dropped")
        await self._send(send, outcome.response)

    @staticmethod
    async def _send(send: Any, response: Response) -> None:
        await send({
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.all_headers()],
        })
        await send({"type": "http.response.body", "body": response.body})
