"""Isolation between accounts: another account's request for the main account's message or campaign gets the
operation's not-found answer, learns nothing of it, and leaves it unchanged.

Generated from contracts/catalog/isolation.yaml: an operation added there is tested here with no new test code.
The foreign caller is the target profile's `second` account fixture; without it the rules are not exercised.
"""
from __future__ import annotations

from typing import Any

import pytest

from smsconform.conformance.codes import assert_answers
from smsconform.conformance.judge import expect
from smsconform.conformance.states import build_state
from smsconform.conformance.triggers import Plan
from smsconform.contracts import load_contracts
from smsconform.contracts.catalog import Isolation

SECOND = "second"


def _params() -> list[Any]:
    catalog = load_contracts().catalog
    return [pytest.param(r, id=r.id, marks=[pytest.mark.rules(r.id, f"code:{r.dialect}.{r.operation}.{r.answer}"),
                                            pytest.mark.dialect(r.dialect)]) for r in catalog.isolation]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "isolation_rule" in metafunc.fixturenames:
        metafunc.parametrize("isolation_rule", _params())


def _owners_object(rule: Isolation, client: Any, control: Any) -> Plan:
    if rule.state:
        return build_state(rule.state, client, control, rule.operation, rule.id)
    return Plan(rule.operation, "main", client.valid_request(rule.operation))


def test_another_account_cannot_reach_the_object(isolation_rule: Isolation, sms_clients, sms_control,
                                                 sms_contracts) -> None:
    rule, catalog = isolation_rule, sms_contracts.catalog
    client = sms_clients(rule.dialect)
    client.credentials(SECOND)  # NotExercised when the target profile has no second account
    plan = _owners_object(rule, client, sms_control)
    number = client.number(0)
    exchange = client.call(plan.operation, plan.params, SECOND)
    assert_answers(catalog.code(rule.dialect, rule.operation, rule.answer), client.result(plan.operation, exchange),
                   after="asked by another account for the main account's object: ")
    if rule.conceals_number:
        expect(number not in exchange.text, rule,
               f"{rule.id}: another account's answer carries the owner's destination {number}: {exchange.text[:300]!r}"
               f" [{rule.source}]")
    if rule.owner_after:
        operation, code = rule.owner_after["operation"], rule.owner_after["code"]
        expected = catalog.code(rule.dialect, operation, code)
        after = client.result(operation, client.call(operation, plan.params, plan.account))
        expect(after.code == expected.wire, rule,
               f"{rule.id}: after another account's {rule.operation}, the owner's {operation} answers {after.code!r}"
               f" ({after.text!r}), not {expected.wire} ({expected.text}): the owner's object changed [{rule.source}]")
        if rule.owner_after.get("shows_number"):
            mine = client.call(operation, plan.params, plan.account).text
            expect(number in mine, rule,
                   f"{rule.id}: after another account's {rule.operation}, the owner's {operation} no longer carries"
                   f" {number}: {mine[:300]!r} [{rule.source}]")
