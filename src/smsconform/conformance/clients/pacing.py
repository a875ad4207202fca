"""Pacing the calls a dialect may make once a minute (painel getstatus/getbalance, 002 § Obtendo a campanha,
§ Saldo do usuário: "só poderá ser solicitado de 1 em 1 minuto"), shared by the painel and servicesms
clients, which query the same service: the client keeps that pace itself, as a conformant client must,
letting the target's clock move (its control API) or, in real time, taking turns from the run's one pacer
(conformance/pacer.py), so no test is refused because another test, client or worker called first; the
limit family turns pacing off to cross the limit (its calls are still recorded as made).

The control API is reached through the run's one client of it (control.control_of). Turns are kept per target,
account and *group* (painel getstatus and ServiceSms GetStatus are one group: the service counts them as
one), for every client of the run.
"""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from ..control import control_of
from ..pacer import TurnTooFar, account_key, pacer_for
from .base import NotExercised

PACED_SERVICE = "painel"   # the service whose once-a-minute marks both interfaces share


class OnceAMinute:
    dialect: str
    target: Any
    RATE_GROUP: dict[str, str] = {}          # operation -> the query it counts as (default: itself)

    @property
    def pacer(self) -> Any:
        """The run's record of turns for this service's host: api.ashx and ServiceSms.asmx are one service."""
        parts = urlsplit(self.spec.base_url or "")  # type: ignore[attr-defined]
        return pacer_for(f"{parts.scheme}://{parts.netloc}/{PACED_SERVICE}")

    def _rate_window(self, operation: str) -> float | None:
        """Seconds between two calls of ``operation`` by one account, from the catalog's per_minute limits."""
        from ...contracts import load_contracts

        for lim in load_contracts().catalog.limits:
            if lim.dialect == self.dialect and operation in lim.operations and lim.unit == "per_minute":
                calls = int(lim.max) if lim.max else 1
                return 60.0 / max(calls, 1)
        return None

    def balance_is_paced(self) -> bool:
        return self.target.time.mode != "control" and self._rate_window("getbalance") is not None

    def pace_key(self, operation: str, account: str = "main", credentials: dict[str, str] | None = None) -> str:
        """One key per account and query group, whichever interface asks: the login is ``lgn`` on api.ashx
        and ``user`` on ServiceSms.asmx."""
        creds = credentials if credentials is not None else self.credentials(account)  # type: ignore[attr-defined]
        login = creds.get("lgn") if creds.get("lgn") is not None else creds.get("user")
        group = self.RATE_GROUP.get(operation, operation)
        return account_key(PACED_SERVICE, group, {"login": str(login), "pwd": str(creds.get("pwd"))})

    def target_now(self) -> float:
        control = control_of(self.target)  # type: ignore[attr-defined]
        return control.now() if control is not None else time.time()

    def let_pass(self, seconds: float) -> None:
        """Let ``seconds`` pass on the target: move its clock, or wait for real."""
        if seconds <= 0:
            return
        control = control_of(self.target)  # type: ignore[attr-defined]
        if control is not None:
            control.advance(seconds)
        else:
            time.sleep(seconds)

    def pace(self, operation: str, account: str = "main", credentials: dict[str, str] | None = None) -> None:
        """Wait for this account's next turn of a rate-limited ``operation`` (nothing for other operations).

        Control mode: other callers share the target (the schema family fuzzes getstatus too), so a moved
        clock makes a whole window pass at no cost. Real mode: the run's pacer books the turn, and a turn
        further than ``time.max_wait`` away makes the test not exercised, naming the limit."""
        window = self._rate_window(operation)
        if window is None:
            return
        if self.target.time.mode == "control":
            self.let_pass(window + 1)
            return
        try:
            self.pacer.wait_turn(self.pace_key(operation, account, credentials), window, self.target.time.max_wait)
        except TurnTooFar as exc:
            raise NotExercised(f"rate limit: {exc}") from None


    def _mark(self, operation: str, account: str = "main", credentials: dict[str, str] | None = None) -> None:
        """Note a paced call (after it is sent), so the next one of its group waits its window."""
        if self.target.time.mode != "control" and self._rate_window(operation) is not None:
            self.pacer.made(self.pace_key(operation, account, credentials))

    def wait_until_final(self, campaign: int, minutes: int = 6) -> None:
        """Let a minute pass at a time until every destination of ``campaign`` shows a final status of
        machines.yaml painel.message (both clients read painel's status texts); AssertionError if never."""
        from ...contracts import load_contracts

        finals = set(load_contracts().catalog.machine("painel.message").finals)
        for _ in range(minutes):
            self.let_pass(60)
            if set(self.statuses(campaign).values()) <= finals:  # type: ignore[attr-defined]
                return
        raise AssertionError(f"campaign {campaign} never reached a final status to build the state")
