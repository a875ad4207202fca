"""Every documented selector of a query finds exactly the items it names.

Generated from contracts/catalog/selectors.yaml: for each selector and each of its `counts`, the suite makes
one item more than it asks for (so an answer that ignores the selector shows it), asks with the named
values joined by the selector's `separator`, and holds the answer to exactly those items: none missing,
none other. How items are made and read is per operation (the probes below); what is asked and how many
comes from the catalog.
"""
from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any, Callable

import pytest

from smsconform.contracts import load_contracts
from smsconform.conformance.clients.base import NotExercised
from smsconform.conformance.codes import code_params
from smsconform.conformance.judge import expect

OUT_OF_DATE = "OUT-OF-DATE"
CONTROL_WAIT = 60.0   # seconds of a moved clock a status step may take


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "select_rule" in metafunc.fixturenames:
        rules = [r for r in load_contracts().catalog.families if r.kind == "select"]
        params = [pytest.param(rule, count, id=f"{rule.id}[{count}]", marks=param.marks)
                  for rule, param in zip(rules, code_params(rules)) for count in rule.counts]
        metafunc.parametrize("select_rule,count", params)


# -- speedmarket ----------------------------------------------------------------------------------------
class Unreadable(Exception):
    """A probe's answer cannot be read in the form the contract infers: the deviation is recorded, the test
    stops."""


