"""Family 6, callbacks: the suite's own loopback receiver gets what the provider sends, and checks it.

Generated from contracts/catalog/callbacks.yaml and codes.yaml:
- each callback rule: the suite registers its receiver (the control API's `register_callback`, or painel's
  `url_callback` per send), makes the event happen (a send, time, an MO injected with `inject_mo`), and holds
  every request that arrives to the rule: method, each parameter (present when required, of its type,
  format and listed values) and the message it is about;
- order: a message's callbacks report a path of its machine (machines.yaml): mensagem's status call-back
  ENVIADO before its DLR, speedmarket's operator level before its handset level (001: "o primeiro status
  que retornamos por Callback", judged) and never a preparation status. That they also *arrive* in that
  order, with non-decreasing dates, is inferred (behaviours.yaml <dialect>.callback-order): call-backs are
  separate requests, so out of order they are a deviation, and the path is read in the order of their dates;
- each status code with a trigger (codes.yaml mensagem callback-status / callback-dlr, speedmarket and
  painel message-status) is reached on purpose and arrives by callback;
- every accepted message of a batch gets its callbacks.

Time passes through the target's control API in small steps, so that what happens at different moments is
delivered at different moments; a real-time target is given up to `time.max_wait` seconds.

A target may act on its own: a handset may reply to any message, and the documents allow it (painel's
data_callback carries `resposta` and `data_resposta`, 002; speedmarket's `status=4` with `content` marks an
MO, field-notes.md). A callback the suite did not cause is held to its rule like any other but is not read
as a status change: painel's records with a `resposta` are replies, never a step of the message's machine,
and a speedmarket `status=4` with `content` at the status URL is held to the MO call-back's rule.

Each check is judged by its basis (judge.expect): a parameter's form and what it echoes by the parameter's
own `basis` in callbacks.yaml where it has one (mensagem's date format, speedmarket's MO id, painel's
interno_key and status texts: inferred), how painel's record travels by
behaviour:painel.data-callback-transport (inferred). The sends a scenario needs are its preconditions.
"""
from __future__ import annotations

import itertools
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterator
from urllib.parse import parse_qsl

import pytest
from lark.exceptions import LarkError

from smsconform.contracts import Callback, Code, Machine, load_contracts
from smsconform.contracts.catalog import CallbackParam
from smsconform.conformance.clients.base import NotExercised
from smsconform.conformance.clients.base import valid_number
from smsconform.conformance.flows import expect_path, is_path, path_violation, reachable  # noqa: F401 (re-exported to the other families)
from smsconform.conformance.formats import answer_format, expect_format
from smsconform.conformance.judge import expect
from smsconform.conformance.receiver import CallbackReceiver, Received

