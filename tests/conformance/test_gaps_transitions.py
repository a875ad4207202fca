"""Gap found by the self-check (tests/project/defects): mensagem statuses watched second by second.

mensagem shows a message's status only through cacl (stat and stam answer OUT-OF-DATE, 003 § LEIA ANTES DE
INICIAR), and cacl cancels a message still waiting. The transitions family therefore observes at the
moments its state machine chooses, and can miss a status that moves backwards between two of them (a queued
message put back to 0 AGUARDANDO ENVIO, say). Here one message is watched with cacl every second, once it
has had time to leave the waiting state: a message in 3 EM FILA DE ENVIO or later cannot be cancelled
(003 § Cancelamento de Mensagens: "Somente mensagens com status de aguardando envio estão aptas a
cancelamento"), so each cacl only reads its status; if the implementation moves it back to 0, the next cacl
cancels it, and the observed sequence (3, ..., 9) is no path of machines.yaml mensagem.message.
"""
from __future__ import annotations

import time
from typing import Any

import pytest

from smsconform.contracts import load_contracts
from smsconform.conformance.clients.base import NotExercised

from .test_callbacks import expect_path

MACHINE = "mensagem.message"
WATCH_SECONDS = 20          # how long one message is watched, second by second
FIRST_LOOKS = (1, 2, 3, 5, 10)  # seconds before the first cacl, tried in turn until it finds the message past 0


class Ticker:
    """One second of the target's time: its control API when it has one, else real time within max_wait."""

    def __init__(self, target: Any, control: Any) -> None:
        self.control = control
        self.budget = float(target.time.max_wait) if control is None else float("inf")

    def wait(self, seconds: float) -> None:
        if self.control is not None:
            self.control.advance(seconds)
            return
        if self.budget < seconds:
            raise NotExercised("the target's time.max_wait does not allow watching a message second by second")
        self.budget -= seconds
        time.sleep(seconds)


def _status(client: Any, digest: str) -> str:
    exchange = client.call("cacl", {"h": digest})
    fields = exchange.text.strip().split(";")
    assert len(fields) >= 3 and fields[0] == digest, (
        f"mensagem.cacl: {exchange.text[:200]!r} is not hash;status;TEXT;... [grammar:mensagem.cacl_answer, 003 § "
        f"Cancelamento de Mensagens]")
    return fields[1]


@pytest.mark.rules(f"machine:{MACHINE}")
@pytest.mark.dialect("mensagem")
def test_mensagem_status_watched_every_second_is_a_path(sms_clients: Any, sms_target: Any, sms_control: Any) -> None:
    machine = load_contracts().catalog.machine(MACHINE)
    client = sms_clients("mensagem")
    ticker = Ticker(sms_target, sms_control)
    for first_look in FIRST_LOOKS:
        digest = client.send_one()
        observed = list(machine.initial[:1])  # accepted: it starts in the initial state
        ticker.wait(first_look)
        for _ in range(WATCH_SECONDS):
            observed.append(_status(client, digest))
            expect_path(machine, observed, f"{machine.id}: message {digest} watched every second")
            ticker.wait(1)
        if observed[1] != "9":  # the first look found it past the waiting state: it was watched
            return
    raise NotExercised(f"every message was still waiting {FIRST_LOOKS[-1]} s after its send (cacl cancelled it)")