def _messages(client: Any, operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    exchange = client.call(operation, params)
    body = client.json(exchange)
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise AssertionError(f"speedmarket.{operation}: no messages list in {exchange.text[:300]!r}")
    return [m for m in body["messages"] if isinstance(m, dict)]


def _sent_id(client: Any, **extra: Any) -> str:
    sent = client.send_single(extra.pop("number", None) or client.number(), **extra)
    if sent.id is None:
        raise AssertionError(f"speedmarket.send-single refused a message the selector needs: {sent.exchange.text!r}")
    return sent.id


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [str(m.get("id")) for m in items if m.get("id") is not None]


def mt_id_by_id(rule: Any, count: int, clients: Callable[[str], Any], control: Any) -> tuple[list[str], list[str]]:
    client = clients("speedmarket")
    made = [_sent_id(client) for _ in range(count + 1)]
    named = made[:count]
    return named, _ids(_messages(client, "mt_id", {"id": rule.separator.join(named)}))


def mt_id_by_campaign(rule: Any, count: int, clients: Callable[[str], Any], control: Any
                      ) -> tuple[list[str], list[str]]:
    client = clients("speedmarket")
    campaigns = [f"sel-{uuid.uuid4().hex[:12]}" for _ in range(count + 1)]
    made = [_sent_id(client, campaign_id=c) for c in campaigns]
    found = _ids(_messages(client, "mt_id", {"campaign_id": rule.separator.join(campaigns[:count])}))
    return made[:count], found


def mo_by_campaign(rule: Any, count: int, clients: Callable[[str], Any], control: Any) -> tuple[list[str], list[str]]:
    if control is None:
        raise NotExercised(f"{rule.id}: needs replies to the suite's messages, which only a control API can inject")
    client = clients("speedmarket")
    start = client.window(days=0.01)["start_date"]
    texts = []
    campaigns = [f"mo-{uuid.uuid4().hex[:12]}" for _ in range(count + 1)]
    for campaign in campaigns:
        _sent_id(client, campaign_id=campaign)
        found = control.messages(campaign_id=campaign, dialect="speedmarket")
        if not found:
            raise AssertionError(f"the control API does not show the message of campaign {campaign}")
        text = f"smsconform resposta {uuid.uuid4().hex[:8]}"
        control.inject_mo(found[0]["number"], text, reply_to=found[0]["hash"], dialect="speedmarket")
        texts.append(text)
    window = {**client.window(days=1), "start_date": start}
    # the MOs' list and field names are inferred (behaviour:speedmarket.mo-record-keys): each record is
    # known by the injected text it carries in any field
    items = client.mo_records("mo", {**window, "campaign_id": rule.separator.join(campaigns[:count])})
    if items is None:
        raise Unreadable()
    return texts[:count], [next((t for t in texts if t in map(str, m.values())), str(m.get("content"))) for m in items]


def mt_date_by_type(rule: Any, count: int, clients: Callable[[str], Any], control: Any) -> tuple[list[str], list[str]]:
    client = clients("speedmarket")
    window = client.window(days=1)
    other, named = _sent_id(client, type=0), _sent_id(client, type=2)
    items = _messages(client, "mt_date", {**window, "type": "2"})
    found = _ids(items)
    if len(found) != len(items):
        raise NotExercised(f"{rule.id}: mt_date items carry no `id` on this target, so ours cannot be told apart")
    return [named], [i for i in found if i in (named, other)]


def _distinct_statuses(client: Any, made: list[str], control: Any, step: float = 1.0) -> list[Any]:
    """The messages' statuses once they differ: a blocked number's message is accepted first and blocked
    where it would reach the operator (machines.yaml speedmarket.message: -1 -> 3 -> -5), so time must pass,
    on the target's clock (its control API: a minute, far more than lifecycle.yaml's steps) or for real, up to
    ``time.max_wait``."""
    waited, bound = 0.0, (CONTROL_WAIT if control is not None else client.target.time.max_wait)
    while True:
        status = client.statuses(made)
        codes = [status.get(i) for i in made]
        if (None not in codes and len(set(codes)) == len(codes)) or waited >= bound:
            return codes
        if control is not None:
            control.advance(step)
        else:
            time.sleep(step)
        waited += step


def mt_date_by_status(rule: Any, count: int, clients: Callable[[str], Any], control: Any
                      ) -> tuple[list[str], list[str]]:
    """Three messages in three statuses at once, with no clock: scheduled a day ahead (waiting), and to the
    blacklisted and landline fixture numbers (accepted, then blocked: 001's negative statuses)."""
    client = clients("speedmarket")
    fixtures = client.target.fixtures
    numbers = [fixtures.numbers_of(name) for name in ("blacklisted", "landline")]
    if not all(numbers):
        raise NotExercised(f"{rule.id}: the target profile lacks fixtures.numbers.blacklisted or .landline")
    window = client.window(days=1)
    ahead = (client.now() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    made = [_sent_id(client, schedule=ahead)] + [_sent_id(client, number=n[0]) for n in numbers]
    codes = _distinct_statuses(client, made, control)
    if None in codes or len(set(codes)) != len(codes):
        raise NotExercised(f"{rule.id}: the three messages do not show three statuses to tell apart: {codes}")
    named = made[:count]
    items = _messages(client, "mt_date", {**window, "status": rule.separator.join(str(c) for c in codes[:count])})
    found = _ids(items)
    if len(found) != len(items):
        raise NotExercised(f"{rule.id}: mt_date items carry no `id` on this target, so ours cannot be told apart")
    return named, [i for i in found if i in made]


# -- mensagem and wbsapi: hashes -----------------------------------------------------------------------
def _hashes_of(client: Any, count: int, scheduled: bool) -> list[str]:
    return [client.send_one(scheduled=scheduled) for _ in range(count + 1)]


def stam_by_hash(rule: Any, count: int, clients: Callable[[str], Any], control: Any) -> tuple[list[str], list[str]]:
    client = clients("mensagem")
    made = _hashes_of(client, count, scheduled=False)
    text = client.call("stam", {"h": rule.separator.join(made[:count])}).text.strip()
    if text == OUT_OF_DATE:
        raise NotExercised(f"{rule.id}: the target answers {OUT_OF_DATE} (stam is discontinued since 29/02/2020, "
                           "003 § LEIA ANTES DE INICIAR)")
    return made[:count], [ln.split(";")[0] for ln in text.splitlines() if ln.strip()]


def cacl_by_hash(rule: Any, count: int, clients: Callable[[str], Any], control: Any) -> tuple[list[str], list[str]]:
    client = clients("mensagem")
    made = _hashes_of(client, count, scheduled=True)
    text = client.call("cacl", {"h": rule.separator.join(made[:count])}).text.strip()
    return made[:count], [ln.split(";")[0] for ln in text.splitlines() if ln.strip()]


def wbsapi_by_hash(rule: Any, count: int, clients: Callable[[str], Any], control: Any) -> tuple[list[str], list[str]]:
    client = clients("wbsapi")
    made = _hashes_of(client, count, scheduled=rule.operation == "cancel")
    lines = client.statuses(made[:count], operation=rule.operation)
    return made[:count], [ln.fields[0] for ln in lines]


PROBES: dict[tuple[str, str, str], Callable[..., tuple[list[str], list[str]]]] = {
    ("speedmarket", "mt_id", "id"): mt_id_by_id,
    ("speedmarket", "mt_id", "campaign_id"): mt_id_by_campaign,
    ("speedmarket", "mo", "campaign_id"): mo_by_campaign,
    ("speedmarket", "mt_date", "type"): mt_date_by_type,
    ("speedmarket", "mt_date", "status"): mt_date_by_status,
    ("mensagem", "stam", "h"): stam_by_hash,
    ("mensagem", "cacl", "h"): cacl_by_hash,
    ("wbsapi", "status", "Hash"): wbsapi_by_hash,
    ("wbsapi", "cancel", "Hash"): wbsapi_by_hash,
}


def test_a_selector_finds_exactly_what_it_names(select_rule: Any, count: int, sms_clients: Any,
                                                 sms_control: Any) -> None:
    rule = select_rule
    probe = PROBES.get((rule.dialect, rule.operation, rule.param))
    if probe is None:
        raise NotExercised(f"{rule.id}: the suite has no probe for {rule.dialect}.{rule.operation} by {rule.param}")
    sms_clients(rule.dialect).require(rule.operation)
    try:
        named, found = probe(rule, count, sms_clients, sms_control)
    except Unreadable:
        return
    missing = [n for n in named if n not in found]
    others = [f for f in found if f not in named]
    expect(not missing and not others and len(found) == len(set(found)), rule,
           f"{rule.id}: {rule.dialect}.{rule.operation} by {rule.param}={rule.separator.join(named)} must find exactly "
           f"those {len(named)}; it found {found} (missing {missing}, others {others}) [{rule.source}]")
