"""Family 5, status transitions: hypothesis state machines that drive a dialect and watch every message.

For mensagem, speedmarket, painel and servicesms a RuleBasedStateMachine sends (now or scheduled), cancels
(mensagem cacl), holds and releases (painel, servicesms), lets time pass (the target's control API, or real waiting up to
`time.max_wait`) and queries, while the suite's receiver collects the status callbacks. After every step:

- every status sequence observed for a message (queries, cancel answers and callbacks, in the order the
  suite saw them) is a path in the contract's machine (machines.yaml; a missed state is allowed, a step
  no path allows is not);
- a cancel succeeds only where the machine allows it: a message scheduled for later, still waiting, must
  cancel; one already seen queued or sent must not (003 § Cancelamento de Mensagens); painel's hold and
  release follow painel.campaign the same way;
- a scheduled message is not sent before its time;
- credits are conserved: what the balance lost is the SMS parts of what was accepted, less the refunds
  the contract gives for a cancel (contracts/catalog/credits.yaml, family refund, inferred: the seeds do not
  say; a target other than the emulator may refund all or nothing, but consistently per message). No
  document prices a message, so the price per part is the inferred rule behaviour:<dialect>.billing
  (behaviours.yaml), checked through judge.expect: a target that bills otherwise is a deviation, reported
  once per run, never a failure; speedmarket's documented `credit` ("quantos créditos foram debitados")
  is held to the balance's drop and judged;
- painel's hold of a campaign already sending, and release of one not held, are refusals only by our
  inference (codes.yaml 0/wrong_state): a target that answers them as a no-op success deviates, and the
  flow does not take that answer for a hold or a release.

mensagem's stat and stam answer OUT-OF-DATE since 29/02/2020 (003 § LEIA ANTES DE INICIAR), so its
statuses are read through cacl, which answers a message's current status when it cannot cancel it, and
through the status and DLR call-backs. Hypothesis settings come from the active profile (ci, thorough).
"""
from __future__ import annotations

import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import Phase, seed, settings, strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)

from smsconform.contracts import load_contracts
from smsconform.conformance.clients.base import NotExercised, valid_number
from smsconform.conformance.formats import answer_format, expect_format
from smsconform.conformance.judge import expect
from smsconform.conformance.receiver import CallbackReceiver

from .test_callbacks import Clock, expect_path
from .test_limits import sms_parts

BRT = timezone(timedelta(hours=-3))
DAY = 86400.0
TEXTS = (
    "smsconform transicao",                                   # GSM, 1 part
    "smsconform " + "transicao longa " * 12,                  # GSM, 2 parts
    "smsconform transição, ação e atenção: " + "ã" * 40,      # UCS-2, 2 parts
)
OUTCOMES = ("outcome_failed", "outcome_error", "outcome_invalid", "outcome_no_dlr", "outcome_expired")
# Moves of the clock: seconds (each lifecycle step), an hour, a day. Kept small in total: the target's clock
# is shared by the whole session, and credits expire as it runs (speedmarket "expired balance", 080).
STEPS = (1, 2, 3, 5, 60, 3600, DAY)


def catalog() -> Any:
    return load_contracts().catalog


def destinations(target: Any) -> list[str]:
    """Valid numbers and the target's outcome fixtures, so that every path of a machine can be taken."""
    out = [valid_number(target, i) for i in range(3)]
    for name in OUTCOMES:
        out += target.fixtures.numbers_of(name)[:1]
    return out


def refund_rule(target: Any) -> bool | None:
    """Whether a cancel refunds: the emulator's contract says (inferred); for another target, unknown."""
    if target.name != "emulator":
        return None
    return any(getattr(r, "family", None) == "refund" for r in load_contracts().catalog.families)


@dataclass
class Tracked:
    """One message as the suite saw it."""

    key: str
    number: str
    parts: int
    schedule_at: float | None = None
    statuses: list[str] = field(default_factory=list)
    delivery: list[str] = field(default_factory=list)   # mensagem DLR call-backs
    cancelled: bool = False


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as rx:
        yield rx


