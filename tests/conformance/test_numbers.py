"""Number shapes: each dialect's documented number format and its neighbours (with and without the country
code 55, with and without the mobile ninth digit, a leading +, no DDD) get the documented outcome.

Generated from contracts/catalog/numbers.yaml: a shape added there is tested here with no new test code. Every
shape is built from the target's first valid national number, so it differs from a good request only in the
shape of its number.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest

from smsconform.conformance.codes import assert_answers
from smsconform.conformance.judge import expect
from smsconform.contracts import load_contracts
from smsconform.contracts.catalog import NumberShape

# national: DDD + nine digits (the ninth, the mobile 9, third)
SHAPES: dict[str, Callable[[str], str]] = {
    "national": lambda n: n,
    "national_without_ninth": lambda n: n[:2] + n[3:],
    "country_code": lambda n: "55" + n,
    "country_code_without_ninth": lambda n: "55" + n[:2] + n[3:],
    "plus_country_code": lambda n: "+55" + n,
    "without_ddd": lambda n: n[2:],
}


def _params() -> list[Any]:
    return [pytest.param(r, id=r.id, marks=[pytest.mark.rules(r.id), pytest.mark.dialect(r.dialect)])
            for r in load_contracts().catalog.numbers]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "shape_rule" in metafunc.fixturenames:
        metafunc.parametrize("shape_rule", _params())


def _national(client: Any) -> str:
    number = client.number(0)
    if not (number.isdigit() and len(number) == 11 and number[2] == "9"):
        pytest.fail(f"fixtures.numbers.valid[0] must be a national mobile (DDD + 9 + eight digits), got {number!r}")
    return number


def test_number_shape_gets_its_documented_outcome(shape_rule: NumberShape, sms_clients, sms_contracts) -> None:
    rule, catalog = shape_rule, sms_contracts.catalog
    client = sms_clients(rule.dialect)
    number = SHAPES[rule.shape](_national(client))
    params = {**client.valid_request(rule.operation), rule.param: number}
    result = client.result(rule.operation, client.call(rule.operation, params))
    expected = catalog.code(rule.dialect, rule.operation, rule.answer)
    answered = (catalog.code(rule.dialect, rule.operation, result.code)
                if catalog.has_code(rule.dialect, rule.operation, result.code) else None)
    accepted = answered is not None and answered.success
    if expected.success:
        expect(accepted, rule, f"{rule.id}: {rule.param}={number!r} ({rule.shape}) must be accepted ({expected.wire}"
                               f" {expected.text}), got {result.code!r} ({result.text!r}) [{rule.source}]")
        return
    if expect(not accepted, rule, f"{rule.id}: {rule.param}={number!r} ({rule.shape}) must be refused, got "
                                  f"{result.code!r} ({result.text!r}) [{rule.source}]"):
        assert_answers(expected, result, after=f"{rule.param}={number!r} ({rule.shape}): ")
