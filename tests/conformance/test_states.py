"""Family 3, codes that need a state first: a message waiting, sent, failed, held or cancelled; a login
that exists; a provider under maintenance; a refusal the platform makes on its own (a `fault`, through the
control API). Generated from the catalog's triggers with a `state` or a `fault`."""
from __future__ import annotations

import pytest

from smsconform.conformance.codes import STATUS_TABLES, assert_answers, code_params
from smsconform.conformance.states import plan_with_state
from smsconform.contracts import Code, load_contracts


def _codes() -> list[Code]:
    return [c for c in load_contracts().catalog.codes
            if c.trigger and ("state" in c.trigger or "fault" in c.trigger) and c.dialect != "smpp"
            and c.operation not in STATUS_TABLES]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "state_code" in metafunc.fixturenames:
        metafunc.parametrize("state_code", code_params(_codes()))


def test_code_after_its_state(state_code: Code, sms_clients, sms_control) -> None:
    client = sms_clients(state_code.dialect)
    plan, context = plan_with_state(state_code, client, sms_control)
    with context():
        exchange = client.call(plan.operation, plan.params, plan.account)
    result = client.result(plan.operation, exchange)
    before = (f"after state {state_code.trigger['state']!r} " if "state" in state_code.trigger
              else f"under fault {state_code.trigger['fault']!r} ")
    assert_answers(state_code, result, after=before)