@pytest.fixture(scope="module")
def registered(receiver: CallbackReceiver, sms_control: Any) -> Iterator[dict[tuple[str, str], str]]:
    """The main account's status callbacks point at this module's receiver, and are taken off after it."""
    paths: dict[tuple[str, str], str] = {}
    if sms_control is not None:
        for dialect, kind in (("mensagem", "status"), ("mensagem", "dlr"), ("speedmarket", "status")):
            paths[(dialect, kind)] = f"/t/{dialect}/{kind}"
            sms_control.register_callback(dialect, kind, receiver.url(paths[(dialect, kind)]))
    yield paths
    if sms_control is not None:
        for dialect, kind in paths:
            sms_control.register_callback(dialect, kind, None)


class Flow(RuleBasedStateMachine):
    """What the three dialects' machines share: the clock, the receiver and the path invariant."""

    client: Any = None
    control: Any = None
    target: Any = None
    rx: CallbackReceiver = None  # type: ignore[assignment]
    paths: dict[tuple[str, str], str] = {}
    ledger: dict[str, int] = {}       # what every example of one test accepted (the whole-run balance check)
    machine_id = ""
    # A balance query the target allows only once a minute: in real time it is read once before and once
    # after the whole test (every example), never per example.
    rate_limited_balance = False
    balance_name = "the balance"

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock(self.target, self.control)
        self.tracked: dict[str, Tracked] = {}
        self.machine = catalog().machine(self.machine_id)
        self.seen = len(self.rx.received())

    def now(self) -> float:
        return self.control.now() if self.control is not None else time.time()

    def pass_time(self, seconds: float) -> None:
        if self.control is not None:
            self.control.advance(seconds)  # answers once the callbacks it made due have been delivered
        else:
            time.sleep(min(seconds, 2.0, self.target.time.max_wait))
            self.clock.drain(self.rx)
        self.collect()

    def collect(self) -> None:
        """Fold the callbacks that arrived since the last look into the messages' sequences."""
        fresh = self.rx.received()[self.seen:]
        self.seen += len(fresh)
        for request in fresh:
            self.on_callback(request.path, request.params())

    def on_callback(self, path: str, values: dict[str, str]) -> None:
        raise NotImplementedError

    def observe(self, key: str, status: str) -> None:
        if key in self.tracked:
            self.tracked[key].statuses.append(status)

    billing_holds = True

    def billed(self, ok: bool, message: str) -> None:
        """Hold what a send or a cancel cost to the inferred price per part (behaviour:<dialect>.billing), once:
        after a first deviation the price is the target's own and later sums say nothing new."""
        if self.billing_holds and not ok:
            self.billing_holds = expect(False, f"behaviour:{self.machine_id.split('.')[0]}.billing", message)

    @invariant()
    def every_sequence_is_a_path(self) -> None:
        for t in self.tracked.values():
            expect_path(self.machine, t.statuses, f"message {t.key} to {t.number}")

    @invariant()
    def nothing_is_sent_before_its_time(self) -> None:
        now = self.now() if any(t.schedule_at for t in self.tracked.values()) else 0.0
        waiting = set(self.machine.initial) | {s.code for s in self.machine.states if s.level == "preparation"}
        for t in self.tracked.values():
            if t.schedule_at is not None and now < t.schedule_at - 60:
                moved = [s for s in t.statuses if s not in waiting and s != self.cancelled_code]
                assert not moved, (f"message {t.key} is scheduled for later but went {t.statuses} before its time "
                                   f"[{self.machine.id}: a schedule is 'Data e hora em que a mensagem deve ser enviada']")

    cancelled_code = ""


