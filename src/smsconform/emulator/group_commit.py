"""Group commit: the provider requests that arrive in one turn of the event loop are handled together,
inside one SQLite transaction, and answered only after its commit.

BEGIN IMMEDIATE and COMMIT cost a single send more than everything else it writes (issue 15: SQLite was
28 % of a send's time, most of it in those two statements). The server hands every provider request to
`GroupCommit.handle` instead of handling it at once; the first request of a turn schedules a flush for
the loop's next turn, by which time the other requests that arrived with it are queued too. The flush is
one synchronous callback: nothing else on the loop (SMPP, the background loop, the control API) runs
while the group's transaction is open, so nothing is ever answered before the commit that makes it
durable, and a request that fails is undone alone (Store.transaction is a savepoint inside a group).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from .app import EmulatorApp, Outcome
from .http import Request

log = logging.getLogger("smsconform.emulator")

# A group is bounded, so one burst cannot hold the loop (and every other client) for long.
MAX_GROUP = 256


class GroupCommit:
    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self._queued: list[tuple[Request, asyncio.Future[Outcome]]] = []
        self._scheduled = False

    async def handle(self, request: Request) -> Outcome:
        """The request's outcome, once the transaction that holds its writes is committed."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Outcome] = loop.create_future()
        self._queued.append((request, answer))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await answer

    def _flush(self) -> None:
        group, self._queued = self._queued[:MAX_GROUP], self._queued[MAX_GROUP:]
        self._scheduled = bool(self._queued)
        if self._scheduled:
            asyncio.get_running_loop().call_soon(self._flush)
        outcomes: list[Outcome | BaseException] = []
        try:
            with self.app.core.store.group():
                for request, _ in group:
                    try:
                        outcomes.append(self.app.handle(request))
                    except Exception as exc:  # app.handle answers its own failures; this is a last resort
                        outcomes.append(exc)
        except Exception:  # the commit failed: nothing of the group is stored, so nothing is a success
            log.exception("group commit failed; its %d requests are answered as failures", len(group))
            outcomes = [Outcome(self.app.failure(request)) for request, _ in group]
        for (_, answer), outcome in zip(group, outcomes):
            if answer.cancelled():
                continue
            if isinstance(outcome, BaseException):
                answer.set_exception(outcome)
            else:
                answer.set_result(outcome)