HORIZON = 3 * 86400.0          # the furthest the suite moves a target's clock waiting for a callback
FINE_STEPS = 12                # seconds moved one by one, so that each change is delivered on its own
FORMATS = {
    "yyyy-MM-dd HH:mm:ss": (re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"), "%Y-%m-%d %H:%M:%S"),
    "32 lowercase hex digits": (re.compile(r"^[0-9a-f]{32}$"), None),
}
TYPES = {"integer": re.compile(r"^-?\d+$"), "number": re.compile(r"^-?\d+(\.\d+)?$")}
STATUS_OPERATIONS = {
    ("mensagem", "callback-status"): "mensagem.status",
    ("mensagem", "callback-dlr"): "mensagem.dlr",
    ("speedmarket", "message-status"): "speedmarket.status",
    ("painel", "message-status"): "painel.data_callback",
}


# -- letting time pass -------------------------------------------------------------------------------
class Clock:
    """Moves the target's time: its control API in growing steps, or real waiting up to max_wait.

    A control API's clock move answers once the callbacks it made due have been delivered (emulator-control.yaml
    `POST /_emulator/clock`), so nothing is polled: a move is the wait, and a move of no time delivers what
    became due otherwise (a send's own callbacks). In real time the suite waits until the receiver is quiet.
    """

    def __init__(self, target: Any, control: Any) -> None:
        self.target, self.control = target, control

    def run_until(self, receiver: CallbackReceiver, done: Callable[[], bool], horizon: float = HORIZON) -> bool:
        if self.control is None:
            receiver.wait_for(lambda _: done(), timeout=self.target.time.max_wait)
            return done()
        moved, step, fine = 0.0, 1.0, 0
        self.drain(receiver)
        while not done() and moved < horizon:
            self.control.advance(step)  # answers once what the step made due has been delivered
            moved += step
            fine += 1
            if fine >= FINE_STEPS:
                step = min(step * 4, horizon)
        return done()

    def drain(self, receiver: CallbackReceiver) -> None:
        """Until every callback to the receiver that is due has arrived: a controlled clock delivers them when
        moved (by no time at all here); in real time, until the receiver has been quiet a moment."""
        if self.control is not None:
            self.control.advance(0)
            return
        receiver.settle(quiet=0.15, timeout=3)

    def settle(self, receiver: CallbackReceiver, seconds: float = 60.0) -> None:
        """Let a little more time pass, so that a callback that should not come has had its chance."""
        if self.control is not None:
            for _ in range(3):
                self.control.advance(seconds / 3)
        else:
            time.sleep(min(5.0, self.target.time.max_wait))


# -- machines ----------------------------------------------------------------------------------------
def level_of(machine: Machine, code: str) -> str | None:
    state = machine.state(code)
    return state.level if state else None


# -- parameters --------------------------------------------------------------------------------------
def _param_hold(ok: bool, rule: Callback, param: CallbackParam, message: str) -> bool:
    """A parameter's form and meaning are judged by the parameter's own basis where callbacks.yaml gives one
    (a date format no document prints, an echo of a reference we inferred), else by the call-back's."""
    return expect(ok, rule, f"{message} [{rule.source}]", basis=param.basis, reason=param.reason)


def check_params(rule: Callback, values: dict[str, str], where: str) -> None:
    """Every parameter the rule lists: present when required (the call-back's basis), of its type, format
    and values (the parameter's basis).

    In a query string an empty required parameter counts as missing; in a record (painel's data_callback)
    a field is present by its position, and its grammar says whether it may be empty."""
    record = bool(rule.encoding and "#" in rule.encoding)
    for param in rule.params:
        value = values.get(param.name)
        if value is None or value == "":
            expect(not param.required or (record and value == ""), rule,
                   f"{where}: required parameter {param.name!r} missing [{rule.source}]")
            continue
        if param.type in TYPES:
            _param_hold(bool(TYPES[param.type].match(value)), rule, param,
                        f"{where}: {param.name}={value!r} is not an {param.type}")
        if param.type == "datetime" or param.format in FORMATS:
            pattern, fmt = FORMATS.get(param.format or "", (None, None))
            if pattern is not None:
                _param_hold(bool(pattern.match(value)) and _parses(value, fmt), rule, param,
                            f"{where}: {param.name}={value!r} is not {param.format}")
        if param.values:
            _param_hold(value in param.values, rule, param, f"{where}: {param.name}={value!r} is not one of {param.values}")


def _parses(value: str, fmt: str | None) -> bool:
    if not fmt:
        return True
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def param(rule: Callback, name: str) -> CallbackParam:
    return next(p for p in rule.params if p.name == name)


def echoes(rule: Callback, values: dict[str, str], name: str, wanted: str | None, where: str) -> bool:
    """The parameter ``name`` carries what the suite sent (a number, a reference, the message replied to),
    judged by the parameter's basis: documented for mensagem's uuid (003: "Campo ID é devolvido como UUID
    no call-back"), inferred for painel's interno_key and speedmarket's MO id (callbacks.yaml)."""
    got = values.get(name)
    return _param_hold(got == wanted, rule, param(rule, name), f"{where}: {name}={got!r}, expected {wanted!r}")


def record_of(rule: Callback, request: Received) -> tuple[str | None, str]:
    """The data_callback record a request carries, and where: the query parameter ``data_callback`` (the
    contract's reading, behaviour:painel.data-callback-transport), a form field of that name, or the body."""
    record = request.params().get("data_callback")
    if record is not None:
        return record, "query"
    if request.body:
        form = dict(parse_qsl(request.body, keep_blank_values=True))
        if "data_callback" in form:
            return form["data_callback"], "form body"
        grammar, start = str(rule.encoding).split("#")
        try:
            load_contracts().grammar(grammar).parse(request.body.strip(), start=start)
        except LarkError:
            return None, ""
        return request.body.strip(), "body"
    return None, ""


def record_values(rule: Callback, record: str) -> dict[str, str]:
    """A `;` record (painel data_callback) parsed with its grammar, then named by the rule's parameters
    (002: six fields, data_resposta yyyy-MM-dd HH:mm:ss: documented)."""
    grammar, start = rule.encoding.split("#") if rule.encoding and "#" in rule.encoding else (None, None)
    if grammar:
        try:
            load_contracts().grammar(grammar).parse(record, start=start)
        except LarkError as problem:
            expect(False, rule, f"{rule.id}: the record {record!r} is not {rule.encoding}: {problem} [{rule.source}]")
    fields = record.rstrip("\r\n").split(";")
    names = [p.name for p in rule.params]
    assert len(fields) == len(names), f"{rule.id}: {len(fields)} fields, {len(names)} expected: {record!r} [{rule.source}]"
    return dict(zip(names, fields))


def values_of(rule: Callback, request: Received) -> dict[str, str]:
    """The call-back's values. Its method is documented for mensagem ("chamadas HTTP GET", 003) and speedmarket
    ("requisições via GET", 001); for painel the method and where the record travels are inferred."""
    if rule.encoding and "#" in rule.encoding:
        record, where = record_of(rule, request)
        transport = catalog().rule("behaviour:painel.data-callback-transport")
        expect(request.method == rule.method and where == "query", transport,
               f"{rule.id}: the record came by {request.method} in the {where or 'request'}, the contract reads a "
               f"GET query parameter data_callback [{transport.source}]")
        assert record is not None, f"{rule.id}: no data_callback record in {request.raw_query!r} [{rule.source}]"
        return record_values(rule, record)
    assert request.method == rule.method, f"{rule.id}: sent by {request.method}, the rule says {rule.method} [{rule.source}]"
    return request.params()


def is_reply(rule: Callback, values: dict[str, str]) -> bool:
    """A call-back that reports a handset's reply, not a status change: painel's record with a resposta
    (002: "resposta = Mensagem SMS retornada"), speedmarket's status=4 with content (field-notes.md)."""
    if rule.dialect == "painel":
        return values.get("resposta", "") != ""
    if rule.dialect == "speedmarket":
        return values.get("status") == "4" and bool(values.get("content"))
    return False


# -- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as rx:
        yield rx


@pytest.fixture
def clock(sms_target: Any, sms_control: Any) -> Clock:
    return Clock(sms_target, sms_control)


_REGISTERED: set[tuple[str, str]] = set()


@pytest.fixture(scope="module", autouse=True)
def _unregister(sms_control: Any) -> Iterator[None]:
    """The receiver stops with this module: take its URLs off the account, or later sends would call it."""
    yield
    if sms_control is not None:
        for dialect, kind in sorted(_REGISTERED):
            sms_control.register_callback(dialect, kind, None)
    _REGISTERED.clear()


def register(control: Any, receiver: CallbackReceiver, dialect: str, kinds: tuple[str, ...]) -> dict[str, str]:
    """Point the main account's callbacks of ``kinds`` at the receiver; returns kind -> path."""
    if control is None:
        raise NotExercised(f"registering {dialect} callback URLs needs the target's control API (the providers "
                           "configure them through their support)")
    paths = {}
    for kind in kinds:
        path = f"/{dialect}/{kind}"
        control.register_callback(dialect, kind, receiver.url(path))
        _REGISTERED.add((dialect, kind))
        paths[kind] = path
    return paths


def catalog() -> Any:
    return load_contracts().catalog


# -- the flows, per dialect --------------------------------------------------------------------------
@dataclass
class Sent:
    key: str            # what its callbacks name it by: md5, id, or "campaign:number"
    number: str
    ref: str | None     # the client's reference (id, campaign_id, interno_key)
    extra: dict[str, Any]


def mensagem_send(sms_clients: Any, target: Any, number: str, **extra: Any) -> Sent:
    client = sms_clients("mensagem")
    ref = extra.pop("id", f"sc{uuid.uuid4().hex[:12]}")
    exchange = client.call("send", {"n": number, "m": "smsconform callback", "id": ref, **extra})
    fields = exchange.text.strip().split(";")
    assert fields[0] == "1" and len(fields) >= 2, (
        f"precondition: mensagem send to {number} must be accepted (code:mensagem.send.1): {exchange.text!r}")
    expect_format(answer_format("mensagem", "send"), len(fields) == 2, f"send answered {exchange.text!r}, not 1;<md5>")
    return Sent(fields[1], number, ref, {})


def speedmarket_send(sms_clients: Any, target: Any, number: str, **extra: Any) -> Sent:
    client = sms_clients("speedmarket")
    ref = extra.pop("campaign_id", f"sc{uuid.uuid4().hex[:12]}")
    sent = client.send_single(number, "smsconform callback", campaign_id=ref, **extra)
    assert sent.id is not None and sent.result.success, (
        f"precondition: speedmarket send-single to {number} must be accepted (code:speedmarket.send-single.000): "
        f"{sent.exchange.text!r}")
    return Sent(sent.id, number, ref, {})


def painel_send(sms_clients: Any, target: Any, number: str, receiver: CallbackReceiver, **extra: Any) -> Sent:
    client = sms_clients("painel")
    ref = f"sc{uuid.uuid4().hex[:12]}"
    path = f"/painel/{ref}"
    campaign = client.sendsms([number], "smsconform callback", url_callback=receiver.url(path), interno_key=ref,
                              **extra)
    assert campaign.id is not None, (
        f"precondition: painel sendsms to {number} must be accepted (code:painel.sendsms.1): {campaign.exchange.text!r}")
    return Sent(f"{campaign.id}:{number}", number, ref, {"path": path, "campaign": campaign.id})


def about(rule: Callback, request: Received, sent: Sent) -> bool:
    """Whether a received callback is about this message (read loosely: `arrived` checks it strictly)."""
    values = request.params()
    if rule.dialect == "mensagem":
        return values.get("md5") == sent.key
    if rule.dialect == "speedmarket":
        return values.get("id") == sent.key
    record, _ = record_of(rule, request)
    fields = (record or "").split(";")
    return len(fields) > 1 and f"{fields[0]}:{fields[1]}" == sent.key


def arrived(receiver: CallbackReceiver, path: str, rule: Callback, sent: Sent) -> list[tuple[Received, dict[str, str]]]:
    """The call-backs about ``sent`` at ``path``. A speedmarket reply (status=4 with content) that comes to the
    status URL is an MO as field-notes.md reads it: held to callback:speedmarket.mo, never a status change."""
    got = [(r, values_of(rule, r)) for r in receiver.received(path) if about(rule, r, sent)]
    if rule.dialect != "speedmarket":
        return got
    mo = catalog().callback("speedmarket.mo")
    for request, values in got:
        if rule.name != "speedmarket.mo" and is_reply(rule, values):
            check_params(mo, values, f"{mo.id} #{request.seq} (at the status URL)")
    return [(r, v) for r, v in got if rule.name == "speedmarket.mo" or not is_reply(rule, v)]


def changes_of(rule: Callback, got: list[tuple[Received, dict[str, str]]]) -> list[tuple[Received, dict[str, str]]]:
    """The status changes among the call-backs, without the handset's replies (``is_reply``)."""
    return [(r, v) for r, v in got if not is_reply(rule, v)]


def unreadable(receiver: CallbackReceiver, path: str, rule: Callback) -> list[Received]:
    """Requests at a record call-back's path that carry no record the suite can read."""
    if not (rule.encoding and "#" in rule.encoding):
        return []
    return [r for r in receiver.received(path) if record_of(rule, r)[0] is None]


def final_codes(machine: Machine) -> set[str]:
    return set(machine.finals)


def hash_of(control: Any, dialect: str, number: str, ident: str | None = None) -> str:
    """The MD5 protocol the control API knows a message by (inject_mo's reply_to)."""
    found = control.messages(dialect=dialect, number=number)
    for message in reversed(found):
        if ident is None or str(message.get("id")) == ident:
            return str(message["hash"])
    raise AssertionError(f"the control API knows no {dialect} message to {number} (id {ident})")


# -- each callback rule ------------------------------------------------------------------------------
def _rules() -> list[Callback]:
    return [cb for cb in load_contracts().catalog.callbacks if cb.dialect in ("mensagem", "speedmarket", "painel")]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "callback_rule" in metafunc.fixturenames:
        metafunc.parametrize("callback_rule", [
            pytest.param(cb, id=cb.id, marks=[pytest.mark.rules(cb.id), pytest.mark.dialect(cb.dialect)])
            for cb in _rules()
        ])
    if "status_code" in metafunc.fixturenames:
        codes = [c for c in load_contracts().catalog.codes if (c.dialect, c.operation) in STATUS_OPERATIONS]
        metafunc.parametrize("status_code", [
            pytest.param(c, id=c.id, marks=[pytest.mark.rules(c.id, f"callback:{STATUS_OPERATIONS[(c.dialect, c.operation)]}"),
                                            pytest.mark.dialect(c.dialect)])
            for c in codes
        ])


def test_callback(callback_rule: Callback, receiver: CallbackReceiver, clock: Clock, sms_clients, sms_control,
                  sms_target) -> None:
    scenario = SCENARIOS.get(callback_rule.name)
    if scenario is None:
        raise NotExercised(f"{callback_rule.id}: the suite knows no way to make this callback happen yet")
    scenario(callback_rule, receiver, clock, sms_clients, sms_control, sms_target)


def scenario_mensagem_status(rule: Callback, rx: CallbackReceiver, clock: Clock, sms_clients: Any, control: Any,
                             target: Any) -> None:
    paths = register(control, rx, "mensagem", ("status",))
    sent = mensagem_send(sms_clients, target, valid_number(target, 0))
    machine = catalog().machine("mensagem.message")
    done = lambda: any(v.get("status") in final_codes(machine) for _, v in arrived(rx, paths["status"], rule, sent))
    assert clock.run_until(rx, done), f"{rule.id}: no final status call-back for {sent.key} [{rule.source}]"
    clock.settle(rx)
    got = arrived(rx, paths["status"], rule, sent)
    for request, values in got:
        where = f"{rule.id} #{request.seq}"
        check_params(rule, values, where)
        echoes(rule, values, "msisdn", sent.number, where)
        echoes(rule, values, "uuid", sent.ref, where)  # 003: "Campo ID é devolvido como UUID no call-back"
    check_order(rule, machine, got, initial=machine.initial)


def scenario_mensagem_dlr(rule: Callback, rx: CallbackReceiver, clock: Clock, sms_clients: Any, control: Any,
                          target: Any) -> None:
    paths = register(control, rx, "mensagem", ("status", "dlr"))
    status_rule = catalog().callback("mensagem.status")
    sent = mensagem_send(sms_clients, target, valid_number(target, 0))
    delivery = catalog().machine("mensagem.delivery")
    done = lambda: bool(arrived(rx, paths["dlr"], rule, sent))
    assert clock.run_until(rx, done), f"{rule.id}: no DLR call-back for {sent.key} [{rule.source}]"
    clock.settle(rx)
    dlrs = arrived(rx, paths["dlr"], rule, sent)
    statuses = arrived(rx, paths["status"], status_rule, sent)
    for request, values in dlrs:
        where = f"{rule.id} #{request.seq}"
        check_params(rule, values, where)
        echoes(rule, values, "msisdn", sent.number, where)
        echoes(rule, values, "uuid", sent.ref, where)
    sent_status = [(r, v) for r, v in statuses if v.get("status") in delivery.initial]
    assert sent_status, (f"{rule.id}: a DLR came for {sent.key} without the status call-back ENVIADO "
                         f"(machine:mensagem.delivery starts at ENVIADO) [{delivery.source}]")
    merged = sorted(sent_status[:1] + dlrs, key=lambda rv: rv[0].seq)
    check_order(rule, delivery, merged)  # the ENVIADO call-back before the DLR: behaviour:mensagem.callback-order


def scenario_mensagem_mo(rule: Callback, rx: CallbackReceiver, clock: Clock, sms_clients: Any, control: Any,
                         target: Any) -> None:
    paths = register(control, rx, "mensagem", ("status", "mo"))
    status_rule = catalog().callback("mensagem.status")
    sent = mensagem_send(sms_clients, target, valid_number(target, 0))
    clock.run_until(rx, lambda: bool(arrived(rx, paths["status"], status_rule, sent)))
    text = f"resposta {uuid.uuid4().hex[:8]}"
    control.inject_mo(sent.number, text, reply_to=sent.key, dialect="mensagem")
    # other MOs (a handset that replies on its own) may arrive too: only the one injected is read
    mine = lambda: [(r, r.params()) for r in rx.received(paths["mo"]) if r.params().get("message") == text]
    assert clock.run_until(rx, lambda: bool(mine()), horizon=600), f"{rule.id}: no MO call-back [{rule.source}]"
    for request, values in mine():
        where = f"{rule.id} #{request.seq}"
        assert request.method == rule.method, f"{where}: sent by {request.method}, the rule says {rule.method} [{rule.source}]"
        check_params(rule, values, where)
        echoes(rule, values, "msisdn", sent.number, where)  # the handset that replied
        echoes(rule, values, "md5", sent.key, where)        # "Protocolo da mensagem devolvido na requisição de envio"
        if values.get("uuid") is not None:                  # optional here; what it carries is inferred
            echoes(rule, values, "uuid", sent.ref, where)


def scenario_speedmarket_status(rule: Callback, rx: CallbackReceiver, clock: Clock, sms_clients: Any, control: Any,
                                target: Any) -> None:
    paths = register(control, rx, "speedmarket", ("status",))
    sent = speedmarket_send(sms_clients, target, valid_number(target, 0))
    machine = catalog().machine("speedmarket.message")
    done = lambda: any(v.get("status") in final_codes(machine) for _, v in arrived(rx, paths["status"], rule, sent))
    assert clock.run_until(rx, done), f"{rule.id}: no final status callback for id {sent.key} [{rule.source}]"
    clock.settle(rx)
    got = arrived(rx, paths["status"], rule, sent)
    for request, values in got:
        where = f"{rule.id} #{request.seq}"
        check_params(rule, values, where)
        echoes(rule, values, "campaign_id", sent.ref, where)  # 001's example: campaign_id=abc123&id=150
    levels = [level_of(machine, v["status"]) for _, v in sorted(got, key=lambda rv: rv[0].seq)]
    assert "preparation" not in levels, (
        f"{rule.id}: a preparation status came by callback ('este status e não é retornado por Callback') [{machine.source}]")
    assert levels == sorted(levels, key=lambda lv: 0 if lv == "operator" else 1), (
        f"{rule.id}: the operator level ('o primeiro status que retornamos por Callback') must come before the handset "
        f"level ('o segundo status'), got {levels} [{machine.source}]")
    check_order(rule, machine, got, initial=machine.initial)


def scenario_speedmarket_mo(rule: Callback, rx: CallbackReceiver, clock: Clock, sms_clients: Any, control: Any,
                            target: Any) -> None:
    paths = register(control, rx, "speedmarket", ("status", "mo"))
    sent = speedmarket_send(sms_clients, target, valid_number(target, 0))
    clock.run_until(rx, lambda: bool(arrived(rx, paths["status"], catalog().callback("speedmarket.status"), sent)))
    text = f"resposta {uuid.uuid4().hex[:8]}"
    control.inject_mo(sent.number, text, reply_to=hash_of(control, "speedmarket", sent.number, sent.key),
                      dialect="speedmarket")
    # other MOs (a handset that replies on its own) may arrive too: only the one injected is read
    mine = lambda: [(r, r.params()) for r in rx.received(paths["mo"]) if r.params().get("content") == text]
    assert clock.run_until(rx, lambda: bool(mine()), horizon=600), f"{rule.id}: no MO callback [{rule.source}]"
    for request, values in mine():
        where = f"{rule.id} #{request.seq}"
        assert request.method == rule.method, f"{where}: sent by {request.method}, the rule says {rule.method} [{rule.source}]"
        check_params(rule, values, where)
        assert values["number"] == "55" + sent.number, (
            f"{where}: number {values['number']!r}, the reply came from {sent.number} (with the country code, as "
            f"001's example 'number=551499999999') [{rule.source}]")
        echoes(rule, values, "id", sent.key, where)
        _param_hold(values.get("campaign_id") in (None, sent.ref), rule, param(rule, "campaign_id"),
                    f"{where}: campaign_id {values.get('campaign_id')!r}, the message replied to had {sent.ref!r}")


def scenario_painel_data_callback(rule: Callback, rx: CallbackReceiver, clock: Clock, sms_clients: Any,
                                  control: Any, target: Any) -> None:
    sent = painel_send(sms_clients, target, valid_number(target, 0), rx)
    path = sent.extra["path"]
    machine = catalog().machine("painel.message")
    done = lambda: any(v.get("status") in final_codes(machine) for _, v in changes_of(rule, arrived(rx, path, rule, sent)))
    if not clock.run_until(rx, done):
        _no_final_record(rx, path, rule, sent, machine)
        return
    clock.settle(rx)
    got = arrived(rx, path, rule, sent)
    for request, values in got:
        where = f"{rule.id} #{request.seq}"
        check_params(rule, values, where)
        echoes(rule, values, "interno_key", sent.ref, where)
    check_order(rule, machine, changes_of(rule, got), initial=machine.initial)
    if control is None:
        return
    text = f"resposta {uuid.uuid4().hex[:8]}"
    control.inject_mo(sent.number, text, reply_to=hash_of(control, "painel", sent.number), dialect="painel")
    replies = lambda: [(r, v) for r, v in arrived(rx, path, rule, sent) if v.get("resposta") == text]
    assert clock.run_until(rx, lambda: bool(replies()), horizon=600), (
        f"{rule.id}: no data_callback for the reply ('O call-back é utilizado para obter respostas') [{rule.source}]")
    for request, values in replies():
        check_params(rule, values, f"{rule.id} #{request.seq}")


def _no_final_record(rx: CallbackReceiver, path: str, rule: Callback, sent: Sent, machine: Machine) -> None:
    """No final data_callback came: a failure when nothing came at all (002: the call-back returns "retornos
    de atualização das campanhas"); a deviation, after which the test cannot go on, when records came that
    the contract's inferences cannot read (another transport, status texts other than getstatus's)."""
    other = unreadable(rx, path, rule)
    transport = catalog().rule("behaviour:painel.data-callback-transport")
    if other and not expect(False, transport, f"{rule.id}: {len(other)} request(s) to url_callback carry no data_callback "
                            f"record the suite can read: {other[0].method} {other[0].raw_query!r} {other[0].body[:200]!r} "
                            f"[{transport.source}]"):
        return
    statuses = [v.get("status") for _, v in changes_of(rule, arrived(rx, path, rule, sent))]
    unknown = [s for s in statuses if machine.state(s or "") is None]
    if unknown and not _param_hold(False, rule, param(rule, "status"),
                                   f"{rule.id}: status {unknown[0]!r} is none of getstatus's texts ({machine.id})"):
        return
    raise AssertionError(f"{rule.id}: no final data_callback for campaign {sent.key}, got {statuses} [{rule.source}]")


def date_of(values: dict[str, str]) -> str | None:
    """The date a call-back reports (mensagem and speedmarket `date`, painel `data_resposta`), when it is in
    the format the suite can order."""
    value = values.get("date") or values.get("data_resposta")
    pattern, _ = FORMATS["yyyy-MM-dd HH:mm:ss"]
    return value if value and pattern.match(value) else None


def _by_dates(machine: Machine, start: list[str], arrival: list[tuple[Received, dict[str, str]]]) -> list[str] | None:
    """An order of the arrived statuses that their dates allow (equal dates in any order) and that is a path of
    the machine, or None. Call-backs are separate requests; their dates say in what order the changes came."""
    if any(date_of(v) is None for _, v in arrival):
        groups = [[v["status"] for _, v in arrival]]
    else:
        ordered = sorted(arrival, key=lambda rv: (date_of(rv[1]) or "", rv[0].seq))
        groups = [[v["status"] for _, v in same] for _, same in itertools.groupby(ordered, key=lambda rv: date_of(rv[1]))]
    candidates: list[list[str]] = [[]]
    for group in groups:
        orders = list(dict.fromkeys(itertools.permutations(group))) if len(group) <= 5 else [tuple(group)]
        candidates = [c + list(o) for c in candidates for o in orders][:720]
    return next((c for c in candidates if is_path(machine, start + c)), None)


def check_order(rule: Callback, machine: Machine, got: list[tuple[Received, dict[str, str]]],
                initial: tuple[str, ...] = (), context: str = "") -> None:
    """The call-backs of one message report a path of the machine, from an initial state.

    That they arrive in the order of their changes, with non-decreasing dates, is inferred for each dialect
    (behaviours.yaml <dialect>.callback-order: the call-backs are separate requests). When they arrive in
    another order, the statuses are held to the machine in an order their dates allow; the path itself is
    judged by the machine's edges (flows.expect_path)."""
    assert got, f"{rule.id}: nothing arrived"
    context = context or rule.id
    order = catalog().rule(f"behaviour:{rule.dialect}.callback-order")
    arrival = sorted(got, key=lambda rv: rv[0].seq)
    statuses = [v["status"] for _, v in arrival]
    start = [initial[0]] if initial and statuses[0] not in initial else []
    dates = [date_of(v) for _, v in arrival]
    known = [d for d in dates if d]
    expect(known == sorted(known), order, f"{context}: call-backs arrived out of their dates' order: {dates} "
                                          f"[{order.source}]")
    unknown = [s for s in statuses if machine.state(s) is None]
    status = param(rule, "status")
    if unknown and status.basis and not _param_hold(False, rule, status, f"{context}: status {unknown[0]!r} is no "
                                                    f"state of {machine.id}"):
        return  # painel: the record's status texts are inferred; the path cannot be read
    if is_path(machine, start + statuses):
        expect_path(machine, start + statuses, context)
        return
    reordered = _by_dates(machine, start, arrival)
    if reordered is not None:
        expect(False, order, f"{context}: call-backs arrived as {statuses}, a path of {machine.id} only in the "
                             f"order their dates allow ({reordered}) [{order.source}]")
        expect_path(machine, start + reordered, context)
        return
    by_date = [v["status"] for _, v in sorted(arrival, key=lambda rv: (date_of(rv[1]) or "", rv[0].seq))]
    expect_path(machine, start + by_date, context)


SCENARIOS: dict[str, Callable[..., None]] = {
    "mensagem.status": scenario_mensagem_status,
    "mensagem.dlr": scenario_mensagem_dlr,
    "mensagem.mo": scenario_mensagem_mo,
    "speedmarket.status": scenario_speedmarket_status,
    "speedmarket.mo": scenario_speedmarket_mo,
    "painel.data_callback": scenario_painel_data_callback,
}


# -- each status code with a trigger, reached on purpose and seen by callback -------------------------
def trigger_number(code: Code, target: Any, key: str) -> tuple[str, dict[str, Any]]:
    """The destination and other overrides a status code's trigger `set`s (codes.yaml conventions)."""
    overrides: dict[str, Any] = {}
    number = None
    for name, template in (code.trigger or {}).get("set", {}).items():
        value = str(template)
        match = re.fullmatch(r"\{fixtures\.numbers\.([a-z_]+)(?:\.(\d+))?\}", value)
        if match:
            found = target.fixtures.numbers_of(match.group(1))
            index = int(match.group(2) or 0)
            if len(found) <= index:
                raise NotExercised(f"the target profile has no fixture numbers.{match.group(1)}[{index}]")
            value = found[index]
        if name == key:
            number = value
        else:
            overrides[name] = value
    return number or valid_number(target, 0), overrides


def test_status_code_arrives_by_callback(status_code: Code, receiver: CallbackReceiver, clock: Clock, sms_clients,
                                         sms_control, sms_target) -> None:
    code = status_code
    trigger = code.trigger
    if trigger is None:
        raise NotExercised(f"{code.id} has no trigger in the catalog")
    rule = catalog().callback(STATUS_OPERATIONS[(code.dialect, code.operation)])
    state = trigger.get("state")
    if state not in (None, "message_cancelled"):
        raise NotExercised(f"{code.id} needs state {state!r}, which this family does not build")
    rx = receiver
    if code.dialect == "mensagem":
        paths = register(sms_control, rx, "mensagem", ("status", "dlr"))
        number, extra = trigger_number(code, sms_target, "n")
        if state == "message_cancelled":
            sent = mensagem_send(sms_clients, sms_target, number, d="2099-12-31 23:59:59")
            cancelled = sms_clients("mensagem").call("cacl", {"h": sent.key}).text.split(";")
            assert cancelled[1:2] == ["9"], (
                f"precondition of {code.id}: cacl of a message scheduled for 2099 must cancel it (9 CANCELADO; 003 "
                f"'Somente mensagens com status de aguardando envio estão aptas a cancelamento'): {cancelled}")
        else:
            sent = mensagem_send(sms_clients, sms_target, number, **extra)
        path = paths["dlr" if code.operation == "callback-dlr" else "status"]
    elif code.dialect == "speedmarket":
        if state is not None:
            raise NotExercised(f"{code.id}: speedmarket documents no cancel method")
        paths = register(sms_control, rx, "speedmarket", ("status",))
        number, extra = trigger_number(code, sms_target, "number")
        if "type" in extra:
            extra["type"] = int(extra["type"])
            extra.setdefault("content", "smsconform callback")
        client = sms_clients("speedmarket")
        sent_single = client.send_single(number, str(extra.pop("content", "smsconform callback")), **extra)
        assert sent_single.id is not None and sent_single.result.success, (
            f"precondition of {code.id}: send-single to {number} must be accepted (code:speedmarket.send-single.000): "
            f"{sent_single.exchange.text!r}")
        sent = Sent(sent_single.id, number, None, {})
        path = paths["status"]
    else:
        number, extra = trigger_number(code, sms_target, "numbers")
        sent = painel_send(sms_clients, sms_target, number, rx, **extra)
        path = sent.extra["path"]
    seen = lambda: [v.get("status") for _, v in changes_of(rule, arrived(rx, path, rule, sent))]
    if not _expect_arrival(code, rule, clock.run_until(rx, lambda: code.code in seen()), seen()):
        return
    clock.settle(rx)
    for request, values in arrived(rx, path, rule, sent):
        check_params(rule, values, f"{code.id} via {rule.id} #{request.seq}")
    machine = machine_for(code)
    # mensagem's DLRs alone: mensagem.delivery starts at ENVIADO, the status call-back that precedes them
    check_order(rule, machine, changes_of(rule, arrived(rx, path, rule, sent)), initial=machine.initial)
    statuses = seen()
    if code.dialect == "speedmarket" and code.code == "0" and code.note and "last status" in code.note:
        handset = [s for s in statuses if level_of(machine, s) == "handset"]
        assert not handset, f"{code.id}: {code.note} (001: 'as operadoras Oi e Sercomtel não possuem este segundo nível de status'); got {statuses} [{code.source}]"


def _expect_arrival(code: Code, rule: Callback, ok: bool, seen: list[str | None]) -> bool:
    """The status a trigger reaches arrives by call-back, judged by the code's basis (its trigger's where that
    is inferred: which number reaches an outcome). Where the call-backs came with statuses the machine does
    not know, the record's status texts decide (painel: inferred, callbacks.yaml)."""
    if ok:
        return True
    how, status = code.trigger or {}, param(rule, "status")
    basis, reason = code.basis, code.reason
    if how.get("basis") == "inferred":
        basis, reason = "inferred", how.get("reason")
    if status.basis and any(machine_for(code).state(s or "") is None for s in seen):
        basis, reason = status.basis, status.reason
    return expect(False, code, f"{code.id}: status {code.code} ({code.text}) never arrived by callback; got {seen} "
                               f"[{code.source}]", basis=basis, reason=reason)


def machine_for(code: Code) -> Machine:
    """The machine whose states a status table names: machines.yaml `status_codes`, else the dialect's
    message machine (mensagem's status call-back speaks the message-status codes)."""
    machines = [m for m in catalog().machines if m.dialect == code.dialect and m.entity == "message"]
    exact = [m for m in machines if m.status_codes == f"{code.dialect}.{code.operation}"]
    fallback = [m for m in machines if m.status_codes == f"{code.dialect}.message-status"]
    chosen = (exact or fallback)[:1]
    if not chosen:
        raise NotExercised(f"{code.id}: no machine of {code.dialect} speaks these statuses")
    return chosen[0]


# -- every accepted message gets its callbacks --------------------------------------------------------
@pytest.mark.rules("callback:mensagem.status", "callback:mensagem.dlr")
@pytest.mark.dialect("mensagem")
def test_every_accepted_mensagem_message_gets_its_callbacks(receiver: CallbackReceiver, clock: Clock, sms_clients,
                                                             sms_control, sms_target) -> None:
    rx = receiver
    paths = register(sms_control, rx, "mensagem", ("status", "dlr"))
    status_rule, dlr_rule = catalog().callback("mensagem.status"), catalog().callback("mensagem.dlr")
    wanted = [valid_number(sms_target, i) for i in range(3)]
    for name in ("outcome_failed", "outcome_error", "outcome_invalid", "outcome_no_dlr"):
        wanted += sms_target.fixtures.numbers_of(name)[:1]
    exchange = sms_clients("mensagem").call("mult", {"n": ";".join(wanted), "m": "smsconform lote"})
    lines = [line.split(";") for line in exchange.text.strip().splitlines()]
    accepted = [Sent(f[1], f[2], None, {}) for f in lines if len(f) == 3 and f[0] == "1"]
    assert len(accepted) == len(wanted), (
        f"precondition: mult must accept every number of {wanted} (code:mensagem.mult.1): {exchange.text!r}")
    machine = catalog().machine("mensagem.message")
    finals = final_codes(machine)
    done = lambda: all(any(v.get("status") in finals for _, v in arrived(rx, paths["status"], status_rule, s))
                       for s in accepted)
    assert clock.run_until(rx, done), f"not every accepted message got its final status call-back [{status_rule.source}]"
    clock.settle(rx, 600)
    delivery = catalog().machine("mensagem.delivery")
    for sent in accepted:
        got = arrived(rx, paths["status"], status_rule, sent)
        check_order(status_rule, machine, got, initial=machine.initial, context=sent.number)
        statuses = [v["status"] for _, v in got]
        dlrs = [v["status"] for _, v in arrived(rx, paths["dlr"], dlr_rule, sent)]
        if dlrs:
            assert set(statuses) & set(delivery.initial), (
                f"{sent.number}: a DLR call-back {dlrs} for a message whose status is {statuses}, not ENVIADO "
                f"(machine:mensagem.delivery starts at ENVIADO) [{delivery.source}]")
    # codes.yaml: valid.0 reaches DLR 2 and outcome_failed DLR 5 (callback-dlr triggers); the other valid
    # numbers may sit on an operator without DLR (003: "algumas operadoras como Oi e Sercomtel não possuem")
    expect_dlr = {valid_number(sms_target, 0)} | set(sms_target.fixtures.numbers_of("outcome_failed")[:1])
    for sent in accepted:
        if sent.number in expect_dlr:
            assert arrived(rx, paths["dlr"], dlr_rule, sent), (
                f"{sent.number}: a fixture number on an operator with DLR was delivered, but no DLR call-back came "
                f"[{dlr_rule.source}]")
    for name in ("outcome_no_dlr",):
        for sent in [s for s in accepted if s.number in sms_target.fixtures.numbers_of(name)[:1]]:
            assert not arrived(rx, paths["dlr"], dlr_rule, sent), (
                f"{sent.number} ({name}): an operator without DLR must get no DLR call-back ('algumas operadoras "
                f"como Oi e Sercomtel não possuem esta funcionalidade') [{dlr_rule.source}]")


@pytest.mark.rules("callback:speedmarket.status")
@pytest.mark.dialect("speedmarket")
def test_every_accepted_speedmarket_message_gets_its_callbacks(receiver: CallbackReceiver, clock: Clock,
                                                                sms_clients, sms_control, sms_target) -> None:
    """send-multiple answers no id per message (001 § Envio em Lote), so each message carries its own
    campaign_id, which the status callback echoes (001 § Callback de Status de Entrega)."""
    rx = receiver
    paths = register(sms_control, rx, "speedmarket", ("status",))
    rule = catalog().callback("speedmarket.status")
    client = sms_clients("speedmarket")
    wanted = [valid_number(sms_target, i) for i in range(3)]
    for name in ("outcome_failed", "outcome_no_dlr", "outcome_error", "blacklisted"):
        wanted += sms_target.fixtures.numbers_of(name)[:1]
    batch = uuid.uuid4().hex[:10]
    refs = [f"sc{batch}-{i}" for i in range(len(wanted))]
    exchange = client.call("send-multiple", {"defaultValues": {"type": 0}, "messages": [
        {"number": int(n), "content": "smsconform lote", "campaign_id": ref} for n, ref in zip(wanted, refs)]})
    items = client.item_results(exchange)
    assert len(items) == len(wanted) and all(i.success for i in items), (
        f"precondition: send-multiple must accept every message to {wanted} (code:speedmarket.send-multiple.001): "
        f"{exchange.text[:500]!r}")
    machine = catalog().machine("speedmarket.message")
    finals = final_codes(machine)
    of = lambda ref: [v for _, v in of_ref(ref)]
    of_ref = lambda ref: [(r, r.params()) for r in rx.received(paths["status"])
                          if r.params().get("campaign_id") == ref and not is_reply(rule, r.params())]
    no_handset = set(sms_target.fixtures.numbers_of("outcome_no_dlr")[:1])
    done = lambda: all(any(v.get("status") in finals for v in of(ref))
                       for number, ref in zip(wanted, refs) if number not in no_handset)
    assert clock.run_until(rx, done), f"not every accepted message got its final status callback [{rule.source}]"
    clock.settle(rx, 600)
    for number, ref in zip(wanted, refs):
        got = of_ref(ref)
        assert got, f"{number}: accepted, but no status callback came [{rule.source}]"
        for request, values in got:
            assert request.method == rule.method, f"{rule.id} for {number}: sent by {request.method} [{rule.source}]"
            check_params(rule, values, f"{rule.id} for {number}")
            if values.get("number"):  # observed (field-notes.md: callbacks arrive with number)
                assert values["number"] in (number, "55" + number), (
                    f"{rule.id}: number {values['number']!r} for {number} [field-notes.md § speedmarket]")
        check_order(rule, machine, got, initial=machine.initial, context=number)
