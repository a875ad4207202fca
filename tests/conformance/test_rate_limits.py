"""Rate limits at their boundaries: after a first call, a second one inside the minute is refused and one
after it is answered ("Esse comando só poderá ser solicitado de 1 em 1 minuto", 002).

Generated from contracts/catalog/rates.yaml: each `calls` entry (30 s, 59 s, 60 s after the first) is one
test. The limits family checks the code a call inside the window gets; this family checks where the window
ends, so a service that counts 30 s, or lets 59 s pass, fails here. The clock moves through the target's
control API; in real mode the wait is real, and is made only when ``time.max_wait`` allows it and it stays
under pools.REAL_WAIT_CAP (a certification run must not wait minutes): otherwise the test is not exercised.
"""
from __future__ import annotations

from typing import Any

import pytest

from smsconform.contracts import load_contracts
from smsconform.conformance.codes import code_params
from smsconform.conformance.judge import expect
from smsconform.conformance.pools import require_real_wait


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "rate_rule" in metafunc.fixturenames:
        rules = [r for r in load_contracts().catalog.families if r.kind == "rate"]
        metafunc.parametrize("rate_rule", code_params(rules))


def test_a_second_call_is_answered_only_once_the_window_has_passed(rate_rule: Any, sms_clients: Any,
                                                                   sms_target: Any, sms_control: Any) -> None:
    rule = rate_rule
    limit = load_contracts().catalog.limit(rule.limit)
    window = 60.0 / (limit.max or 1)
    # the pace before the first call, then the probe's own wait
    require_real_wait(window + rule.after, sms_target, sms_control, rule.id)
    client = sms_clients(rule.dialect)
    params = client.valid_request(rule.operation)
    first = client.result(rule.operation, client.call(rule.operation, params))  # paced: a window since the last
    assert first.success, (f"precondition of {rule.id}: the first {rule.operation} after a quiet minute must be "
                           f"answered (limit:{rule.limit}), got {first} [{rule.source}]")
    client.let_pass(rule.after)
    second = client.result(rule.operation, client.call(rule.operation, params, pace=False))
    answered = second.success is True
    want = "answered" if rule.answered else "refused"
    expect(answered == rule.answered, rule,
           f"{rule.id}: a second {rule.operation} {rule.after:g} s after the first must be {want} (once a minute), "
           f"got {second} [{rule.source}]")
