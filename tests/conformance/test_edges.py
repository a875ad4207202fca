"""Every machine edge a reserved number reaches, walked and observed: one message per outcome fixture, its
status read at every half second of the target's clock (finer than any state lasts,
contracts/emulator/lifecycle.yaml) until it is final, each observed sequence held to its machine.

The pairs (machine, fixture) are data: the fixture numbers of the target profile give the outcomes, and the
edges seen are reported (flows.path_violation records them and the status codes observed), so the coverage
of transitions counts what the target actually did. Needs a target whose clock the suite moves (a control
API); elsewhere the tests are not exercised.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest

from smsconform.conformance.clients.base import NotExercised
from smsconform.conformance.flows import path_violation
from smsconform.contracts import Machine, load_contracts

STEP = 0.5            # seconds of the target's clock between two reads
STEPS = 24            # 12 s: queue + send + dlr of lifecycle.yaml, with room
LONG_STEP = 3600.0    # then hours, for an expiry (86400 s)
LONG_STEPS = 26

# machine -> fixture numbers whose messages walk it ("valid" is the first valid number). A message ends in a
# final state, except where the catalog names another last status: speedmarket's 0 for an operator without
# handset DLR (codes.yaml speedmarket.message-status 0: "the last status for operators without handset DLR").
WALKS: dict[str, dict[str, str | None]] = {
    "mensagem.message": {"valid": None, "outcome_error": None, "outcome_invalid": None},
    "wbsapi.message": {"valid": None, "outcome_error": None, "outcome_invalid": None},
    "speedmarket.message": {"valid": None, "outcome_failed": None, "outcome_error": None, "outcome_invalid": None,
                            "outcome_no_dlr": "0", "outcome_expired": None, "no_coverage": None,
                            "blacklisted": None, "landline": None},
    "painel.message": {"valid": None, "outcome_invalid": None},
}


def queue_seconds() -> float:
    """How long a message waits before it is queued (contracts/emulator/lifecycle.yaml), plus a read's margin."""
    from smsconform.contracts.yamlfile import load_yaml

    lifecycle, _ = load_yaml(load_contracts().root / "emulator" / "lifecycle.yaml")
    return float(lifecycle["seconds"]["queue"]) + 0.25


def _params() -> list[Any]:
    catalog = load_contracts().catalog
    out = []
    for machine_id, fixtures in WALKS.items():
        machine = catalog.machine(machine_id)
        for fixture in fixtures:
            out.append(pytest.param(machine, fixture, fixtures[fixture], id=f"{machine.id}[{fixture}]",
                                    marks=[pytest.mark.rules(machine.id), pytest.mark.dialect(machine.dialect)]))
    return out


def _reader(machine: Machine, client: Any, number: str, control: Any) -> Callable[[], str | None]:
    """Send one message to ``number`` and return how to read its status code now."""
    if machine.dialect == "mensagem":
        # cacl answers a message's current status and cancels only one AGUARDANDO ENVIO (003 § Cancelamento
        # de Mensagens): read from the queue on, the first second (waiting) is let pass unread
        digest = client.send_one(number=number)
        control.advance(queue_seconds())
        return lambda: client.result("cacl", client.call("cacl", {"h": digest})).code
    if machine.dialect == "wbsapi":
        digest = client.send_unique(number=number).hash
        return lambda: next((line.code for line in client.statuses([digest])), None)
    if machine.dialect == "painel":
        campaign = client.sendsms([number]).id
        if campaign is None:
            raise AssertionError(f"{machine.id}: sendsms to {number} answered no campaign id")
        return lambda: next(iter(client.statuses(campaign).values()), None)  # one destination
    sent = client.send_single(number)
    if sent.id is None:
        raise AssertionError(f"{machine.id}: send-single to {number} answered no id: {sent.exchange.text[:200]!r}")
    return lambda: client.statuses([sent.id]).get(sent.id)


@pytest.mark.parametrize("machine,fixture,last", _params())
def test_outcome_walks_its_machine(machine: Machine, fixture: str, last: str | None, sms_clients, sms_control,
                                   sms_target) -> None:
    if sms_control is None:
        raise NotExercised("walking a machine needs a target whose clock the suite moves (time.mode = \"control\")")
    client = sms_clients(machine.dialect)
    number = client.number(0) if fixture == "valid" else sms_target.fixtures.number(fixture)
    if number is None:
        raise NotExercised(f"the target profile has no fixture numbers.{fixture}")
    read = _reader(machine, client, number, sms_control)
    finals = set(machine.finals)
    seen: list[str] = []
    for step in [STEP] * STEPS + [LONG_STEP] * LONG_STEPS:
        status = read()
        if status is not None and (not seen or seen[-1] != status):
            seen.append(status)
        if status in finals or (last is not None and status == last and step == LONG_STEP):
            break
        sms_control.advance(step)  # answers once what the step made due has happened (emulator-control.yaml)
    assert seen, f"{machine.id}: no status was ever read for a message to {number} ({fixture})"
    problem = path_violation(machine, seen)
    assert problem is None, f"{machine.id} ({fixture}, {number}): {problem} [{machine.source}]"
    if last is None:
        assert seen[-1] in finals, f"{machine.id} ({fixture}): never final, statuses {seen}"
    else:
        assert seen[-1] == last, f"{machine.id} ({fixture}): the last status must be {last}, statuses {seen}"


@pytest.mark.rules("machine:wbsapi.message")
@pytest.mark.dialect("wbsapi")
def test_cancel_walks_waiting_to_cancelled(sms_clients) -> None:
    """A message scheduled a day ahead is AGUARDANDO (0) until cancel makes it CANCELADO (9), the edge of
    003 § Método cancel; read through status before and after (no clock to move: it runs on any target)."""
    machine = load_contracts().catalog.machine("wbsapi.message")
    client = sms_clients("wbsapi")
    digest = client.send_one(scheduled=True)

    def status() -> str | None:
        return next((line.code for line in client.statuses([digest])), None)

    seen = [status()]
    client.cancel_one(digest)
    seen.append(status())
    problem = path_violation(machine, [s for s in seen if s is not None])
    assert problem is None, f"{machine.id}: {problem} [{machine.source}]"
    assert seen == ["0", "9"], f"{machine.id}: a scheduled message, then cancelled, read {seen}, not ['0', '9']"
