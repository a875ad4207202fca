"""Pacing the calls a dialect may make once a minute (painel getstatus/getbalance, 002 § Obtendo a campanha,
§ Saldo do usuário: "só poderá ser solicitado de 1 em 1 minuto"), shared by the painel and servicesms
clients, which query the same service: the client keeps that pace itself, as a conformant client must,
letting the target's clock move (its control API) or waiting for real; the limit family turns pacing off to
cross the limit.

A client using it sets ``control_http`` (an httpx client for the control API). The last call of each
query is kept per target, account and *group* (painel getstatus and ServiceSms GetStatus are one group:
the service counts them as one), for every client of the run.
"""
from __future__ import annotations

import time
from typing import Any


class OnceAMinute:
    dialect: str
    target: Any
    control_http: Any
    RATE_GROUP: dict[str, str] = {}          # operation -> the query it counts as (default: itself)
    _last_call: dict[tuple[str, str, str], float] = {}   # (target, group, account) -> when, shared on purpose

    def _key(self, operation: str, account: str) -> tuple[str, str, str]:
        return (self.target.name, self.RATE_GROUP.get(operation, operation), account)

    def _mark(self, operation: str, account: str) -> None:
        """Note a paced call (after it is sent), so the next one of its group waits its window."""
        if self._rate_window(operation) is not None:
            OnceAMinute._last_call[self._key(operation, account)] = self.target_now()

    def _rate_window(self, operation: str) -> float | None:
        """Seconds between two calls of ``operation`` by one account, from the catalog's per_minute limits."""
        from ...contracts import load_contracts

        for lim in load_contracts().catalog.limits:
            if lim.dialect == self.dialect and operation in lim.operations and lim.unit == "per_minute":
                calls = int(lim.max) if lim.max else 1
                return 60.0 / max(calls, 1)
        return None

    def target_now(self) -> float:
        control = self.target.time.control_url
        if self.target.time.mode == "control" and control:
            return float(self.control_http.get(f"{control.rstrip('/')}/clock").json()["epoch"])
        return time.time()

    def let_pass(self, seconds: float) -> None:
        """Let ``seconds`` pass on the target: move its clock, or wait for real."""
        if seconds <= 0:
            return
        control = self.target.time.control_url
        if self.target.time.mode == "control" and control:
            response = self.control_http.post(f"{control.rstrip('/')}/clock", json={"advance": seconds})
            response.raise_for_status()
        else:
            time.sleep(seconds)

    def _pace(self, operation: str, account: str) -> None:
        window = self._rate_window(operation)
        if window is None:
            return
        if self.target.time.mode == "control":
            # Other callers share the target (the schema family fuzzes getstatus too), so this client cannot
            # know the last call: a moved clock makes a whole window pass at no cost.
            self.let_pass(window + 1)
            return
        last = OnceAMinute._last_call.get(self._key(operation, account))
        if last is not None:
            waited = self.target_now() - last
            if waited < window:
                self.let_pass(window - waited + 1)

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
