"""Family 3, codes that need a state first: a message waiting, sent, failed, held or cancelled; a login
that exists; a provider under maintenance. Generated from the catalog's triggers with a `state`."""
from __future__ import annotations

import pytest

from smsconform.conformance.states import plan_with_state
from smsconform.contracts import Code, load_contracts

STATUS_TABLES = ("message-status", "callback-status", "callback-dlr", "campaign-status")


def _codes() -> list[Code]:
    return [c for c in load_contracts().catalog.codes
            if c.trigger and "state" in c.trigger and c.dialect != "smpp" and c.operation not in STATUS_TABLES]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "state_code" in metafunc.fixturenames:
        metafunc.parametrize("state_code", [
            pytest.param(c, id=c.id, marks=[pytest.mark.rules(c.id), pytest.mark.dialect(c.dialect)])
            for c in _codes()
        ])


def test_code_after_its_state(state_code: Code, sms_clients, sms_control) -> None:
    client = sms_clients(state_code.dialect)
    plan, context = plan_with_state(state_code, client, sms_control)
    with context():
        exchange = client.call(plan.operation, plan.params, plan.account)
    result = client.result(plan.operation, exchange)
    assert result.code == state_code.wire, (
        f"{state_code.id}: after state {state_code.trigger['state']!r} expected {state_code.wire}"
        f" ({state_code.text}), got {result.code!r} ({result.text!r}) [{state_code.source}]"
    )
    if result.text is not None:
        assert result.text == state_code.text, (
            f"{state_code.id}: must read {state_code.text!r} verbatim, got {result.text!r} [{state_code.source}]")
