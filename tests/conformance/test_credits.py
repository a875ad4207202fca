"""Credits across the lifecycle: what a send debits, from which pool, and what a cancel gives back.

Generated from contracts/catalog/credits.yaml (families ``message``, ``parts``, ``refund``) and the pools of
acceptance.yaml (``credit:<dialect>.<operation>.<param>.<value>``): an entry added there is tested here with
no new test code. Every step reads the dialect's own balance before and after (crdtf, balance, getbalance,
fcati saldo; conformance/pools.py), on the main account. Each check goes through ``judge.expect`` with its
rule's basis: a per-part price or a refund we inferred is a deviation when a target differs, what the
documents state (speedmarket's one credit per one-part message, a pool named by the documents) a failure.
"""
from __future__ import annotations

from typing import Any

import pytest

from smsconform.contracts import load_contracts
from smsconform.conformance.clients.base import NotExercised
from smsconform.conformance.codes import code_params
from smsconform.conformance.judge import expect
from smsconform.conformance.pools import changes, read_pools, require_reading, top_up
from smsconform.conformance.sends import send, text_of

# How each dialect cancels one of its messages: the operation, its hash parameter, the cancelled status.
CANCELS = {"mensagem": ("cacl", "h", "9"), "wbsapi": ("cancel", "Hash", "9")}


def _credits(*families: str) -> list[Any]:
    return [r for r in load_contracts().catalog.families if r.kind == "credit" and r.family in families]


def _case_params() -> list[Any]:
    return [pytest.param(rule, case, id=f"{rule.id}[{case.alphabet}-{case.chars}]",
                         marks=[pytest.mark.rules(rule.id), pytest.mark.dialect(rule.dialect)])
            for rule in _credits("message", "parts") for case in rule.cases]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "parts_case" in metafunc.fixturenames:
        metafunc.parametrize("credit_rule,parts_case", _case_params())
    elif "pool_rule" in metafunc.fixturenames:
        metafunc.parametrize("pool_rule", code_params(_credits("pool")))
    elif "refund_rule" in metafunc.fixturenames:
        metafunc.parametrize("refund_rule", code_params(_credits("refund")))


def _others_moved(drops: dict[str, float], pool: str) -> dict[str, float]:
    return {name: drop for name, drop in drops.items() if name != pool and drop != 0}


def test_a_send_costs_per_message_and_part(credit_rule: Any, parts_case: Any, sms_clients: Any, sms_target: Any,
                                           sms_control: Any) -> None:
    rule, text = credit_rule, text_of(parts_case.alphabet, parts_case.chars)
    require_reading(rule.reading, sms_target, sms_control, rule.id)
    top_up(sms_control)
    before = read_pools(sms_clients, rule.reading)
    sent = send(sms_clients, rule.dialect, rule.operation, rule.overrides, text)
    if not sent.accepted:
        if rule.basis != "inferred":
            raise AssertionError(f"{rule.id}: a valid {parts_case.chars}-character {parts_case.alphabet} send was "
                                 f"refused: {sent.answer[:300]!r} [{rule.source}]")
        raise NotExercised(f"{rule.id}: the target refused a {parts_case.chars}-character {parts_case.alphabet} "
                           f"text, so it has no price to compare: {sent.answer[:200]!r}")
    drops = changes(before, read_pools(sms_clients, rule.reading))
    due = parts_case.parts * (rule.per_part or 1) * sent.destinations
    expect(drops[rule.pool] == due, rule,
           f"{rule.id}: {sent.destinations} destination(s) of a {parts_case.chars}-character {parts_case.alphabet} "
           f"text ({parts_case.parts} part(s)) must debit {due} from {rule.pool}, it debited {drops[rule.pool]:g} "
           f"[{rule.source}]")
    moved = _others_moved(drops, rule.pool)
    expect(not moved, rule, f"{rule.id}: the send must draw from {rule.pool} only; it also moved {moved} [{rule.source}]")


def test_a_value_draws_from_its_pool_only(pool_rule: Any, sms_clients: Any, sms_target: Any,
                                          sms_control: Any) -> None:
    rule = pool_rule
    require_reading(rule.reading, sms_target, sms_control, rule.id)
    top_up(sms_control)
    before = read_pools(sms_clients, rule.reading)
    sent = send(sms_clients, rule.dialect, rule.operation, rule.overrides, "smsconform pool de creditos")
    if not sent.accepted:
        raise NotExercised(f"{rule.id}: the send was refused (see accept:{rule.id.split(':', 1)[1]}), so it drew "
                           f"from no pool: {sent.answer[:200]!r}")
    drops = changes(before, read_pools(sms_clients, rule.reading))
    expect(drops[rule.pool] > 0, rule,
           f"{rule.id}: a send with {rule.overrides} must be billed to {rule.pool}; the pools moved by {drops} "
           f"[{rule.source}]")
    moved = _others_moved(drops, rule.pool)
    expect(not moved, rule, f"{rule.id}: a send with {rule.overrides} must draw from {rule.pool} only; it also "
                            f"moved {moved} [{rule.source}]")


def test_a_cancelled_message_gives_its_debit_back(refund_rule: Any, sms_clients: Any, sms_target: Any,
                                                  sms_control: Any) -> None:
    rule = refund_rule
    require_reading(rule.reading, sms_target, sms_control, rule.id)
    operation, param, cancelled = CANCELS[rule.dialect]
    client = sms_clients(rule.dialect)
    top_up(sms_control)
    start = read_pools(sms_clients, rule.reading)
    digest = client.send_one(scheduled=True)    # a day ahead: still waiting, so it may be cancelled
    sent = read_pools(sms_clients, rule.reading)
    debit = start[rule.pool] - sent[rule.pool]
    if debit <= 0:
        raise NotExercised(f"{rule.id}: the send debited nothing from {rule.pool} on this target; nothing to refund")
    answer = client.call(operation, {param: digest})
    status = client.result(operation, answer)
    assert status.code == cancelled, (
        f"precondition: {rule.dialect}.{operation} must cancel a waiting message ({cancelled}), got {status} "
        f"[code:{rule.dialect}.{operation}.{cancelled}; 003 § Cancelamento de Mensagens: 'Somente mensagens com status "
        "de aguardando envio estão aptas']")
    after = read_pools(sms_clients, rule.reading)
    expect(after[rule.pool] == start[rule.pool], rule,
           f"{rule.id}: the cancel must give back the {debit:g} credit(s) the send took from {rule.pool}: "
           f"{start[rule.pool]:g} before the send, {sent[rule.pool]:g} after it, {after[rule.pool]:g} after the "
           f"cancel [{rule.source}]")
