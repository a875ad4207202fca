"""Observing a message's statuses: whether an observed sequence is a path of its machine, and which
machine edges a test actually saw (the certification report counts them as exercised transitions)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..contracts import Machine
from .exercised import exercised
from .judge import JUDGED_BASES, expect

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
    return _no_path(machine, observed)


def is_path(machine: Machine, observed: list[str]) -> bool:
    """Whether ``observed`` is a path of the machine (as ``path_violation`` reads it), recording nothing: for
    a candidate order of what arrived, not yet an observation."""
    known = {s.code for s in machine.states}
    return all(s in known for s in observed) and _no_path(machine, observed) is None


def _no_path(machine: Machine, observed: list[str]) -> str | None:
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


@dataclass(frozen=True)
class PathProblem:
    """Why an observed sequence is not a path, and what establishes it: the machine's basis when the
    documents (or field notes) fix it, ``inferred`` with the edges' reason when only our inference does."""

    message: str
    basis: str
    reason: str | None = None


def _judged_reach(machine: Machine, before: str, after: str) -> bool:
    """Whether ``after`` follows ``before`` through judged (documented or observed) edges only."""
    seen, queue = {before}, deque([before])
    while queue:
        state = queue.popleft()
        for edge in machine.edges:
            if edge.source == state and edge.basis in JUDGED_BASES and edge.target not in seen:
                if edge.target == after:
                    return True
                seen.add(edge.target)
                queue.append(edge.target)
    return False


def path_problem(machine: Machine, observed: list[str]) -> PathProblem | None:
    """``path_violation`` with the basis of the broken rule (issue 18: per-edge basis).

    A machine is judged as a whole by its basis, but the order of its states may rest on edges we inferred
    (mensagem's statuses come as a list with no order; "waiting before queued" is read from their names).
    A step no path allows is then a failure only when the documents establish the contradiction: a status
    that is no state of the machine, a step out of a final state, or a step backwards along judged edges
    (``after`` leads to ``before`` through documented or observed edges). Otherwise it contradicts only an
    order we inferred: a deviation, with the reason of the inferred edges that made it impossible.
    """
    message = path_violation(machine, observed)
    if message is None:
        return None
    step = _first_unreachable(machine, observed)
    if step is None or machine.basis not in JUDGED_BASES:
        return PathProblem(message, machine.basis, machine.reason)
    before, after = step
    if before in machine.finals or _judged_reach(machine, after, before):
        return PathProblem(message, machine.basis, machine.reason)
    reasons = sorted({e.reason for e in machine.edges if e.basis not in JUDGED_BASES and e.reason
                      and before in (e.source, e.target)} or
                     {e.reason for e in machine.edges if e.basis not in JUDGED_BASES and e.reason})
    reason = "; ".join(reasons) or f"the documents give no order between {before!r} and {after!r}"
    return PathProblem(message, "inferred", f"{machine.id} {before!r} -> {after!r} rests on inferred edges: {reason}")


def _first_unreachable(machine: Machine, observed: list[str]) -> tuple[str, str] | None:
    """The first consecutive pair of ``observed`` (its statuses all states) that no path joins."""
    known = {s.code for s in machine.states}
    if any(s not in known for s in observed):
        return None
    for before, after in zip(observed, observed[1:]):
        if not reachable(machine, before, after):
            return before, after
    return None


def expect_path(machine: Machine, observed: list[str], context: str) -> bool:
    """Hold an observed status sequence to the machine, each broken order judged by its basis
    (``path_problem``); returns whether it was a path, as ``judge.expect`` does."""
    problem = path_problem(machine, observed)
    if problem is None:
        return True
    return expect(False, machine, f"{context}: {problem.message} [{machine.source}]", basis=problem.basis,
                  reason=problem.reason)


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
