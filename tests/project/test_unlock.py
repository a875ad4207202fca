"""Every not-exercised reason the suite gives reads back as the profile entry or option that would reach it."""
from __future__ import annotations

import pytest

from smsconform.reports.html import _ways
from smsconform.reports.unlock import group, lines, way_of


@pytest.mark.parametrize(("reason", "key"), [
    ("the target profile has no fixture account 'no_credits' for mensagem", "fixtures.accounts.no_credits"),
    ("the target profile has no fixture numbers.blacklisted", "fixtures.numbers.blacklisted"),
    ("the target profile has no fixture numbers.outcome_invalid[0]", "fixtures.numbers.outcome_invalid"),
    ("the target profile lists no valid numbers (fixtures.numbers.valid)", "fixtures.numbers.valid"),
    ("state 'sent' needs a target with a control API (time.mode = \"control\")", "time.control_url"),
    ("registering mensagem callback URLs needs the target's control API (the providers ...)", "time.control_url"),
    ("the target does not offer speedmarket.mo_new", "dialects.speedmarket.operations"),
    ("the target does not offer smpp", "dialects.smpp"),
    ("dialect painel not selected", "certify --dialect painel"),
    ("deadline: the run's time (certify --max-time) was up before this test started", "certify --max-time"),
    ("rate limit: painel.getstatus is allowed once every 60 s; its next turn is 70 s away", "time.max_wait"),
    ("code:mensagem.callback-dlr.8 has no trigger in the catalog", "suite"),
    ("the target profile declares no SMPP rate ([smpp] max_rate)", "smpp.max_rate"),
    ("limit:painel.getstatus.rate: limits in per_minute are checked by their own flow test", "suite"),
    ("something nobody foresaw", "other"),
])
def test_each_reason_names_what_would_reach_it(reason: str, key: str) -> None:
    assert way_of(reason)[0] == key


def test_rules_are_grouped_by_way_largest_first_and_rendered() -> None:
    rules = [
        {"id": "code:a.1", "status": "not exercised", "not_exercised": ["the target profile has no fixture account 'no_credits' for a"]},
        {"id": "code:a.2", "status": "not exercised", "not_exercised": ["the target profile has no fixture account 'no_credits' for b"]},
        {"id": "code:a.3", "status": "not exercised", "not_exercised": ["state 'sent' needs a target with a control API"]},
        {"id": "code:a.4", "status": "passed"},
    ]
    groups = group(rules)
    assert [(g["key"], g["rules"]) for g in groups] == [("fixtures.accounts.no_credits", 2), ("time.control_url", 1)]
    assert lines(groups)[0] == ("  would be exercised with a test account 'no_credits' "
                                "(fixtures.accounts.no_credits): 2 rules")
    html = _ways(groups)
    assert "<table id='ways'>" in html and "fixtures.accounts.no_credits" in html
    assert "a control API (time.control_url)" in html


def test_unforeseen_reasons_are_not_merged_under_one_label() -> None:
    rules = [{"id": "r1", "status": "not exercised", "not_exercised": ["reason one"]},
             {"id": "r2", "status": "not exercised", "not_exercised": ["reason two"]}]
    assert sorted(g["label"] for g in group(rules)) == ["other: reason one", "other: reason two"]
