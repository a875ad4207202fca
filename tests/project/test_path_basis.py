"""A machine is judged by its basis, each broken order by the edges that establish it (issue 18).

mensagem's statuses are documented as a list with no order: "waiting before queued" is our reading of
their names (machines.yaml, edges with basis inferred). A target that shows a documented status in an order
only our inference forbids deviates; one that leaves a final state, goes backwards along documented edges
or answers a status the machine does not have fails.
"""
from __future__ import annotations

from typing import Iterator

import pytest

from smsconform.contracts import load_contracts
from smsconform.contracts.catalog import Edge, Machine, Source, State
from smsconform.conformance import judge
from smsconform.conformance.flows import OBSERVED, expect_path, path_problem

CATALOG = load_contracts().catalog


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    judge.DEVIATIONS.clear()
    judge.set_strict(False)
    yield
    judge.DEVIATIONS.clear()
    judge.set_strict(False)
    OBSERVED.clear()


def _chain(basis: str) -> Machine:
    """a -> b -> c, documented machine; the edges of ``basis``; c final."""
    states = (State("a", "a", initial=True), State("b", "b"), State("c", "c", final=True))
    edges = (Edge("a", "b", "first", basis, None if basis != "inferred" else "read from the names"),
             Edge("b", "c", "then", basis, None if basis != "inferred" else "read from the names"))
    return Machine(id="machine:test.chain", dialect="mensagem", source=Source("003_68e2ce3a2fd1e408.txt", "x"),
                   basis="documented", reason=None, name="test.chain", entity="message", status_codes="x.y",
                   states=states, edges=edges)


def test_a_path_is_no_problem() -> None:
    assert path_problem(CATALOG.machine("mensagem.message"), ["0", "3", "1"]) is None
    assert expect_path(CATALOG.machine("mensagem.message"), ["0", "0", "9"], "ctx") is True


def test_an_order_only_inferred_edges_forbid_is_a_deviation() -> None:
    machine = CATALOG.machine("mensagem.message")   # documented; 0 -> 3 inferred
    problem = path_problem(machine, ["0", "3", "0"])
    assert problem is not None and problem.basis == "inferred"
    assert "the status lists give no order" in (problem.reason or "")
    assert expect_path(machine, ["0", "3", "0"], "message m") is False
    [deviation] = judge.DEVIATIONS
    assert deviation["rule"] == "machine:mensagem.message" and deviation["basis"] == "inferred"
    assert "message m" in deviation["message"] and deviation["reason"] == problem.reason


def test_inferred_edges_are_judged_with_strict() -> None:
    judge.set_strict(True)
    with pytest.raises(AssertionError, match="no path from '3' to '0'"):
        expect_path(CATALOG.machine("mensagem.message"), ["0", "3", "0"], "message m")


def test_leaving_a_final_state_of_a_documented_machine_fails() -> None:
    with pytest.raises(AssertionError, match="no path from '9' to '0'"):
        expect_path(CATALOG.machine("mensagem.message"), ["0", "9", "0"], "message m")
    assert judge.DEVIATIONS == []


def test_a_status_the_machine_lacks_fails() -> None:
    with pytest.raises(AssertionError, match="not a state"):
        expect_path(CATALOG.machine("mensagem.message"), ["0", "42"], "message m")


@pytest.mark.parametrize("basis, judged", [("documented", True), ("observed", True), ("inferred", False)])
def test_a_step_backwards_is_judged_by_the_edges_it_goes_against(basis: str, judged: bool) -> None:
    machine = _chain(basis)
    problem = path_problem(machine, ["a", "b", "a"])
    assert problem is not None
    assert (problem.basis in judge.JUDGED_BASES) is judged, problem


def test_an_inferred_machine_deviates_as_a_whole() -> None:
    machine = CATALOG.machine("painel.campaign")   # basis inferred
    assert expect_path(machine, ["done", "waiting"], "campaign c") is False
    assert judge.DEVIATIONS[0]["rule"] == "machine:painel.campaign"