# -- mensagem --------------------------------------------------------------------------------------
class MensagemFlow(Flow):
    machine_id = "mensagem.message"
    messages = Bundle("messages")

    @initialize()
    def start(self) -> None:
        self.delivery = catalog().machine("mensagem.delivery")
        self.cancelled_code = catalog().by_reason("mensagem", "message-status", "cancelled").code
        self.refund = refund_rule(self.target)
        self.balance0 = self.balance()
        self.debited = 0
        self.refunded: dict[str, int] = {}

    def balance(self) -> int:
        exchange = self.client.call("crdtf", {})
        fields = exchange.text.strip().splitlines()[0].split(";") if exchange.text.strip() else [""]
        assert fields[0] == "1" and len(fields) >= 7, f"crdtf must answer its credits [code:mensagem.crdtf.1]: {exchange.text!r}"
        if fields[2] != "0":  # the account's distribution is the target's fixture, not a rule
            raise NotExercised(f"crdtf answers distribution {fields[2]}, not the general one (0) whose long-code credits "
                               f"the flow follows: fixtures.accounts.main with distribution 0")
        return int(fields[4])  # long code credits: f=0

    def _send(self, number: str, text: str, schedule_at: float | None) -> str:
        params: dict[str, Any] = {"n": number, "m": text, "id": f"t{uuid.uuid4().hex[:10]}"}
        if schedule_at is not None:
            params["d"] = datetime.fromtimestamp(schedule_at, BRT).strftime("%Y-%m-%d %H:%M:%S")
        exchange = self.client.call("send", params)
        fields = exchange.text.strip().split(";")
        assert fields[0] == "1" and len(fields) >= 2, (
            f"precondition: send to {number} must be accepted [code:mensagem.send.1]: {exchange.text!r}")
        expect_format(answer_format("mensagem", "send"), len(fields) == 2, f"send answered {exchange.text!r}, not 1;<md5>")
        t = Tracked(fields[1], number, sms_parts(text), schedule_at, [self.machine.initial[0]])
        self.tracked[t.key] = t
        self.debited += t.parts
        return t.key

    @rule(target=messages, number=st.integers(0, 7), text=st.sampled_from(TEXTS))
    def send(self, number: int, text: str) -> str:
        numbers = destinations(self.target)
        return self._send(numbers[number % len(numbers)], text, None)

    @rule(target=messages, days=st.integers(1, 4), text=st.sampled_from(TEXTS))
    def send_scheduled(self, days: int, text: str) -> str:
        return self._send(valid_number(self.target, 0), text, self.now() + days * DAY)

    @rule(key=messages)
    def cancel_or_query(self, key: str) -> None:
        """cacl: cancels a waiting message, and answers any other's current status (003)."""
        t = self.tracked[key]
        before = self.balance()
        exchange = self.client.call("cacl", {"h": key})
        fields = exchange.text.strip().split(";")
        assert len(fields) == 6 and fields[0] == key, (
            f"cacl answered {exchange.text!r}, not one line hash;status;TEXT;id;number;date [grammar:mensagem.cacl_answer, "
            f"003 § Cancelamento de Mensagens]")
        status = fields[1]
        if t.schedule_at is not None and self.now() < t.schedule_at - 60 and not t.cancelled:
            assert status == self.cancelled_code, (
                f"{key} is scheduled for later, so still AGUARDANDO ENVIO: cacl must cancel it, answered {fields[1:3]}"
                " [003 § Cancelamento de Mensagens]")
        t.statuses.append(status)
        after = self.balance()
        if status == self.cancelled_code and not t.cancelled:
            t.cancelled = True
            refund = after - before
            allowed = {True: {t.parts}, False: {0}, None: {0, t.parts}}[self.refund]
            self.billed(refund in allowed, f"cancelling {key} ({t.parts} parts) gave back {refund} credits, expected {allowed}")
            self.refunded[key] = refund
        else:
            self.billed(after == before, f"cacl on {key} (status {status}) changed the balance by {after - before}")

    @rule(seconds=st.sampled_from(STEPS))
    def let_time_pass(self, seconds: float) -> None:
        self.pass_time(seconds)

    def on_callback(self, path: str, values: dict[str, str]) -> None:
        key = values.get("md5", "")
        if key not in self.tracked:
            return
        if path == self.paths.get(("mensagem", "status")):
            self.observe(key, values.get("status", ""))
        elif path == self.paths.get(("mensagem", "dlr")):
            self.tracked[key].delivery.append(values.get("status", ""))

    @invariant()
    def delivery_follows_sending(self) -> None:
        for t in self.tracked.values():
            if not t.delivery:
                continue
            # its status call-back ENVIADO may still be on its way: the order of arrival is inferred (test_callbacks
            # judges that it comes at all)
            order = catalog().rule("behaviour:mensagem.callback-order")
            expect(bool(set(self.delivery.initial) & set(t.statuses)), order,
                   f"{t.key}: DLR call-backs {t.delivery} for a message not yet seen ENVIADO ({t.statuses}) [{order.source}]")
            expect_path(self.delivery, [self.delivery.initial[0]] + t.delivery, t.key)

    @invariant()
    def credits_are_conserved(self) -> None:
        if not hasattr(self, "balance0"):
            return
        spent = self.balance0 - self.balance()
        want = self.debited - sum(self.refunded.values())
        self.billed(spent == want, f"the balance dropped by {spent}; the accepted messages cost {self.debited} parts"
                                   f" and cancels gave back {sum(self.refunded.values())}")


