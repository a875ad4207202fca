"""The order of a real-time run: tests that need a rate-limited turn are spread through the run.

painel allows getstatus and getbalance once a minute per account (002). Run one after another, ten tests
that each need a turn wait nine minutes; spread evenly among the other tests, the minute between two of
them is mostly spent running the others, and the pacer (pacer.py) has little left to wait. Only the order
changes: every test still runs, and the pacer still guarantees each call its turn. With a control API the
clock is moved instead, so the order is left as collected.
"""
from __future__ import annotations

import re
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")

# A test needs a turn when a rule it names is about a rate-limited operation, or it runs painel's machine
# (which reads getbalance before and after), or it parses getstatus's data.
PACED_RULE = re.compile(r"painel\.(?:painel_)?get(?:status|balance)|^machine:painel\.|^grammar:painel\.getstatus")


def needs_turn(rules: Sequence[str]) -> bool:
    return any(PACED_RULE.search(rule) for rule in rules)


def spread(items: list[T], paced: Callable[[T], bool]) -> list[T]:
    """``items`` with the paced ones moved to even intervals among the others (each group's own order kept)."""
    turns = [i for i in items if paced(i)]
    others = [i for i in items if not paced(i)]
    if not turns or not others:
        return list(items)
    out: list[T] = []
    step = len(others) / (len(turns) + 1)
    position = 0
    for index, item in enumerate(turns, 1):
        until = round(index * step)
        out += others[position:until]
        position = until
        out.append(item)
    return out + others[position:]
