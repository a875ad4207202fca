"""Every edge of the SMPP delivery-receipt machine and of speedmarket's status machine, walked on purpose.

Generated from the catalog: one test per edge of ``machine:smpp.dlr`` and ``machine:speedmarket.message``
(contracts/catalog/machines.yaml). Each edge has a walk, data below: the fixture number whose outcome
reaches it (contracts/emulator/profile.yaml names what each does), whether the message is scheduled,
and what is done to it on the way (a cancel through mensagem cacl, which names an SMPP message by its
protocol; a pause, resume or cancel through the control API, which no speedmarket method offers). The
test passes only if the walk's observed statuses are a path of the machine *and* contain the edge
itself: an edge counts as observed only where a walk built for it saw it.

SMPP statuses are the delivery receipts of a bind that asked for every one (registered_delivery 0x11,
SMPP 3.4 § 5.2.17), each held to the profile's DLR table (its stat, err and message_state); speedmarket
statuses are read with mt_id every half second of the target's clock. Both need a target whose clock the
suite moves (a control API); elsewhere the tests are not exercised.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest

from smsconform.conformance.clients.base import NotExercised
from smsconform.conformance.flows import expect_path
from smsconform.conformance.judge import expect
from smsconform.contracts import Machine, load_contracts

from .test_edges import watch
from .test_smpp import hold

BRT = timezone(timedelta(hours=-3))
EVERY_RECEIPT = 0x11          # the final receipt and the intermediate ones (SMPP 3.4 § 5.2.17)
SCHEDULE_AHEAD = 120.0        # seconds: a scheduled message waits this long for its time
LONG_STEPS = 26               # speedmarket: hours of reads at most, for an expiry (86400 s)
SMPP_ADVANCES = (1.25, 2.0, 5.5, 90000.0)  # queue, send, dlr, expiry: every receipt is pushed, none is missed
RECEIPT_WAIT = 1.5            # wall seconds to wait for the receipts of one clock move
TEXT = "smsconform edge walk"
NO_CONTROL = "walking a machine needs a target whose clock the suite moves (time.mode = \"control\")"


class Unread(Exception):
    """The walk's statuses cannot be read in the form the contract infers (an SMPP receipt that is not
    SMPP 3.4 Appendix B's): the deviation is recorded and the walk stops."""


