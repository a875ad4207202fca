"""Every documented value is accepted: for the main account (allowed every mode), a send with each value
acceptance.yaml lists gets the operation's success answer, for every destination.

Generated from contracts/catalog/acceptance.yaml: a value added there is tested here with no new test code.
Refusals are the codes family's; here a refusal is the failure, even one the grammar allows (83 MODALIDADE
DE ENVIO NAO PERMITIDA for f=4). The pool each value bills is test_credits.py's.
"""
from __future__ import annotations

from typing import Any

import pytest

from smsconform.contracts import load_contracts
from smsconform.conformance.codes import code_params
from smsconform.conformance.judge import expect
from smsconform.conformance.pools import top_up
from smsconform.conformance.sends import send

TEXT = "smsconform valor documentado"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "accept_rule" in metafunc.fixturenames:
        rules = [r for r in load_contracts().catalog.families if r.kind == "accept"]
        metafunc.parametrize("accept_rule", code_params(rules))


def test_a_documented_value_is_accepted(accept_rule: Any, sms_clients: Any, sms_control: Any) -> None:
    rule = accept_rule
    top_up(sms_control)
    sent = send(sms_clients, rule.dialect, rule.operation, {**rule.overrides, rule.param: rule.value}, TEXT)
    expect(sent.accepted, rule,
           f"{rule.id}: {rule.dialect}.{rule.operation} with {rule.param}={rule.value} (documented) must be accepted "
           f"for an account allowed every mode; it answered {sent.answer[:300]!r} [{rule.source}]")