# -- speedmarket -----------------------------------------------------------------------------------
class SpeedmarketFlow(Flow):
    machine_id = "speedmarket.message"
    messages = Bundle("messages")

    @initialize()
    def start(self) -> None:
        self.balance0 = self.client.balance(0)
        self.debited = 0
        self.answered = 0   # the sum of the `credit` the sends answered
        self.cancelled_code = catalog().by_reason("speedmarket", "message-status", "cancelled").code

    def _send(self, number: str, text: str, schedule_at: float | None) -> str:
        extra: dict[str, Any] = {}
        if schedule_at is not None:
            extra = {"schedule": datetime.fromtimestamp(schedule_at, BRT).strftime("%Y-%m-%d %H:%M:%S"),
                     "timezone": "-03:00"}
        sent = self.client.send_single(number, text, **extra)
        assert sent.id is not None and sent.result.success, (
            f"precondition: send-single to {number} must be accepted [code:speedmarket.send-single.000]: "
            f"{sent.exchange.text!r}")
        if schedule_at is not None:
            scheduled = catalog().by_reason("speedmarket", "send-single", "scheduled")
            expect(sent.result.code == scheduled.code, scheduled,
                   f"a scheduled send must answer {scheduled.code}, got {sent.result} [{scheduled.source}]")
        t = Tracked(sent.id, number, sms_parts(text), schedule_at, [self.machine.initial[0]])
        self.tracked[t.key] = t
        self.debited += t.parts
        self.answered += sent.credit or 0
        self.billed(sent.credit == t.parts, f"`credit` {sent.credit} for a {t.parts}-part SMS [001 § Envio Individual]")
        return t.key

    @rule(target=messages, number=st.integers(0, 7), text=st.sampled_from(TEXTS))
    def send(self, number: int, text: str) -> str:
        numbers = destinations(self.target)
        return self._send(numbers[number % len(numbers)], text, None)

    @rule(target=messages, days=st.integers(1, 4), text=st.sampled_from(TEXTS))
    def send_scheduled(self, days: int, text: str) -> str:
        return self._send(valid_number(self.target, 0), text, self.now() + days * DAY)

    @rule(keys=st.lists(messages, min_size=1, max_size=5, unique=True))
    def query(self, keys: list[str]) -> None:
        """mt_id with a comma list (001 § Consulta de Status por Identificador)."""
        found = self.client.statuses(keys)
        for key in keys:
            assert key in found, f"mt_id does not find message {key} (sent within 32 days) [limit:speedmarket.mt_id.retention]"
            self.observe(key, found[key])

    @rule(seconds=st.sampled_from(STEPS))
    def let_time_pass(self, seconds: float) -> None:
        self.pass_time(seconds)

    def on_callback(self, path: str, values: dict[str, str]) -> None:
        if path != self.paths.get(("speedmarket", "status")):
            return
        key = values.get("id", "")
        if key in self.tracked:
            level = self.machine.state(values.get("status", ""))
            assert level is None or level.level != "preparation", (
                f"{key}: preparation status {values.get('status')} sent by callback ('não é retornado por Callback') "
                f"[{self.machine.source}]")
            self.observe(key, values.get("status", ""))

    @invariant()
    def credits_are_conserved(self) -> None:
        if not hasattr(self, "balance0"):
            return
        spent = self.balance0 - self.client.balance(0)
        expect(spent == self.answered, "code:speedmarket.send-single.000",
               f"balance_1 dropped by {spent}; the sends answered `credit` {self.answered} in all"
               " [001 § Envio Individual: 'credit Este campo indica quantos créditos foram debitados']", basis="documented")
        self.billed(spent == self.debited, f"balance_1 dropped by {spent}; the accepted SMS cost {self.debited} parts")


