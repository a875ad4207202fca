"""judge.expect: a judged rule's mismatch fails, an inferred one is a deviation that reaches the reports."""
from __future__ import annotations

import pytest

from smsconform.conformance import judge
from smsconform.contracts import load_contracts


@pytest.fixture(autouse=True)
def _clean():
    judge.DEVIATIONS.clear()
    judge.set_strict(False)
    yield
    judge.DEVIATIONS.clear()
    judge.set_strict(False)


def _rule(basis: str):
    return next(c for c in load_contracts().catalog.codes if c.basis == basis)


def test_a_documented_mismatch_fails():
    with pytest.raises(AssertionError, match="wrong"):
        judge.expect(False, _rule("documented"), "wrong")
    assert judge.DEVIATIONS == []


def test_an_observed_mismatch_fails():
    with pytest.raises(AssertionError):
        judge.expect(False, _rule("observed"), "wrong")


def test_an_inferred_mismatch_is_a_deviation_with_its_reason():
    rule = _rule("inferred")
    assert judge.expect(False, rule, "other text") is False
    assert judge.DEVIATIONS == [{"rule": rule.id, "basis": "inferred", "message": "other text",
                                 "reason": rule.reason}]


def test_strict_judges_inferred_rules():
    judge.set_strict(True)
    with pytest.raises(AssertionError):
        judge.expect(False, _rule("inferred"), "other text")


def test_a_basis_override_judges_one_part_on_its_own_basis():
    rule = _rule("documented")
    assert judge.expect(False, rule, "text differs", basis="inferred") is False
    assert judge.DEVIATIONS[0]["basis"] == "inferred"


def test_a_rule_id_is_looked_up_for_its_basis():
    rule = _rule("inferred")
    judge.expect(False, rule.id, "m")
    assert judge.DEVIATIONS[0]["rule"] == rule.id
    with pytest.raises(AssertionError):
        judge.expect(False, "openapi:fcati.saldo", "not in the catalog: judged")
