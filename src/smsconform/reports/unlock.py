"""What would reach a rule a run did not: the fixture, profile entry or option each not-exercised reason names.

A list of 235 tests "not exercised" tells a sandbox's QA nothing to do. Every reason the suite gives
(clients/base.py NotExercised, states.py, the families) names what was missing; this module reads that back
as the profile key or certify option that supplies it, and counts the rules each would reach, so the
reports can say "a test account 'no_credits' (fixtures.accounts.no_credits): 7 rules".
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Iterable

# (pattern on the reason, profile key or option, how the reports name it); the first match wins.
WAYS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"^deadline\b"), "certify --max-time", "more time for the run (certify --max-time)"),
    (re.compile(r"^dialect (\w+) not selected"), "certify --dialect {0}", "the dialect {0} selected (--dialect)"),
    (re.compile(r"fixture account '([a-z_]+)'"), "fixtures.accounts.{0}", "a test account '{0}' (fixtures.accounts.{0})"),
    (re.compile(r"fixtures?[. ]numbers\.([a-z_]+)"), "fixtures.numbers.{0}", "a test number '{0}' (fixtures.numbers.{0})"),
    (re.compile(r"^rate limit\b|max_wait"), "time.max_wait", "a longer wait (time.max_wait)"),
    (re.compile(r"\[smpp\] max_rate"), "smpp.max_rate", "the SMSC's promised rate (smpp.max_rate)"),
    (re.compile(r"control API|time\.mode = \"control\"|clock the suite can move|inject_mo"),
     "time.control_url", "a control API (time.control_url)"),
    (re.compile(r"does not offer (\w+)\.([\w-]+)"), "dialects.{0}.operations", "the operation {0}.{1} offered (dialects.{0}.operations)"),
    (re.compile(r"does not offer (\w+)"), "dialects.{0}", "the dialect {0} in the profile (dialects.{0})"),
    (re.compile(r"has no trigger in the catalog|no test names this rule|no valid request is known|no way to build"
                r"|checked by (?:their own flow|family)|needs the suite to"),
     "suite", "a trigger or test the suite does not have yet (no profile entry reaches it)"),
)
OTHER = "other"


def way_of(reason: str) -> tuple[str, str]:
    """(key, label) of what would exercise a rule not exercised for ``reason``."""
    for pattern, key, label in WAYS:
        found = pattern.search(reason)
        if found:
            return key.format(*found.groups()), label.format(*found.groups())
    return OTHER, f"other: {reason}"


def group(rules: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The not-exercised catalog rules grouped by what would reach them, the largest group first. A rule
    counts once per distinct way (a rule two tests skipped for two reasons is in both groups)."""
    found: dict[str, dict[str, Any]] = {}
    members: dict[str, set[str]] = defaultdict(set)
    for rule in rules:
        if rule.get("status") != "not exercised":
            continue
        for reason in rule.get("not_exercised") or ["no test names this rule"]:
            key, label = way_of(str(reason))
            group_id = label if key == OTHER else key  # each unforeseen reason is a group of its own
            found.setdefault(group_id, {"key": key, "label": label})
            members[group_id].add(str(rule["id"]))
    out = [{**found[g], "rules": len(ids), "rule_ids": sorted(ids)} for g, ids in members.items()]
    return sorted(out, key=lambda g: (-g["rules"], g["key"], g["label"]))


def lines(groups: list[dict[str, Any]], limit: int = 12) -> list[str]:
    """certify's closing lines: ``  not exercised: <label>: N rules``."""
    out = [f"  would be exercised with {g['label']}: {g['rules']} rule{'s' if g['rules'] != 1 else ''}"
           for g in groups[:limit]]
    if len(groups) > limit:
        out.append(f"  ... and {len(groups) - limit} more ways (results.json: not_exercised_by)")
    return out