# -- painel ----------------------------------------------------------------------------------------
HOLD_UNSURE = ("in real time the campaign may have begun sending before holdsms, unseen, and what holding a "
               "campaign already sending answers is not published (002 § Prender a campanha gives only the URL)")


@dataclass
class Campaign:
    id: int
    numbers: list[str]
    parts: int
    schedule_at: float | None
    states: list[str]
    hold_marks: dict[str, int] = field(default_factory=dict)  # number -> statuses seen when it was held
    # Whether the last SUCESSO to holdsms surely held it. In real time a campaign that is not definitely
    # waiting may have begun sending unseen (its callbacks still on their way), and what holding such a
    # campaign answers is our inference (code:painel.holdsms.0/wrong_state): SUCESSO may be a no-op there.
    hold_certain: bool = True
    sent_at: float | None = None    # the target's clock when it was accepted


class PainelFlow(Flow):
    machine_id = "painel.message"
    campaigns = Bundle("campaigns")
    rate_limited_balance = True
    balance_name = "getbalance"
    status_operation, hold_operation = "getstatus", "holdsms"
    schedules = True      # api.ashx takes jobdate/jobtime

    def send(self, numbers: list[str], text: str, extra: dict[str, Any]) -> Any:
        """sendsms with a url_callback of the campaign's own."""
        path = f"/t/painel/{uuid.uuid4().hex[:10]}"
        return self.client.sendsms(numbers, text, url_callback=self.rx.url(path), **extra)

    @initialize()
    def start(self) -> None:
        self.campaign_machine = catalog().machine("painel.campaign")
        self.by_id: dict[int, Campaign] = {}
        self.debited = 0
        if self.control is not None:  # in real time getbalance is read once for the whole test (_run)
            self.balance0 = self.client.balance()
        self.ok = catalog().by_reason(self.client.dialect, self.hold_operation, "ok").code

    def state_code(self, core: str) -> str:
        return next(s.code for s in self.campaign_machine.states if s.core == core)

    @rule(target=campaigns, count=st.integers(1, 3), text=st.sampled_from(TEXTS), days=st.sampled_from([0, 0, 1, 3]))
    def sendsms(self, count: int, text: str, days: int) -> int:
        numbers = [valid_number(self.target, i) for i in range(count)]
        extra: dict[str, Any] = {}
        schedule_at = None
        if days and self.schedules:
            when = datetime.fromtimestamp(self.now() + days * DAY, BRT).replace(second=0, microsecond=0)
            schedule_at = when.timestamp()
            extra = {"jobdate": when.strftime("%d/%m/%Y"), "jobtime": when.strftime("%H:%M")}
        sent = self.send(numbers, text, extra)
        assert sent.id is not None, (f"precondition: {self.client.dialect} must accept a campaign to {numbers} "
                                     f"[code:{self.client.dialect}.{'sendsms' if self.schedules else 'SendSMS'}]: "
                                     f"{sent.exchange.text!r}")
        campaign = Campaign(sent.id, numbers, sms_parts(text), schedule_at,
                            [self.campaign_machine.initial[0]])
        campaign.sent_at = self.now()
        self.by_id[sent.id] = campaign
        for number in numbers:
            self.tracked[f"{sent.id}:{number}"] = Tracked(f"{sent.id}:{number}", number, campaign.parts, schedule_at,
                                                          [self.machine.initial[0]])
        self.debited += campaign.parts * len(numbers)
        self.ledger["debited"] = self.ledger.get("debited", 0) + campaign.parts * len(numbers)
        return sent.id

    def _definitely_waiting(self, c: Campaign) -> bool:
        held = self.state_code("held")
        return (c.schedule_at is not None and self.now() < c.schedule_at - 60 and c.states[-1] != held)

    def _sending(self, c: Campaign) -> bool:
        started = {s.code for s in self.machine.states if not s.initial}
        return any(set(self.tracked[f"{c.id}:{n}"].statuses) & started for n in c.numbers)

    @rule(campaign=campaigns)
    def hold(self, campaign: int) -> None:
        c = self.by_id[campaign]
        waiting = self._definitely_waiting(c)
        sending = self._sending(c)
        result = self.client.hold(campaign)
        if waiting:
            held_ok = catalog().by_reason(self.client.dialect, self.hold_operation, "ok")
            expect(result.code == self.ok, held_ok,
                   f"campaign {campaign} is waiting for its schedule: {self.hold_operation} must succeed, got {result} "
                   f"[{held_ok.source}]")
        if sending and not expect(result.code != self.ok, "code:painel.holdsms.0/wrong_state",
                                  f"campaign {campaign} is already sending: holdsms must be refused, got {result}"):
            return  # answered as a no-op success: nothing was held
        if result.code == self.ok:
            c.states.append(self.state_code("held"))
            self.collect()
            c.hold_marks = {n: len(self.tracked[f"{c.id}:{n}"].statuses) for n in c.numbers}
            # A moved clock stands still between moves: a campaign held before any time passed since it was
            # accepted was surely waiting. Later, it may have been queued with nothing to show for it yet.
            c.hold_certain = waiting or (self.control is not None and c.sent_at is not None
                                         and self.now() <= c.sent_at)

    @rule(campaign=campaigns)
    def release(self, campaign: int) -> None:
        c = self.by_id[campaign]
        held = self.state_code("held")
        was_held = c.states[-1] == held
        waiting = self._definitely_waiting(c)
        result = self.client.release(campaign)
        if was_held:
            expect(result.code == self.ok, "code:painel.releasesms.1",
                   f"campaign {campaign} is held: releasesms must succeed, got {result}",
                   basis=None if c.hold_certain else "inferred", reason=None if c.hold_certain else HOLD_UNSURE)
            # Released, it waits again: for its schedule, or (none, or reached) for the queue, which the
            # machine calls "at once"; like a fresh unscheduled campaign it may still be held until then.
            c.states.append(self.state_code("waiting"))
            c.hold_marks = {}
            c.sent_at = None  # whether the queue takes it at once after a release is not published
        elif waiting:
            expect(result.code != self.ok, "code:painel.releasesms.0/wrong_state",
                   f"campaign {campaign} is waiting, not held: releasesms must be refused, got {result}")

    @precondition(lambda self: self.control is not None)
    @rule(campaign=campaigns)
    def query(self, campaign: int) -> None:
        """getstatus (paced to once a minute, 002 § Obtendo a campanha). Only where the clock can be moved:
        in real time no step waits a minute for its turn; the campaigns' callbacks show their statuses."""
        self.client.pace(self.status_operation, "main")  # the minute it waits lets time pass: take its callbacks first
        self.clock.drain(self.rx)
        self.collect()
        found = self.client.statuses(campaign)
        for number in self.by_id[campaign].numbers:
            assert number in found, (f"getstatus of campaign {campaign} has no line for {number}: {found} "
                                     f"[field-notes.md § painel: 'one line per destination']")
            self.observe(f"{campaign}:{number}", found[number])

    @rule(seconds=st.sampled_from(STEPS))
    def let_time_pass(self, seconds: float) -> None:
        self.pass_time(seconds)

    def on_callback(self, path: str, values: dict[str, str]) -> None:
        record = values.get("data_callback")
        if not path.startswith("/t/painel/") or not record:
            return
        fields = record.split(";")
        if len(fields) == 6 and fields[2] == "":
            self.observe(f"{fields[0]}:{fields[1]}", fields[4])

    @invariant()
    def campaigns_follow_their_machine(self) -> None:
        """A campaign's hold/release answers are a path of painel.campaign, and a held campaign sends nothing."""
        for c in getattr(self, "by_id", {}).values():
            expect_path(self.campaign_machine, c.states, f"campaign {c.id}")
            for number, mark in c.hold_marks.items():
                since = self.tracked[f"{c.id}:{number}"].statuses[mark:]
                moved = [s for s in since if s not in self.machine.initial]
                expect(not moved, "code:painel.holdsms.1",
                       f"campaign {c.id} is held, yet {number} went {moved} [002 § Prender a campanha]",
                       basis=None if c.hold_certain else "inferred", reason=None if c.hold_certain else HOLD_UNSURE)

    def teardown(self) -> None:
        if hasattr(self, "balance0") and self.control is not None:
            spent = self.balance0 - self.client.balance()
            self.billed(spent == self.debited, f"getbalance dropped by {spent}; the accepted campaigns cost {self.debited} SMS parts")
        super().teardown()


