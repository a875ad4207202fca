"""The control API's anti-fraud decision (core/antifraud.py): a held message leaves EM ESPERA only when asked,
is debited only when released, and every wrong request gets a clear 400 or 409, never a traceback."""
from __future__ import annotations

from typing import Any

import httpx

from smsconform.contracts import load_contracts

ANTIFRAUD = str(load_contracts().emulator_profile["numbers"]["antifraud"])


def _held(http: httpx.Client) -> str:
    """A message held by the anti-fraud analysis: mensagem's send answers 61 without a protocol, so its hash
    is read back through the control API's message list."""
    answer = http.get("/sms/send", params={"u": _main_u(http), "n": ANTIFRAUD, "m": "analise"}).text
    assert answer.startswith("61;"), answer
    found = http.get("/_emulator/messages", params={"state": "held"}).json()
    return str(found[-1]["hash"])


def _main_u(http: httpx.Client) -> str:
    accounts = http.get("/_emulator/accounts").json()
    return next(a["integration_user"] for a in accounts if a["fixture"] == "main")


def _long_credits(http: httpx.Client) -> int:
    accounts = http.get("/_emulator/accounts").json()
    return int(next(a for a in accounts if a["fixture"] == "main")["credits"]["long"])


def test_a_released_message_is_queued_and_debited_then(http: httpx.Client, control: Any) -> None:
    digest = _held(http)
    before = _long_credits(http)
    assert control("POST", "/antifraud", {"hash": digest, "decision": "release"})["state"] == "queued"
    assert _long_credits(http) == before - 1, "a released one-part message costs one credit, debited at release"
    control("POST", "/clock", {"advance": 60})
    [msg] = [m for m in http.get("/_emulator/messages", params={"hash": digest}).json()]
    assert msg["state"] == "delivered"


def test_a_refused_message_ends_invalid_and_costs_nothing(http: httpx.Client, control: Any) -> None:
    digest = _held(http)
    before = _long_credits(http)
    assert control("POST", "/antifraud", {"hash": digest, "decision": "refuse"})["state"] == "invalid"
    assert _long_credits(http) == before


def test_wrong_decisions_are_refused_clearly(http: httpx.Client, control: Any) -> None:
    digest = _held(http)
    control("POST", "/antifraud", {"hash": digest, "decision": "refuse"})
    again = http.post("/_emulator/antifraud", json={"hash": digest, "decision": "release"})
    assert again.status_code == 409 and "not held" in again.text
    unknown = http.post("/_emulator/antifraud", json={"hash": "0" * 32, "decision": "release"})
    assert unknown.status_code == 409 and "no message" in unknown.text
    for body in ({"hash": digest, "decision": "approve"}, {"hash": "xyz", "decision": "release"}, {"decision": "refuse"}):
        bad = http.post("/_emulator/antifraud", json=body)
        assert bad.status_code == 400, (body, bad.status_code, bad.text)
