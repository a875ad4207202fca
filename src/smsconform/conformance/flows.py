"""Observing a message's statuses: whether an observed sequence is a path of its machine, and which
machine edges a test actually saw (the certification report counts them as exercised transitions)."""
from __future__ import annotations

from collections import deque

from ..contracts import Machine
from .exercised import exercised

# Edges seen by the running test: [machine id, from, to]. The plugin clears it before each test and
# attaches it to the test's report as the user property "transitions".
OBSERVED: list[list[str]] = []


def reachable(machine: Machine, before: str, after: str) -> bool:
    """Whether the machine has a path (of any length) from ``before`` to ``after``."""
    if machine.allows(before, after):
        return True
    seen, queue = {before}, deque([before])
    while queue:
        state = queue.popleft()
        for edge in machine.edges:
            if edge.source == state and edge.target not in seen:
                if edge.target == after:
                    return True
                seen.add(edge.target)
                queue.append(edge.target)
    return False


def path_violation(machine: Machine, observed: list[str]) -> str | None:
    """Why an observed status sequence is not a path of the machine, or None.

    Every status must be a state of the machine. Consecutive observations must be a step the machine allows
    (``Machine.first_illegal_step``) or, since polling and callbacks can miss states (machines.yaml), be
    joined by a path of the graph: what can never happen is a step no path allows, such as a move backwards
    or out of a final state.
    """
    known = {s.code for s in machine.states}
    unknown = [s for s in observed if s not in known]
    if unknown:
        return f"status {unknown[0]!r} is not a state of {machine.id}"
    _record(machine, observed)
    _statuses_seen(machine, observed)
    step = machine.first_illegal_step(observed)
    while step is not None:
        before, after = step
        if not reachable(machine, before, after):
            return f"{machine.id}: no path from {before!r} to {after!r} in the observed sequence {observed}"
        index = next(i for i in range(len(observed) - 1) if (observed[i], observed[i + 1]) == step)
        rest = observed[index + 1:]
        step = machine.first_illegal_step(rest)
        observed = rest
    return None


def _statuses_seen(machine: Machine, observed: list[str]) -> None:
    """Each status the target answered is its status code's rule, exercised (a leading initial state may be
    the caller's own assumption, not an observation, and is left out)."""
    for index, code in enumerate(observed):
        state = machine.state(code)
        if state is None or (index == 0 and state.initial):
            continue
        exercised(f"code:{state.status_codes or machine.status_codes}.{code}")


def _record(machine: Machine, observed: list[str]) -> None:
    for before, after in zip(observed, observed[1:]):
        if before != after and machine.allows(before, after):
            edge = [machine.id, before, after]
            if edge not in OBSERVED:
                OBSERVED.append(edge)