class ServiceSmsFlow(PainelFlow):
    """ServiceSms.asmx: painel's campaigns through SOAP, held and released by SetHoldSMS / SetReleaseSMS and
    read by GetStatus. SendSMS takes neither a schedule nor a url_callback: campaigns go at once, and their
    statuses are observed by GetStatus alone (the account-level data_callback they report through is
    test_servicesms.py's: one URL per account, which a flow running beside it must not take over)."""

    status_operation, hold_operation = "GetStatus", "SetHoldSMS"
    schedules = False

    def send(self, numbers: list[str], text: str, extra: dict[str, Any]) -> Any:
        return self.client.send(numbers, text)


# -- the tests -------------------------------------------------------------------------------------
# Where the target's clock is moved (a control API), each machine's examples run as PARTS tests of a share
# each, so that xdist spreads one machine over its workers instead of one worker running it whole. In real
# time a machine stays one test: its balance is read before and after each test, paced (painel once a
# minute), and parts would multiply those waits.
PARTS = 5


def controlled_clock(config: pytest.Config) -> bool:
    """Whether the run's target moves its clock through a control API (decided at collection, as the parts
    are tests): the built-in emulator does; a profile says so in [time]."""
    choice = config.getoption("target", "emulator")
    if choice == "emulator":
        return True
    from smsconform.conformance.target import ProfileError, load_profile

    try:
        return load_profile(Path(choice)).time.mode == "control"
    except (ProfileError, OSError):
        return False  # the session's target fixture reports the profile's problem


