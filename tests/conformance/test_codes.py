"""Family 3, codes: every code the catalog says how to reach is reached, and answered exactly.

Generated from contracts/catalog/codes.yaml: a code added there with a trigger is tested here with no new
test code. Codes reached only through a state (a sent message, a held campaign) are checked by the flow
families, except a status code a trigger reads `via` the operation answering it; codes without a trigger are
reported as not exercised.
"""
from __future__ import annotations

import pytest

from smsconform.contracts import Code, load_contracts
from smsconform.conformance.codes import STATUS_TABLES, assert_answers, code_params
from smsconform.conformance.triggers import plan_for

TEXT_DIALECTS = ("mensagem", "speedmarket", "painel", "fcati", "wbsapi", "servicesms")


def _codes() -> list[Code]:
    return [
        c for c in load_contracts().catalog.codes
        if c.dialect in TEXT_DIALECTS and c.trigger is not None and (c.operation not in STATUS_TABLES or "via" in c.trigger)
        and "state" not in c.trigger and "fault" not in c.trigger
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "code_rule" in metafunc.fixturenames:
        metafunc.parametrize("code_rule", code_params(_codes()))


def test_code_is_answered_exactly(code_rule: Code, sms_clients, sms_contracts) -> None:
    client = sms_clients(code_rule.dialect)
    plan = plan_for(code_rule, client, sms_contracts.catalog)
    exchange = client.call(plan.operation, plan.params, plan.account)
    result = client.result(plan.operation, exchange)
    assert_answers(code_rule, result)
