"""Every machine edge a reserved number reaches, walked and observed: one message per outcome fixture, its
status read at every half second of the target's clock (finer than any state lasts,
contracts/emulator/lifecycle.yaml) until it is final, each observed sequence held to its machine.

The pairs (machine, fixture) are data: the fixture numbers of the target profile give the outcomes, and the
edges seen are reported (flows.expect_path records them and the status codes observed), so the coverage
of transitions counts what the target actually did. Needs a target whose clock the suite moves (a control
API); elsewhere the tests are not exercised.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest

from smsconform.conformance.clients.base import NotExercised
from smsconform.conformance.flows import expect_path
from smsconform.conformance.judge import expect
from smsconform.contracts import Machine, load_contracts

STEP = 0.5            # seconds of the target's clock between two reads
STEPS = 24            # 12 s: queue + send + dlr of lifecycle.yaml, with room
LONG_STEP = 3600.0    # then hours, for an expiry (86400 s)
# No document times a step ("O tempo de entrega é variável", 003; a DLR "pode ter atraso no envio de até
# 48hrs"): a message is given three days, the callbacks family's horizon, before "never final" is said.
LONG_STEPS = 72
QUIET = 120.0         # hours only once a status has rested this long: a slower target's steps are not skipped


def watch(read: Callable[[], str | None], advance: Callable[[float], None],
          done: Callable[[str | None, bool], bool], seen: list[str], hours: int = LONG_STEPS) -> list[str]:
    """Read a message's status on a moved clock until ``done(status, resting)``, appending each change to
    ``seen``: every STEP while it moves, then by the hour once it has rested QUIET seconds (how long a step
    takes is the target's choice, 003 § TERMOS IMPORTANTES: "O tempo de entrega é variável"), for at most
    ``hours`` hours."""
    quiet, long_steps = 0.0, 0
    while long_steps < hours:
        status = read()
        moved = status is not None and (not seen or seen[-1] != status)
        if moved:
            seen.append(status)
        quiet = 0.0 if moved else quiet + STEP
        resting = quiet >= QUIET
        if done(status, resting):
            break
        long_steps += resting
        advance(LONG_STEP if resting else STEP)
    return seen

# machine -> fixture numbers whose messages walk it ("valid" is the first valid number). A message ends in a
# final state, except where the catalog names another last status: speedmarket's 0 for an operator without
# handset DLR (codes.yaml speedmarket.message-status 0: "the last status for operators without handset DLR").
WALKS: dict[str, dict[str, str | None]] = {
    "mensagem.message": {"valid": None, "outcome_error": None, "outcome_invalid": None},
    "wbsapi.message": {"valid": None, "outcome_error": None, "outcome_invalid": None},
    "speedmarket.message": {"valid": None, "outcome_failed": None, "outcome_error": None, "outcome_invalid": None,
                            "outcome_no_dlr": "0", "outcome_expired": None, "no_coverage": None,
                            "blacklisted": None, "landline": None},
    "painel.message": {"valid": None, "outcome_invalid": None, "outcome_rejected": None},
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
    # a clock move answers once what it made due has happened (emulator-control.yaml)
    seen = watch(read, sms_control.advance,
                 lambda status, resting: status in finals or (last is not None and status == last and resting), [])
    assert seen, f"{machine.id}: no status was ever read for a message to {number} ({fixture}) [{machine.source}]"
    expect_path(machine, seen, f"{machine.id} ({fixture}, {number})")
    if last is None:
        assert seen[-1] in finals, (f"{machine.id} ({fixture}): never final within three days, statuses {seen} "
                                    f"[{machine.source}]")
    else:
        assert seen[-1] == last, (f"{machine.id} ({fixture}): the last status must be {last}, statuses {seen} "
                                  f"[code:{machine.status_codes}.{last}]")


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
    expect_path(machine, [s for s in seen if s is not None], machine.id)
    assert seen == ["0", "9"], (f"{machine.id}: a scheduled message, then cancelled, read {seen}, not ['0', '9'] "
                                f"[code:wbsapi.status.0, code:wbsapi.cancel.9; 003 § Método cancel]")


@pytest.mark.rules("machine:wbsapi.message")
@pytest.mark.dialect("wbsapi")
@pytest.mark.parametrize("decision,last", [("release", "1"), ("refuse", "5")])
def test_antifraud_decision_leaves_em_espera(decision: str, last: str, sms_clients, sms_control, sms_target) -> None:
    """A message the anti-fraud analysis holds is EM ESPERA (7) until the analysis decides: released, it goes
    on to the queue and its outcome (7 -> 3 -> 1); refused, it ends INVALIDO (7 -> 5). No document says when
    the analysis ends, so the decision is the target's control API's (POST /_emulator/antifraud); a target
    without one does not exercise these edges."""
    if sms_control is None:
        raise NotExercised("an anti-fraud decision needs the target's control API (time.mode = \"control\")")
    number = sms_target.fixtures.number("antifraud")
    if number is None:
        raise NotExercised("the target profile has no fixture numbers.antifraud")
    machine = load_contracts().catalog.machine("wbsapi.message")
    client = sms_clients("wbsapi")
    digest = client.send_unique(number=number).hash

    def status() -> str | None:
        return next((line.code for line in client.statuses([digest])), None)

    seen = [status()]
    held = load_contracts().catalog.code("wbsapi", "status", "7")  # EM ESPERA read as the anti-fraud hold: inferred
    if not expect(seen == ["7"], held, f"{machine.id}: a message to the anti-fraud number {number} reads {seen}, "
                                       f"not EM ESPERA (7) [{held.source}]"):
        return
    sms_control.antifraud(digest, decision)
    for _ in range(STEPS):
        current = status()
        if current is not None and current != seen[-1]:
            seen.append(current)
        if current in machine.finals:
            break
        sms_control.advance(STEP)
    expect_path(machine, seen, f"{machine.id}: anti-fraud {decision} of {digest}")
    # where EM ESPERA leads is only our inference (machines.yaml: its edges are inferred)
    edges = [e for e in machine.edges if e.source == "7"]
    expect(seen[-1] == last, machine, f"{machine.id}: after the analysis' {decision}, read {seen}, not ending {last}",
           basis="inferred" if all(e.basis == "inferred" for e in edges) else None,
           reason="; ".join(sorted({e.reason for e in edges if e.reason})) or None)


def _delivery_times(client: Any, campaign: int) -> dict[str, str]:
    """mobile number -> (status, delivery_time) of each destination, from getstatus `data` (field-notes.md:
    `delivery_id;?;enqueue_time;?;delivery_time;?;status;...;mobile_number;?;message`)."""
    from smsconform.conformance.clients.painel import NUMBER_COLUMN, STATUS_COLUMN, parse_getstatus_data

    body = client.envelope(client.call("getstatus", {"id": campaign})) or {}
    rows = parse_getstatus_data(body["data"]) if isinstance(body.get("data"), str) else []
    return {row[NUMBER_COLUMN]: (row[STATUS_COLUMN], row[4]) for row in rows if len(row) == 13}


def _not_done_at(times: dict[str, Any], moment: float) -> bool:
    """Whether a destination was still unsent at ``moment``: its delivery_time is later. The time's format
    is not published (yyyy-MM-dd HH:mm:ss in Brasília time is read); an unreadable one proves nothing."""
    from datetime import datetime

    from smsconform.emulator.core.clock import BRT

    for _, when in times.values():
        try:
            if datetime.strptime(when, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BRT).timestamp() > moment:
                return True
        except ValueError:
            continue
    return False


@pytest.mark.rules("machine:painel.campaign")
@pytest.mark.dialect("painel")
@pytest.mark.parametrize("scheduled", [True, False], ids=["scheduled", "at_once"])
def test_painel_campaign_walks_its_machine(scheduled: bool, sms_clients, sms_control) -> None:
    """A campaign's states are not on the wire (machines.yaml painel.campaign, inferred): each is read from what
    the target answers. holdsms accepted: held; releasesms accepted with the schedule still ahead: waiting;
    holdsms refused while a destination's delivery_time is still to come: sending; every destination final:
    done. Scheduled a day ahead, held, released, held again, its schedule passed, released: waiting -> held ->
    waiting -> held -> sending -> done. Unscheduled: waiting -> sending -> done."""
    if sms_control is None:
        raise NotExercised("walking a campaign needs a target whose clock the suite moves (time.mode = \"control\")")
    catalog = load_contracts().catalog
    machine, finals = catalog.machine("painel.campaign"), set(catalog.machine("painel.message").finals)
    client = sms_clients("painel")
    ok = catalog.by_reason("painel", "holdsms", "ok").code
    name = {s.core: s.code for s in machine.states}
    sent = client.sendsms([client.number(0)], **(client.schedule(days=1) if scheduled else {}))
    assert sent.id is not None, f"precondition: painel sendsms must accept a campaign [code:painel.sendsms.1]: {sent.exchange.text[:200]!r}"
    states = [name["waiting"]]
    if scheduled:
        for step in ("holdsms", "releasesms", "holdsms"):
            answer = client.hold(sent.id) if step == "holdsms" else client.release(sent.id)
            assert answer.code == ok, (f"campaign {sent.id}, a day before its schedule: {step} answered {answer} "
                                       f"[code:painel.{step}.1, field-notes.md § painel]")
            states.append(name["held" if step == "holdsms" else "waiting"])
        sms_control.advance(2 * 86400)  # the schedule passes while it is held
        released = client.release(sent.id)
        assert released.code == ok, (f"campaign {sent.id} is held: releasesms answered {released} "
                                     f"[code:painel.releasesms.1, field-notes.md § painel]")
    else:
        sms_control.advance(queue_seconds())
    asked_at = client.target_now()
    refused = client.hold(sent.id).code != ok
    if not refused and client.release(sent.id).code == ok:
        # Still waiting when asked: it was held, and is released to go on. A hold answered SUCESSO as a
        # no-op (what holding a sending campaign answers is inferred) shows nothing: no state is claimed.
        states += [name["held"], name["waiting"]]
    times = _delivery_times(client, sent.id)
    for _ in range(LONG_STEPS):
        if times and {status for status, _ in times.values()} <= finals:
            break
        sms_control.advance(LONG_STEP)
        times = _delivery_times(client, sent.id)
    assert times and {status for status, _ in times.values()} <= finals, (
        f"campaign {sent.id} never final within three days: {times} [machine:painel.message, field-notes.md § painel]")
    if refused and _not_done_at(times, asked_at):
        states.append(name["queued"])
    states.append(name["sent"])
    expect_path(machine, states, f"{machine.id}: campaign {sent.id}")
