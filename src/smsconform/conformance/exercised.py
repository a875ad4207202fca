"""Rules a test reached at run time, beyond those its `rules` marker names.

A marker is written before the test runs; some tests learn only while running which rules they reached (a
status observed in a callback is that status code's rule, seen on the target). ``exercised(rule_id, ...)``
records them; the plugin clears the list before each test and adds them to the rules the test's report
names, so reports, the JUnit file and the self-check count them like marker rules: passed only if that test
passed.
"""
from __future__ import annotations

EXERCISED: list[str] = []


def exercised(*rule_ids: str) -> None:
    for rule_id in rule_ids:
        if rule_id not in EXERCISED:
            EXERCISED.append(rule_id)
