"""A client of an emulator-like control API: how the suite moves time and sets state on a target."""
from __future__ import annotations

import functools
from typing import Any

import httpx

from ..emulator.guard import TOKEN_HEADER, env_token


class ControlClient:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        """``token``: what an emulator started with --control-token wants (default $SMSCONFORM_CONTROL_TOKEN)."""
        self.base_url = base_url.rstrip("/")
        token = token or env_token()
        self.http = httpx.Client(timeout=30.0, trust_env=False, headers={TOKEN_HEADER: token} if token else None)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        response = self.http.request(method, f"{self.base_url}{path}", json=body, params=params or None)
        response.raise_for_status()
        return response.json()

    def advance(self, seconds: float) -> Any:
        return self._call("POST", "/clock", {"advance": seconds})

    def now(self) -> float:
        return float(self._call("GET", "/clock")["epoch"])

    def set_outcome(self, number: str, outcome: str) -> Any:
        return self._call("POST", "/outcomes", {"number": number, "outcome": outcome})

    def message_action(self, action: str, *, hash: str | None = None, id: int | None = None) -> Any:
        """What the platform's operators do to a message (pause, resume, cancel) where no client method does."""
        return self._call("POST", "/message/action", _given(action=action, hash=hash, id=id))

    def antifraud(self, hash: str, decision: str) -> Any:
        """The anti-fraud analysis releases (``release``) or refuses (``refuse``) a message it holds."""
        return self._call("POST", "/antifraud", {"hash": hash, "decision": decision})

    def register_callback(self, dialect: str, kind: str, url: str | None, account: str = "main") -> Any:
        return self._call("POST", "/callbacks", {"dialect": dialect, "kind": kind, "url": url, "account": account})

    def inject_mo(self, number: str, text: str, reply_to: str | None = None, account: str = "main",
                  dialect: str | None = None) -> Any:
        return self._call("POST", "/mo", _given(number=number, text=text, reply_to=reply_to, account=account,
                                                dialect=dialect))

    def credits(self, amount: int, kind: str = "long", account: str = "main") -> Any:
        return self._call("POST", "/credits", {"amount": amount, "kind": kind, "account": account})

    def accounts(self) -> Any:
        return self._call("GET", "/accounts")

    def messages(self, **params: Any) -> Any:
        return self._call("GET", "/messages", **params)

    def refuse(self, reason: str, count: int | None = None) -> Any:
        """Provider requests that log in answer their operation's code for ``reason`` (a `refuse` fault), the
        next ``count`` of them or, by default, every one until ``clear_faults``."""
        return self._call("POST", "/faults", _given(kind="refuse", reason=reason, count=count))

    def clear_faults(self) -> Any:
        return self._call("DELETE", "/faults")

    def close(self) -> None:
        self.http.close()

    def maintenance(self, dialects: list[str]) -> Any:
        return self._call("POST", "/maintenance", {"dialects": dialects})


def _given(**fields: Any) -> dict[str, Any]:
    """A body without the fields left out: the control API holds bodies to its OpenAPI, where an optional
    field is absent, not null."""
    return {k: v for k, v in fields.items() if v is not None}


@functools.lru_cache(maxsize=None)
def _shared(base_url: str) -> ControlClient:
    return ControlClient(base_url)


def control_of(target: Any) -> ControlClient | None:
    """The target's control API, one client per URL for the whole run (so every caller sends the control
    token an emulator started with --control-token wants); None when time passes for real."""
    if target.time.mode != "control" or not target.time.control_url:
        return None
    return _shared(target.time.control_url)