@dataclass(frozen=True)
class Walk:
    """How one message is led across an edge: its number's fixture, a schedule, and what is done to it
    (in order, each after the status before it was read)."""

    fixture: str = "valid"
    scheduled: bool = False
    actions: tuple[str, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()   # what else the send carries (speedmarket's WhatsApp type)


WALKS: dict[str, dict[tuple[str, str], Walk]] = {
    "smpp.dlr": {
        ("0", "6"): Walk(scheduled=True),
        ("0", "4"): Walk(scheduled=True, actions=("cacl",)),
        ("6", "4"): Walk(scheduled=True, actions=("pause", "cancel")),   # paused on the platform: accepted (6)
        ("6", "1"): Walk(),
        ("1", "2"): Walk(),
        ("6", "8"): Walk("outcome_rejected"),
        ("6", "9"): Walk("outcome_invalid"),
        ("1", "3"): Walk("outcome_expired"),
        ("1", "5"): Walk("outcome_failed"),
        ("1", "7"): Walk("outcome_network_error"),
        ("1", "8"): Walk("outcome_operator_rejected"),
    },
    "speedmarket.message": {
        ("-1", "3"): Walk(),
        ("3", "0"): Walk(),
        ("0", "1"): Walk(),
        ("0", "9"): Walk("outcome_failed"),
        ("0", "-2"): Walk("outcome_network_error"),
        ("3", "-3"): Walk("outcome_invalid"),
        ("3", "7"): Walk("outcome_expired"),
        ("3", "8"): Walk("outcome_rejected"),
        ("3", "-9"): Walk("no_coverage"),
        ("3", "-8"): Walk("content_blocked"),
        ("3", "-7"): Walk("no_whatsapp", params=(("type", 5),)),   # -7 is "Only for WhatsApp" (types 5-8)
        ("3", "-5"): Walk("blacklisted"),
        ("3", "-4"): Walk("landline"),
        ("-1", "6"): Walk(scheduled=True, actions=("pause",)),
        ("6", "-1"): Walk(scheduled=True, actions=("pause", "resume")),
        ("-1", "-6"): Walk(scheduled=True, actions=("cancel",)),
        ("6", "-6"): Walk(scheduled=True, actions=("pause", "cancel")),
    },
}


def _code_rule(machine: Machine, code: str) -> str:
    state = machine.state(code)
    return f"code:{(state.status_codes if state else None) or machine.status_codes}.{code}"


def _params() -> list[Any]:
    catalog = load_contracts().catalog
    out = []
    for machine_id, walks in WALKS.items():
        machine = catalog.machine(machine_id)
        for edge in machine.edges:
            walk = walks.get((edge.source, edge.target))
            # a walk that crosses the edge observed both its ends (the first one too: a receipt, or mt_id's
            # answer, never the suite's assumption), so both codes are this test's to exercise
            rules = [machine.id] + ([_code_rule(machine, edge.source), _code_rule(machine, edge.target)]
                                    if walk else [])
            out.append(pytest.param(machine, (edge.source, edge.target), walk,
                                    id=f"{machine.id}[{edge.source}->{edge.target}]",
                                    marks=[pytest.mark.rules(*rules), pytest.mark.dialect(machine.dialect)]))
    return out


def _number(walk: Walk, client: Any, target: Any) -> str:
    number = client.number(0) if walk.fixture == "valid" else target.fixtures.number(walk.fixture)
    if number is None:
        raise NotExercised(f"the target profile has no fixture numbers.{walk.fixture}")
    return number


@pytest.mark.parametrize("machine,edge,walk", _params())
def test_walk_crosses_its_edge(machine: Machine, edge: tuple[str, str], walk: Walk | None, sms_clients,
                               sms_control, sms_target) -> None:
    if walk is None:
        raise NotExercised(f"{machine.id} {edge[0]} -> {edge[1]}: no fixture number, account or control action "
                           "reaches this edge on purpose yet")
    if sms_control is None:
        raise NotExercised(NO_CONTROL)
    walker = _walk_smpp if machine.dialect == "smpp" else _walk_speedmarket
    try:
        seen = walker(machine, walk, sms_clients, sms_control, sms_target)
    except Unread:
        return
    assert seen, f"{machine.id}: no status was ever observed walking {edge} with {walk} [{machine.source}]"
    if not expect_path(machine, seen, f"{machine.id} ({walk})"):
        return  # a deviation from an inferred order, recorded; the edge's check rests on that order
    pairs = list(zip(seen, seen[1:]))
    crossed = next(e for e in machine.edges if (e.source, e.target) == edge)
    expect(edge in pairs, machine, f"{machine.id}: the walk for {edge[0]} -> {edge[1]} ({walk}) observed {seen}, "
                                   f"not that edge", basis=crossed.basis, reason=crossed.reason)


# -- SMPP: the receipts of one message ----------------------------------------------------------------------
def _walk_smpp(machine: Machine, walk: Walk, sms_clients: Any, control: Any, target: Any) -> list[str]:
    smpp = sms_clients("smpp")
    try:
        return _smpp_receipts(machine, walk, smpp, sms_clients, control, target)
    finally:
        smpp.close()


def _smpp_receipts(machine: Machine, walk: Walk, smpp: Any, sms_clients: Any, control: Any,
                   target: Any) -> list[str]:
    table = {str(row["code"]): row for row in load_contracts().smpp["dlr"]["codes"]}
    number = _number(walk, smpp, target)
    session = smpp.session("transceiver", "main")
    extra: dict[str, Any] = {}
    if walk.scheduled:
        when = datetime.fromtimestamp(control.now() + SCHEDULE_AHEAD, timezone.utc)
        extra["schedule_delivery_time"] = when.strftime("%y%m%d%H%M%S") + "000+"  # SMPP 3.4 § 7.1.1, UTC
    submitted = session.submit(number, TEXT, registered_delivery=EVERY_RECEIPT, **extra)
    assert submitted.message_id, (f"precondition: submit_sm to {number} must be accepted [code:smpp.submit_sm.0x00000000]: "
                                  f"{submitted.result.text}")
    finals = set(machine.finals)

    def codes() -> list[str]:
        out = []
        for delivery in session.inbox:
            if not (delivery.is_receipt and delivery.receipted_message_id == submitted.message_id):
                continue
            receipt = delivery.receipt  # the receipt's form is profile:smpp.delivery_receipt (inferred)
            if not hold(receipt is not None, "delivery_receipt", f"not an SMPP 3.4 Appendix B receipt: {delivery.text!r}"):
                raise Unread()
            code = str(int(receipt.err))
            row = table.get(code)
            if not hold(row is not None, "delivery_receipt",
                        f"receipt err:{receipt.err} is no code of the DLR table: {delivery.text!r}"):
                raise Unread()
            hold((receipt.stat, delivery.message_state) == (row["stat"], row["message_state"]), "delivery_receipt",
                 f"DLR {code}: stat:{row['stat']} and message_state {row['message_state']} expected, got "
                 f"stat:{receipt.stat} and {delivery.message_state} ({delivery.text!r})",
                 basis=row.get("basis"), reason=row.get("reason"))
            out.append(code)
        return out

    def settle(until: Callable[[list[str]], bool]) -> list[str]:
        session.deliveries(lambda inbox: until(codes()), RECEIPT_WAIT)
        return codes()

    if walk.scheduled:  # DLR 0 (agendada) first, before anything is done to it
        zero = table["0"]  # that a scheduled message is announced by a receipt at once is inferred
        if not hold(bool(settle(lambda got: bool(got))), "delivery_receipt",
                    f"a scheduled message got no DLR 0 receipt: {codes()}", basis=zero.get("basis"),
                    reason=zero.get("reason")):
            raise Unread()
    for action in walk.actions:
        before = len(codes())
        if action == "cacl":
            mensagem = sms_clients("mensagem")  # one platform: cacl names an SMPP message by its protocol (003)
            mensagem.call("cacl", {"h": submitted.message_id})
        else:  # what the platform's operators do (the control API)
            control.message_action(action, hash=submitted.message_id)
        settle(lambda got: len(got) > before)
    if walk.scheduled and not walk.actions:
        control.advance(SCHEDULE_AHEAD)
    for seconds in SMPP_ADVANCES:
        if finals & set(codes()):
            break
        control.advance(seconds)
        settle(lambda got: bool(finals & set(got)))
    seen = codes()
    return [c for i, c in enumerate(seen) if i == 0 or seen[i - 1] != c]


# -- speedmarket: mt_id, read every half second --------------------------------------------------------------
def _walk_speedmarket(machine: Machine, walk: Walk, sms_clients: Any, control: Any, target: Any) -> list[str]:
    client = sms_clients("speedmarket")
    number = _number(walk, client, target)
    extra: dict[str, Any] = dict(walk.params)
    if walk.scheduled:
        extra |= {"schedule": datetime.fromtimestamp(control.now() + SCHEDULE_AHEAD, BRT).strftime("%Y-%m-%d %H:%M:%S"),
                 "timezone": "-03:00"}
    sent = client.send_single(number, TEXT, **extra)
    assert sent.id is not None, (f"precondition: send-single to {number} must be accepted with an id "
                                 f"[code:speedmarket.send-single.000]: {sent.exchange.text[:200]!r}")
    seen: list[str] = []

    def read() -> str | None:
        status = client.statuses([sent.id]).get(sent.id)
        if status is not None and (not seen or seen[-1] != status):
            seen.append(status)
        return status

    read()
    for action in walk.actions:
        control.message_action(action, id=int(sent.id))
        read()
    if walk.actions and walk.actions[-1] == "pause":
        return seen   # a paused message stays paused until someone resumes it
    finals = set(machine.finals)
    last_without_handset = "0" if walk.fixture == "outcome_no_dlr" else None
    if walk.scheduled and seen and seen[-1] not in finals:
        control.advance(SCHEDULE_AHEAD)
    def advance(seconds: float) -> None:
        control.advance(seconds)
        time.sleep(0.01)

    return watch(lambda: client.statuses([sent.id]).get(sent.id), advance,
                 lambda status, _: status in finals or status == last_without_handset, seen, LONG_STEPS)