@dataclass(frozen=True)
class Part:
    """One share of a machine's examples: the ``index``-th of ``count`` (their sum is the profile's)."""

    index: int
    count: int

    def examples(self, total: int) -> int:
        return total // self.count + (self.index < total % self.count)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "flow_part" in metafunc.fixturenames:
        parts = PARTS if controlled_clock(metafunc.config) else 1
        metafunc.parametrize("flow_part", [Part(i, parts) for i in range(parts)],
                             ids=[f"part{i + 1}of{parts}" for i in range(parts)])


def _run(flow: type[Flow], dialect: str, sms_clients: Any, sms_control: Any, sms_target: Any,
         receiver: CallbackReceiver, registered: dict[tuple[str, str], str], part: Part = Part(0, 1)) -> None:
    client = sms_clients(dialect)
    valid_number(sms_target, 0)  # NotExercised without valid numbers
    if sms_control is not None:
        for kind in ("long", "flash", "short", "voice", "whatsapp"):
            sms_control.credits(1_000_000, kind)
    ledger: dict[str, int] = {}
    bound = type(flow.__name__, (flow,), {"client": client, "control": sms_control, "target": sms_target,
                                          "rx": receiver, "paths": registered, "ledger": ledger})
    whole_run = flow.rate_limited_balance and sms_control is None
    balance0 = client.balance() if whole_run else None
    chosen = profile_settings(real_time=sms_control is None)
    if part.count > 1:
        chosen = settings(chosen, max_examples=part.examples(chosen.max_examples))
        if chosen.derandomize:  # each part its own fixed examples (a seed overrides derandomize)
            bound = seed(zlib.crc32(f"{flow.__name__}:{part.index}".encode()))(bound)
    run_state_machine_as_test(bound, settings=chosen)
    if whole_run:
        spent = balance0 - client.balance()
        billing = catalog().rule(f"behaviour:{flow.machine_id.split('.')[0]}.billing")  # servicesms: painel's
        expect(spent == ledger.get("debited", 0), billing,
               f"over the whole test, {flow.balance_name} dropped by {spent}; the accepted messages cost "
               f"{ledger.get('debited', 0)} SMS parts")


REAL_TIME_EXAMPLES = 8  # ci in real time: every example's waits are waited for real


def profile_settings(real_time: bool = False) -> settings:
    """The active hypothesis profile (ci / thorough), adapted to a live target.

    In real time (no control API) an example costs what its steps wait, for real: the ci profile then runs
    REAL_TIME_EXAMPLES examples (thorough keeps its own count), so a sandbox run ends in minutes.

    Every step is a few requests to the target, so ci's quick profile takes short runs and thorough the
    default length. Examples are not independent: the target's clock, messages and credits persist from
    one to the next (its credits even expire as its clock runs), so a shrunk replay would run against
    another state and could fail for another reason; the first failing run is reported as found instead.
    """
    active = settings()
    steps = min(active.stateful_step_count, max(10, active.max_examples // 2))
    phases = tuple(p for p in active.phases if p is not Phase.shrink)
    examples = min(active.max_examples, REAL_TIME_EXAMPLES) if real_time and active.max_examples <= 100 \
        else active.max_examples
    return settings(active, stateful_step_count=steps, phases=phases, max_examples=examples)


@pytest.mark.rules("machine:mensagem.message", "machine:mensagem.delivery", "code:mensagem.cacl.9")
@pytest.mark.dialect("mensagem")
def test_mensagem_transitions(sms_clients, sms_control, sms_target, receiver, registered, flow_part) -> None:
    _run(MensagemFlow, "mensagem", sms_clients, sms_control, sms_target, receiver, registered, flow_part)


@pytest.mark.rules("machine:speedmarket.message")
@pytest.mark.dialect("speedmarket")
def test_speedmarket_transitions(sms_clients, sms_control, sms_target, receiver, registered, flow_part) -> None:
    _run(SpeedmarketFlow, "speedmarket", sms_clients, sms_control, sms_target, receiver, registered, flow_part)


@pytest.mark.rules("machine:painel.message", "machine:painel.campaign")
@pytest.mark.dialect("painel")
def test_painel_transitions(sms_clients, sms_control, sms_target, receiver, registered, flow_part) -> None:
    _run(PainelFlow, "painel", sms_clients, sms_control, sms_target, receiver, registered, flow_part)


@pytest.mark.rules("machine:painel.message", "machine:painel.campaign")
@pytest.mark.dialect("servicesms")
def test_servicesms_transitions(sms_clients, sms_control, sms_target, receiver, registered, flow_part) -> None:
    _run(ServiceSmsFlow, "servicesms", sms_clients, sms_control, sms_target, receiver, registered, flow_part)
